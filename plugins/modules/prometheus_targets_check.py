#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: prometheus_targets_check
short_description: Wait until a running Prometheus scrapes the expected targets successfully
version_added: 0.1.0
description:
  - Poll the active scrape targets of a running Prometheus server (C(/api/v1/targets?state=active))
    until every expected target is up, or until O(timeout) passes.
  - Fails with a message listing every target that is not up with its last scrape error, and
    every expectation that no target matches.
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
  timeout:
    description:
      - Seconds to wait for all expected targets to be up. V(0) checks once.
      - Prometheus needs one scrape interval after start or reload before targets are up.
      - Connection failures and HTTP 5xx answers from Prometheus are retried until then too.
    type: int
    default: 60
  interval:
    description:
      - Seconds between two checks while waiting.
    type: float
    default: 2
  fail_on_down:
    description:
      - When V(false), targets still down after O(timeout) only produce a warning and the module
        returns the state of the targets without failing.
      - Expectations that no target matches always fail the module, they mean the scrape
        configuration differs from what is expected.
    type: bool
    default: true
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
  - ilp.observability.prometheus_api
  - ilp.observability.prometheus_api.read_only_attributes
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
    timeout: 120

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
    timeout: 0
    fail_on_down: false
  register: scrape_state

- name: Show the targets that are down
  ansible.builtin.debug:
    msg: "{{ scrape_state.down | map(attribute='scrapeUrl') | list }}"
"""

RETURN = r"""
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

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ilp.observability.plugins.module_utils.prometheus_api import (
    PrometheusAPI,
    PrometheusAPIError,
    prometheus_module_kwargs,
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


def main():
    module = AnsibleModule(
        supports_check_mode=True,
        **prometheus_module_kwargs(dict(
            expected=dict(type='list', elements='dict', default=[], options=dict(
                job=dict(type='str', required=True),
                instance=dict(type='str'),
                labels=dict(type='dict', default={}),
                count=dict(type='int'),
            )),
            timeout=dict(type='int', default=60),
            interval=dict(type='float', default=2.0),
            fail_on_down=dict(type='bool', default=True),
            probes=dict(type='bool', default=True),
        ))
    )
    p = module.params
    if p['timeout'] < 0:
        module.fail_json(msg='timeout must be 0 or more, got %s' % p['timeout'])
    if p['interval'] <= 0:
        module.fail_json(msg='interval must be more than 0, got %s' % p['interval'])
    for exp in p['expected']:
        if exp.get('count') is not None and exp['count'] < 1:
            module.fail_json(msg='expected: count must be 1 or more for %s, got %s' % (describe_expectation(exp), exp['count']))

    try:
        api = PrometheusAPI(p)
    except PrometheusAPIError as exc:
        module.fail_json(msg=exc.msg, changed=False, elapsed=0.0, **exc.to_result())

    start = time.monotonic()
    deadline = start + p['timeout']
    while True:
        try:
            data = api.get_data(TARGETS_PATH, dict(state='active'))
            targets, up, down, missing, satisfied = evaluate_targets(data, p['expected'], api if p['probes'] else None)
            error = None
        except PrometheusAPIError as exc:
            if not exc.retryable:
                module.fail_json(msg=exc.msg, changed=False, elapsed=round(time.monotonic() - start, 3), **exc.to_result())
            error = exc
        now = time.monotonic()
        if error is None and satisfied:
            break
        if now >= deadline:
            if error is not None:
                waited = ' (gave up after timeout=%ss)' % p['timeout'] if p['timeout'] else ''
                module.fail_json(msg=error.msg + waited, changed=False, elapsed=round(now - start, 3), **error.to_result())
            break
        time.sleep(min(p['interval'], deadline - now))

    for warning in dict.fromkeys(api.warnings):
        module.warn(warning)
    if not targets and not p['expected']:
        module.warn('Prometheus has no active scrape targets')
    elapsed = round(now - start, 3)
    result = dict(changed=False, targets=targets, up=up, down=down, missing=missing, elapsed=elapsed)
    if satisfied:
        module.exit_json(msg='%d expected target(s) up after %.1fs' % (len(up), elapsed), **result)
    reasons = [describe_target(t) for t in down] + [m['message'] for m in missing]
    waited = 'after %ss' % p['timeout'] if p['timeout'] else 'on the first check (timeout=0)'
    msg = 'Prometheus targets not all up %s: %s' % (waited, '; '.join(reasons))
    if missing or p['fail_on_down']:
        module.fail_json(msg=msg, **result)
    module.warn(msg)
    module.exit_json(msg=msg, **result)


if __name__ == '__main__':
    main()
