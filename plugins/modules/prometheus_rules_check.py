#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: prometheus_rules_check
short_description: Check that a running Prometheus has loaded and evaluates its rules
version_added: 0.1.0
description:
  - Read the rule groups of a running Prometheus server from its C(/api/v1/rules) API and check
    that the expected groups are loaded from the expected files, that every recording and
    alerting rule evaluates without error, and that no group is slower to evaluate than a limit.
  - Every problem found is returned in RV(problems) and the module fails with a message listing
    each of them by group and rule name (unless O(fail_on_problems=false)).
  - Read-only; the module never changes anything.
author:
  - ilp.observability maintainers (!UNKNOWN)
options:
  expected_groups:
    description:
      - Names of rule groups that must be loaded (from any file, or from one of
        O(expected_files) when set).
      - A group missing from the server is reported as a problem of kind C(missing_group).
    type: list
    elements: str
    default: []
  expected_files:
    description:
      - Paths of the rule files the groups must come from, as Prometheus reports them (the
        C(rule_files) entries of C(prometheus.yml) after glob expansion, relative paths resolved
        against the directory of the configuration file).
      - Every loaded group whose file is not in this list is reported as a problem of kind
        C(unexpected_file), which catches stale or stray rule files.
      - When empty, groups may come from any file.
    type: list
    elements: path
    default: []
  max_evaluation_seconds:
    description:
      - Longest acceptable evaluation time of one rule group, in seconds.
      - A group whose last C(evaluationTime) is longer is reported as a problem of kind
        C(slow_group); a group close to its evaluation interval misses evaluations.
    type: float
  allow_unhealthy:
    description:
      - When V(true), rules whose health is not C(ok) or that have a last evaluation error are
        reported as warnings instead of problems and do not make the module fail.
      - Missing groups, unexpected files and slow groups are still problems.
      - Right after Prometheus starts or reloads, rules have health C(unknown) until their first
        evaluation, a problem of kind C(unhealthy) (a warning with O(allow_unhealthy=true));
        O(wait_timeout) waits for the first evaluations.
    type: bool
    default: false
extends_documentation_fragment:
  - ilp.observability.http_api
  - ilp.observability.http_api.check
  - ilp.observability.http_api.read_only_attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
notes:
  - Prometheus reports the rule file paths as it resolved them, so O(expected_files) should use
    the same absolute paths as the deployed C(prometheus.yml).
  - Rule health and last errors come from the most recent evaluation, so a rule that failed once
    and then succeeded is healthy.
seealso:
  - module: ilp.observability.prometheus_targets_check
  - name: Prometheus HTTP API, rules
    description: The C(/api/v1/rules) endpoint this module reads.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/#rules
"""

EXAMPLES = r"""
- name: Check that the ILP connector rules are loaded and evaluate cleanly
  ilp.observability.prometheus_rules_check:
    url: http://127.0.0.1:9090
    expected_groups:
      - ilp_connector_recording
      - ilp_connector_alerts
    expected_files:
      - /etc/prometheus/rules/ilp_connector.rules.yml
    max_evaluation_seconds: 1.5
    wait_timeout: 30

- name: Check the rules through an HTTPS endpoint with basic authentication
  ilp.observability.prometheus_rules_check:
    url: https://prometheus.example.com:9090
    ca_path: /etc/ssl/ilp/ca.pem
    url_username: ansible
    url_password: "{{ vault_prometheus_password }}"
    expected_groups: [node_alerts]

- name: Report rule problems without failing the play
  ilp.observability.prometheus_rules_check:
    url: http://127.0.0.1:9090
    allow_unhealthy: true
  register: rules_state

- name: Show how many rules Prometheus evaluates
  ansible.builtin.debug:
    msg: "{{ rules_state.rules }} rules in {{ rules_state.groups | length }} groups"
"""

RETURN = r"""
groups:
  description: The rule groups Prometheus has loaded, in the order of the API.
  returned: when the rules could be read
  type: list
  elements: dict
  contains:
    name:
      description: Name of the group.
      type: str
      sample: ilp_connector_alerts
    file:
      description: Rule file the group comes from.
      type: str
      sample: /etc/prometheus/rules/ilp_connector.rules.yml
    rule_count:
      description: Number of rules in the group.
      type: int
      sample: 12
    interval:
      description: Evaluation interval of the group in seconds.
      type: float
      sample: 15
    evaluationTime:
      description: Duration of the last evaluation of the group in seconds.
      type: float
      sample: 0.0021
    lastEvaluation:
      description: Time of the last evaluation; C(0001-01-01T00:00:00Z) when never evaluated.
      type: str
      sample: "2026-11-22T19:05:48.36882237Z"
rules:
  description: Total number of rules in all loaded groups.
  returned: when the rules could be read
  type: int
  sample: 42
ok:
  description: Whether no problem was found.
  returned: always
  type: bool
problems:
  description:
    - Every problem found by the last attempt; empty when the check passed.
    - With O(allow_unhealthy=true), rule health findings are warnings and not listed here.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: Name of the rule concerned, or of the group for group problems.
      type: str
      sample: "ilp:packets:rate5m"
    group:
      description: Name of the rule group concerned.
      type: str
      sample: ilp_connector_recording
    file:
      description: Rule file of the group, null for a missing group.
      type: str
      sample: /etc/prometheus/rules/ilp_connector.rules.yml
    rule:
      description: Name of the rule concerned (recorded series or alert name), null for group problems.
      type: str
      sample: "ilp:packets:rate5m"
    kind:
      description:
        - C(missing_group) an expected group is not loaded;
          C(unhealthy) a rule's health is not C(ok) (C(unknown) once O(wait_timeout) passed);
          C(last_error) the last evaluation of a rule failed;
          C(slow_group) a group evaluated slower than O(max_evaluation_seconds);
          C(unexpected_file) a group comes from a file outside O(expected_files);
          C(request_failed) a request failed (the module then fails).
      type: str
      sample: last_error
    message:
      description: Human readable description, starting with the group and rule name.
      type: str
      sample: "group 'broken' rule 'broken:dup': last evaluation failed: vector contains metrics with the same labelset after applying rule labels"
http_calls:
  description: HTTP requests sent to Prometheus, over every attempt.
  returned: always
  type: int
  sample: 1
elapsed:
  description: Seconds spent, waiting included.
  returned: always
  type: float
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

RULES_PATH = '/api/v1/rules'


def _where(group, rule=None):
    if rule is None:
        return "group '%s'" % group
    return "group '%s' rule '%s'" % (group, rule)


def _problem(kind, group, message, rule=None, gfile=None):
    return problem(kind, group if rule is None else rule, '%s: %s' % (_where(group, rule), message), group=group, file=gfile, rule=rule)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def summarize_groups(data):
    """The ``groups`` result and the total rule count from the ``data`` of /api/v1/rules."""
    groups = []
    for group in (data or {}).get('groups') or []:
        groups.append(dict(
            name=group.get('name'),
            file=group.get('file'),
            rule_count=len(group.get('rules') or []),
            interval=_number(group.get('interval')),
            evaluationTime=_number(group.get('evaluationTime')),
            lastEvaluation=group.get('lastEvaluation'),
        ))
    return groups, sum(g['rule_count'] for g in groups)


def evaluate_rules(data, expected_groups=None, expected_files=None, max_evaluation_seconds=None):
    """Check the ``data`` of /api/v1/rules.

    Returns ``(problems, health, pending)``: group problems, rule health findings (unhealthy or
    last_error) and the rules that have not been evaluated yet (health ``unknown``), each as a
    list of problem dicts.
    """
    problems, health, pending = [], [], []
    groups = (data or {}).get('groups') or []
    loaded = [g.get('name') for g in groups]
    files = set(expected_files or [])

    for name in expected_groups or []:
        candidates = [g for g in groups if g.get('name') == name]
        if files:
            candidates = [g for g in candidates if g.get('file') in files]
        if not candidates:
            if files:
                msg = 'expected group is not loaded from any of %s' % ', '.join(sorted(files))
            else:
                msg = 'expected group is not loaded'
            msg += ' (loaded groups: %s)' % (', '.join(sorted(set(str(n) for n in loaded))) or 'none')
            problems.append(_problem('missing_group', name, msg))

    for group in groups:
        gname, gfile = group.get('name'), group.get('file')
        if files and gfile not in files:
            problems.append(_problem('unexpected_file', gname, 'loaded from %s, which is not one of the expected files %s'
                                     % (gfile, ', '.join(sorted(files))), gfile=gfile))
        eval_time = _number(group.get('evaluationTime'))
        if max_evaluation_seconds is not None and eval_time is not None and eval_time > max_evaluation_seconds:
            problems.append(_problem('slow_group', gname, 'last evaluation took %.3fs, more than max_evaluation_seconds=%s'
                                     % (eval_time, max_evaluation_seconds), gfile=gfile))
        for rule in group.get('rules') or []:
            rname = rule.get('name')
            rhealth = rule.get('health')
            last_error = rule.get('lastError')
            if last_error:
                health.append(_problem('last_error', gname, 'last evaluation failed (health %s): %s' % (rhealth, last_error),
                                       rule=rname, gfile=gfile))
            elif rhealth == 'unknown':
                pending.append(_problem('unhealthy', gname, 'not evaluated yet (health unknown)', rule=rname, gfile=gfile))
            elif rhealth != 'ok':
                health.append(_problem('unhealthy', gname, 'health is %s' % rhealth, rule=rname, gfile=gfile))
    return problems, health, pending


def check(api, p):
    """One look at the rules: ``(problems, result, warnings, summary)``."""
    api.warnings = []
    data = api.get_data(RULES_PATH)
    problems, health, pending = evaluate_rules(data, p['expected_groups'], p['expected_files'], p['max_evaluation_seconds'])
    warnings = list(api.warnings)
    if p['allow_unhealthy']:
        warnings.extend(finding['message'] for finding in health + pending)
    else:
        problems = problems + health + pending
    groups, rule_count = summarize_groups(data)
    if problems:
        summary = 'Prometheus rules check failed with %d problem(s)' % len(problems)
    else:
        summary = '%d rule group(s) with %d rule(s) loaded and healthy' % (len(groups), rule_count)
    return problems, dict(groups=groups, rules=rule_count), warnings, summary


def main():
    module = AnsibleModule(**module_kwargs(dict(
        expected_groups=dict(type='list', elements='str', default=[]),
        expected_files=dict(type='list', elements='path', default=[]),
        max_evaluation_seconds=dict(type='float'),
        allow_unhealthy=dict(type='bool', default=False),
    ), check=True))
    p = module.params
    if p['max_evaluation_seconds'] is not None and p['max_evaluation_seconds'] < 0:
        module.fail_json(msg='max_evaluation_seconds must be 0 or more, got %s' % p['max_evaluation_seconds'])
    try:
        api = PrometheusAPI(p)
    except PrometheusAPIError as exc:
        fail_on_request_error(module, exc)
    run_check(module, lambda: check(api, p), [api])


if __name__ == '__main__':
    main()
