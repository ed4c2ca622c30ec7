#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: prometheus_targets_check
short_description: Check that a running Prometheus scrapes the expected targets successfully
version_added: 0.1.0
description:
  - Read the active scrape targets of a running Prometheus server (C(/api/v1/targets?state=active))
    and check that every expected target is up, asking again until O(wait_timeout) passes.
  - Fails with a message listing every target that is not up with its last scrape error, and
    every expectation that no target matches (unless O(fail_on_problems=false)).
  - Prometheus needs one scrape interval after a start or reload before targets are up; set
    O(wait_timeout) to wait for it.
  - Read-only; the module never changes anything.
author:
  - ilp.observability maintainers (!UNKNOWN)
options:
  expected:
    description:
      - The targets that must be up. Each entry selects the active targets of one job, optionally
        narrowed by instance and labels.
      - Without O(expected[].count), at least one target must match the entry and every matching
        target must be up. With O(expected[].count), at least that many matching targets must be
        up, and others may be down.
      - When empty, every active target must be up.
    type: list
    elements: dict
    default: []
    suboptions:
      job:
        description:
          - Value of the C(job) label of the targets (the C(job_name) of the scrape configuration,
            unless relabelled).
        type: str
        required: true
      instance:
        description:
          - Value of the C(instance) label, usually C(host:port) of the target.
        type: str
      labels:
        description:
          - Labels the targets must have, after relabelling, with these exact values.
        type: dict
        default: {}
      count:
        description:
          - Minimum number of matching targets that must be up.
        type: int
  probes:
    description:
      - A target of a probe job (blackbox_exporter, scraped at C(/probe) with a C(target) label) is
        up only when its last probe succeeded; the scrape of the prober succeeding says nothing of
        the endpoint it probed. Its C(probe_success) is read with one instant query
        (C(/api/v1/query)), only when such targets exist; a failed probe shows as
        C(lastError) C(probe of <target> failed).
      - V(false) counts a probe target as up when the prober answered, as Prometheus does.
    type: bool
    default: true
extends_documentation_fragment:
  - ilp.observability.http_api
  - ilp.observability.http_api.check
  - ilp.observability.http_api.read_only_attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
seealso:
  - module: ilp.observability.prometheus_rules_check
  - name: Prometheus HTTP API, targets
    description: The C(/api/v1/targets) endpoint this module reads.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/#targets
"""

EXAMPLES = r"""
- name: Wait until Prometheus scrapes itself and every node_exporter of the fleet
  ilp.observability.prometheus_targets_check:
    url: http://127.0.0.1:9090
    expected:
      - job: prometheus
      - job: node
        count: "{{ groups['ilp_connectors'] | length }}"
    wait_timeout: 120
    wait_interval: 2

- name: Wait for one connector, selected by instance and label
  ilp.observability.prometheus_targets_check:
    url: https://prometheus.example.com:9090
    url_username: ansible
    url_password: "{{ vault_prometheus_password }}"
    expected:
      - job: ilp_connector
        instance: connector-1.example.com:7771
        labels:
          ilp_network: testnet

- name: Record which targets are down without failing
  ilp.observability.prometheus_targets_check:
    url: http://127.0.0.1:9090
    fail_on_problems: false
  register: scrape_state

- name: Show the targets that are down
  ansible.builtin.debug:
    msg: "{{ scrape_state.down | map(attribute='scrapeUrl') | list }}"
"""

RETURN = r"""
ok:
  description: Whether every expected target is up.
  returned: always
  type: bool
problems:
  description: Every problem found by the last attempt; empty when the check passed.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description:
        - C(target_down) a selected target is not up (its RV(down) entry has the last scrape error);
          C(missing_target) an expectation that too few targets match (its RV(missing) entry);
          C(request_failed) a request failed (the module then fails).
      type: str
    subject:
      description: C(<job>/<instance>) of the target, or the job of the expectation.
      type: str
    message:
      description: One sentence naming the problem.
      type: str
  sample:
    - kind: target_down
      subject: node/10.0.0.12:9100
      message: "target job 'node' instance '10.0.0.12:9100' (http://10.0.0.12:9100/metrics) is down: connection refused"
http_calls:
  description: HTTP requests sent to Prometheus, over every attempt.
  returned: always
  type: int
  sample: 1
targets:
  description: Every active target of the server, from the last check.
  returned: when the targets could be read
  type: list
  elements: dict
  contains:
    job:
      description: Value of the C(job) label (the scrape pool when the label is absent).
      type: str
      sample: prometheus
    instance:
      description: Value of the C(instance) label.
      type: str
      sample: "127.0.0.1:9090"
    health:
      description: C(up), C(down) or C(unknown) (not scraped yet).
      type: str
      sample: up
    lastError:
      description: Error of the last scrape, empty when it succeeded.
      type: str
      sample: 'Get "http://127.0.0.1:1/metrics": dial tcp 127.0.0.1:1: connect: connection refused'
    scrapeUrl:
      description: URL Prometheus scrapes.
      type: str
      sample: http://127.0.0.1:9090/metrics
    scrapePool:
      description: Scrape pool (job name of the scrape configuration).
      type: str
      sample: prometheus
    lastScrape:
      description: Time of the last scrape.
      type: str
      sample: "2026-11-22T19:05:57.555070513Z"
    labels:
      description: Target labels after relabelling.
      type: dict
      sample: {"instance": "127.0.0.1:9090", "job": "prometheus"}
up:
  description:
    - The targets selected by O(expected) (all targets when it is empty) that are up, with the
      same keys as RV(targets).
  returned: when the targets could be read
  type: list
  elements: dict
down:
  description:
    - The targets selected by O(expected) (all targets when it is empty) that are not up, with the
      same keys as RV(targets).
  returned: when the targets could be read
  type: list
  elements: dict
missing:
  description: The expectations of O(expected) that too few targets match, each with what was found.
  returned: when the targets could be read
  type: list
  elements: dict
  contains:
    job:
      description: Job of the expectation.
      type: str
    instance:
      description: Instance of the expectation, or null.
      type: str
    labels:
      description: Labels of the expectation.
      type: dict
    count:
      description: Count of the expectation, or null.
      type: int
    found:
      description: Number of active targets matching the expectation.
      type: int
    message:
      description: Why the expectation is not met.
      type: str
  sample:
    - job: ilp_connector
      instance: null
      labels: {}
      count: null
      found: 0
      message: "no active target for job 'ilp_connector' (jobs found: dead, prometheus)"
elapsed:
  description: Seconds until every expected target was up, or spent waiting when they were not.
  returned: always
  type: float
  sample: 3.1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ilp.observability.plugins.module_utils.http_api import (
    fail_on_request_error,
    module_kwargs,
    problem,
    run_check,
)
from ansible_collections.ilp.observability.plugins.module_utils.prometheus_api import (
    PrometheusAPI,
    PrometheusAPIError,
)

TARGETS_PATH = '/api/v1/targets'


def summarize_target(target):
    labels = target.get('labels') or {}
    return dict(
        job=labels.get('job', target.get('scrapePool')),
        instance=labels.get('instance'),
        health=target.get('health'),
        lastError=target.get('lastError') or '',
        scrapeUrl=target.get('scrapeUrl'),
        scrapePool=target.get('scrapePool'),
        lastScrape=target.get('lastScrape'),
        labels=labels,
    )


def describe_expectation(exp):
    text = "job '%s'" % exp['job']
    if exp.get('instance'):
        text += " instance '%s'" % exp['instance']
    if exp.get('labels'):
        text += ' labels %s' % ', '.join('%s=%s' % (k, v) for k, v in sorted(exp['labels'].items()))
    return text


def describe_target(target):
    text = "target job '%s' instance '%s'" % (target['job'], target['instance'])
    if target.get('scrapeUrl'):
        text += ' (%s)' % target['scrapeUrl']
    text += ' is %s' % (target['health'] or 'unknown')
    if target['lastError']:
        text += ': %s' % target['lastError']
    elif target['health'] == 'unknown':
        text += ': not scraped yet'
    return text


def matches(exp, target):
    if target['job'] != exp['job']:
        return False
    if exp.get('instance') and target['instance'] != exp['instance']:
        return False
    labels = target['labels']
    for key, value in (exp.get('labels') or {}).items():
        if key not in labels or str(labels[key]) != str(value):
            return False
    return True


def is_probe(target):
    return bool(target['labels'].get('target')) and '/probe' in str(target.get('scrapeUrl') or '')


def mark_failed_probes(api, targets):
    """Targets of probe jobs that are up but whose last probe failed become down."""
    probes = [t for t in targets if t['health'] == 'up' and is_probe(t)]
    if not probes:
        return
    data = api.get_data('/api/v1/query', dict(query='probe_success == 0'))
    failed = set()
    for sample in (data or {}).get('result') or []:
        labels = sample.get('metric') or {}
        failed.add((labels.get('job'), labels.get('instance'), labels.get('target')))
    for target in probes:
        if (target['job'], target['instance'], target['labels'].get('target')) in failed:
            target['health'] = 'down'
            target['lastError'] = 'probe of %s failed (probe_success 0)' % target['labels']['target']


def evaluate_targets(data, expected, api=None):
    """Check the ``data`` of /api/v1/targets against ``expected``.

    Returns ``(targets, up, down, missing, satisfied)``.
    """
    targets = [summarize_target(t) for t in (data or {}).get('activeTargets') or []]
    if api is not None:
        mark_failed_probes(api, targets)
    missing = []
    satisfied = True
    if expected:
        selected = set()
        for exp in expected:
            found = [i for i, t in enumerate(targets) if matches(exp, t)]
            selected.update(found)
            n_up = len([i for i in found if targets[i]['health'] == 'up'])
            count = exp.get('count')
            if not found or (count is not None and len(found) < count):
                satisfied = False
                if not found:
                    jobs = sorted(set(str(t['job']) for t in targets))
                    msg = 'no active target for %s (jobs found: %s)' % (describe_expectation(exp), ', '.join(jobs) or 'none')
                else:
                    msg = '%s: expected at least %d up target(s), only %d target(s) found (%d up)' % (
                        describe_expectation(exp), count, len(found), n_up)
                missing.append(dict(job=exp['job'], instance=exp.get('instance'), labels=exp.get('labels') or {},
                                    count=count, found=len(found), message=msg))
            elif count is not None:
                satisfied = satisfied and n_up >= count
            else:
                satisfied = satisfied and n_up == len(found)
        relevant = [targets[i] for i in sorted(selected)]
    else:
        relevant = targets
        satisfied = all(t['health'] == 'up' for t in targets)
    up = [t for t in relevant if t['health'] == 'up']
    down = [t for t in relevant if t['health'] != 'up']
    return targets, up, down, missing, satisfied


def check(api, p):
    """One look at the targets: ``(problems, result, warnings, summary)``."""
    api.warnings = []
    data = api.get_data(TARGETS_PATH, dict(state='active'))
    targets, up, down, missing, satisfied = evaluate_targets(data, p['expected'], api if p['probes'] else None)
    problems = [problem('target_down', '%s/%s' % (t['job'], t['instance']), describe_target(t)) for t in down] if not satisfied else []
    problems += [problem('missing_target', m['job'], m['message']) for m in missing]
    warnings = list(api.warnings)
    if not targets and not p['expected']:
        warnings.append('Prometheus has no active scrape targets')
    if problems:
        summary = 'Prometheus targets not all up'
    else:
        summary = '%d expected target(s) up' % len(up)
    return problems, dict(targets=targets, up=up, down=down, missing=missing), warnings, summary


def main():
    module = AnsibleModule(**module_kwargs(dict(
        expected=dict(type='list', elements='dict', default=[], options=dict(
            job=dict(type='str', required=True),
            instance=dict(type='str'),
            labels=dict(type='dict', default={}),
            count=dict(type='int'),
        )),
        probes=dict(type='bool', default=True),
    ), check=True))
    p = module.params
    for exp in p['expected']:
        if exp.get('count') is not None and exp['count'] < 1:
            module.fail_json(msg='expected: count must be 1 or more for %s, got %s' % (describe_expectation(exp), exp['count']))
    try:
        api = PrometheusAPI(p)
    except PrometheusAPIError as exc:
        fail_on_request_error(module, exc, elapsed=0.0)
    run_check(module, lambda: check(api, p), [api])


if __name__ == '__main__':
    main()
