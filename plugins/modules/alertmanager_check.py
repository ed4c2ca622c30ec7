#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: alertmanager_check
short_description: Check that a running Alertmanager has its configuration, its cluster and working notifications
version_added: 0.1.0
description:
  - Reads Alertmanager's status (C(/api/v2/status)) and own metrics (C(/metrics)), and reports a
    problem when no configuration is loaded, when the last configuration reload failed
    (C(alertmanager_config_last_reload_successful)), or when the gossip cluster is not ready or has
    another number of peers than O(expected_peers).
  - With O(prometheus_url), also asks that Prometheus whether any notification integration failed
    to deliver in the last O(notifications_window) (C(alertmanager_notifications_failed_total)),
    and names the integrations and instances.
  - Read-only; the module never changes anything.
author:
  - ilp.observability maintainers (!UNKNOWN)
options:
  expected_peers:
    description:
      - Number of members the gossip cluster must have (this Alertmanager included), its cluster
        status then being C(ready). Usually the number of hosts of the C(alertmanager) group.
      - V(1) also accepts a clustering that is turned off. Unset skips the cluster check.
    type: int
  alertmanager_job:
    description:
      - Regular expression of the C(job) label under which Prometheus scrapes Alertmanager.
    type: str
    default: alertmanager
  instance:
    description:
      - Value of the C(instance) label of this Alertmanager in Prometheus (the prometheus role uses
        the inventory host name). Unset checks the notifications of every Alertmanager of the job.
    type: str
  notifications_window:
    description:
      - How far back failed notifications count, a Prometheus duration.
    type: str
    default: 15m
extends_documentation_fragment:
  - ilp.observability.http_api
  - ilp.observability.http_api.check
  - ilp.observability.http_api.prometheus
  - ilp.observability.http_api.read_only_attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
seealso:
  - module: ilp.observability.prometheus_targets_check
  - name: Alertmanager API v2
    description: The C(/api/v2/status) endpoint this module reads.
    link: https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml
"""

EXAMPLES = r"""
- name: Alertmanager has its configuration, both peers and no failing receiver
  ilp.observability.alertmanager_check:
    url: http://10.20.0.11:9093
    expected_peers: "{{ groups['alertmanager'] | length }}"
    prometheus_url: http://10.20.0.11:9090
    instance: mon-1.prod.example.net

- name: Collect the problems without failing
  ilp.observability.alertmanager_check:
    url: http://127.0.0.1:9093
    fail_on_problems: false
  register: alertmanager_state

- name: Wait up to a minute for a restarted cluster to settle
  ilp.observability.alertmanager_check:
    url: http://127.0.0.1:9093
    expected_peers: 3
    wait_timeout: 60
"""

RETURN = r"""
ok:
  description: Whether no problem was found.
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
        - C(config_not_loaded) Alertmanager answers without a configuration;
          C(config_reload_failed) its last configuration reload failed;
          C(cluster_incomplete) the gossip cluster has another number of peers than O(expected_peers),
          is disabled or is not ready;
          C(notifications_failed) an integration failed to deliver within O(notifications_window);
          C(request_failed) a request failed (the module then fails).
      type: str
    subject:
      description: What the problem is about (the URL, the cluster's name, C(<instance>/<integration>)).
      type: str
    message:
      description: One sentence naming the problem.
      type: str
  sample: [{"kind": "cluster_incomplete", "subject": "cluster", "message": "cluster has 1 of 2 expected peers (status settling): mon-1"}]
version:
  description: Alertmanager's version.
  returned: when the status could be read
  type: str
  sample: 0.34.2
config_loaded:
  description: Whether Alertmanager answers with a loaded configuration.
  returned: when the status could be read
  type: bool
config_reload_successful:
  description: C(alertmanager_config_last_reload_successful) as a bool, null when the metrics could not be read.
  returned: when the status could be read
  type: bool
cluster:
  description: The gossip cluster as Alertmanager sees it.
  returned: when the status could be read
  type: dict
  contains:
    status:
      description: C(ready), C(settling) or C(disabled).
      type: str
    name:
      description: This member's name.
      type: str
    peers:
      description: Names of the members (this one included).
      type: list
      elements: str
    expected:
      description: O(expected_peers).
      type: int
notifications_failed:
  description: Integrations that failed to deliver within O(notifications_window), by instance.
  returned: when O(prometheus_url) is set
  type: list
  elements: dict
  contains:
    instance:
      description: The Alertmanager's C(instance) label.
      type: str
    integration:
      description: The integration (C(webhook), C(slack), C(email), ...).
      type: str
    failed:
      description: Failed notifications in the window.
      type: float
  sample: [{"instance": "mon-1", "integration": "webhook", "failed": 3.0}]
http_calls:
  description: HTTP requests sent, to Alertmanager and Prometheus, over every attempt.
  returned: always
  type: int
elapsed:
  description: Seconds spent, waiting included.
  returned: always
  type: float
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ilp.observability.plugins.module_utils.http_api import (
    HTTPAPIError,
    fail_on_request_error,
    module_kwargs,
    problem,
    run_check,
)
from ansible_collections.ilp.observability.plugins.module_utils.stack_checks import (
    PROMETHEUS_ARGUMENT_SPEC,
    PROMETHEUS_CONSTRAINTS,
    AlertmanagerAPI,
    get_text,
    instant_query,
    metric_value,
    prometheus_client,
)

DURATION_RE = re.compile(r'^([0-9]+(ms|s|m|h|d|w|y))+$')


def cluster_problems(cluster, expected):
    """Problems of the cluster part of /api/v2/status against the expected member count."""
    if expected is None:
        return []
    status = cluster.get('status') or 'unknown'
    peers = cluster.get('peers') or []
    subject = cluster.get('name') or 'cluster'
    if expected <= 1 and status == 'disabled':
        return []
    if status == 'disabled':
        return [problem('cluster_incomplete', subject, 'clustering is disabled, but %d peers are expected' % expected)]
    if len(peers) != expected:
        return [problem('cluster_incomplete', subject, 'cluster has %d of %d expected peers (status %s): %s'
                        % (len(peers), expected, status, ', '.join(sorted(p.get('name', '?') for p in peers)) or 'none'))]
    if status != 'ready':
        return [problem('cluster_incomplete', subject, 'cluster status is %s, not ready' % status)]
    return []


def notifications_query(job, instance, window):
    selector = 'job=~"%s"' % job.replace('"', '\\"')
    if instance:
        selector += ', instance="%s"' % instance.replace('"', '\\"')
    return ('sum by (instance, integration) (increase(alertmanager_notifications_failed_total{%s}[%s])) > 0'
            % (selector, window))


def check(module, api, prometheus):
    """One look at Alertmanager (and Prometheus): ``(problems, result, warnings, summary)``."""
    p = module.params
    problems, warnings, result = [], [], {}
    status = api.get_json('/api/v2/status')
    if not isinstance(status, dict):
        raise api.error_class('GET %s/api/v2/status did not answer an Alertmanager status: %r' % (api.base_url, status),
                              url=api.base_url + '/api/v2/status')
    config = (status.get('config') or {}).get('original') or ''
    result['config_loaded'] = bool(config.strip())
    if not result['config_loaded']:
        problems.append(problem('config_not_loaded', api.base_url, 'no configuration loaded'))
    result['version'] = (status.get('versionInfo') or {}).get('version', '')

    try:
        metrics = get_text(api, '/metrics')
        reload_ok = metric_value(metrics, 'alertmanager_config_last_reload_successful')
    except HTTPAPIError as exc:
        warnings.append('Alertmanager metrics not readable, reload state unknown: %s' % exc.msg)
        reload_ok = None
    result['config_reload_successful'] = None if reload_ok is None else reload_ok == 1
    if reload_ok is not None and reload_ok != 1:
        problems.append(problem('config_reload_failed', api.base_url,
                                'the last configuration reload failed (alertmanager_config_last_reload_successful 0): '
                                'Alertmanager runs the previous configuration'))

    cluster = status.get('cluster') or {}
    result['cluster'] = dict(status=cluster.get('status') or 'unknown', name=cluster.get('name') or '',
                             peers=sorted(peer.get('name', '') for peer in cluster.get('peers') or []),
                             expected=p['expected_peers'])
    problems.extend(cluster_problems(cluster, p['expected_peers']))

    if prometheus is not None:
        prometheus.warnings = []
        samples = instant_query(prometheus, notifications_query(p['alertmanager_job'], p['instance'], p['notifications_window']))
        failed = sorted((dict(instance=labels.get('instance', ''), integration=labels.get('integration', ''), failed=value)
                         for labels, value in samples), key=lambda item: (item['instance'], item['integration']))
        result['notifications_failed'] = failed
        for item in failed:
            problems.append(problem('notifications_failed', '%s/%s' % (item['instance'], item['integration']),
                                    'integration %s of %s failed %g notification(s) in the last %s'
                                    % (item['integration'] or '?', item['instance'] or 'Alertmanager', item['failed'],
                                       p['notifications_window'])))
        warnings.extend(prometheus.warnings)

    summary = 'Alertmanager %s' % api.base_url
    if not problems:
        summary += ': configuration loaded, cluster %s with %d peer(s)%s' % (
            result['cluster']['status'], len(result['cluster']['peers']),
            ', no failed notification in %s' % p['notifications_window'] if prometheus is not None else '')
    return problems, result, warnings, summary


def main():
    module = AnsibleModule(**module_kwargs(dict(
        PROMETHEUS_ARGUMENT_SPEC,
        expected_peers=dict(type='int'),
        alertmanager_job=dict(type='str', default='alertmanager'),
        instance=dict(type='str'),
        notifications_window=dict(type='str', default='15m'),
    ), check=True, **PROMETHEUS_CONSTRAINTS))
    p = module.params
    if p['expected_peers'] is not None and p['expected_peers'] < 1:
        module.fail_json(msg='expected_peers must be 1 or more, got %s' % p['expected_peers'])
    if not DURATION_RE.match(p['notifications_window']):
        module.fail_json(msg='notifications_window must be a Prometheus duration such as 15m, got %r' % p['notifications_window'])

    api = prometheus = None
    try:
        api = AlertmanagerAPI(p)
        prometheus = prometheus_client(p)
    except HTTPAPIError as exc:
        fail_on_request_error(module, exc)
    run_check(module, lambda: check(module, api, prometheus), [api, prometheus])


if __name__ == '__main__':
    main()
