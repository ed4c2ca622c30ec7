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
  - ilp.observability.stack_checks
  - ilp.observability.stack_checks.prometheus
  - ilp.observability.stack_checks.read_only_attributes
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
"""

RETURN = r"""
ok:
  description: Whether no problem was found.
  returned: always
  type: bool
problems:
  description: One sentence per problem found.
  returned: always
  type: list
  elements: str
  sample: ["cluster has 1 of 2 expected peers (status settling)"]
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
  description: HTTP requests sent, to Alertmanager and Prometheus.
  returned: always
  type: int
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ilp.observability.plugins.module_utils.http_api import HTTPAPIError
from ansible_collections.ilp.observability.plugins.module_utils.stack_checks import (
    AlertmanagerAPI,
    api_failure,
    check_module_kwargs,
    finish,
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
    if expected <= 1 and status == 'disabled':
        return []
    if status == 'disabled':
        return ['clustering is disabled, but %d peers are expected' % expected]
    problems = []
    if len(peers) != expected:
        problems.append('cluster has %d of %d expected peers (status %s): %s'
                        % (len(peers), expected, status, ', '.join(sorted(p.get('name', '?') for p in peers)) or 'none'))
    elif status != 'ready':
        problems.append('cluster status is %s, not ready' % status)
    return problems


def notifications_query(job, instance, window):
    selector = 'job=~"%s"' % job.replace('"', '\\"')
    if instance:
        selector += ', instance="%s"' % instance.replace('"', '\\"')
    return ('sum by (instance, integration) (increase(alertmanager_notifications_failed_total{%s}[%s])) > 0'
            % (selector, window))


def main():
    module = AnsibleModule(**check_module_kwargs(dict(
        expected_peers=dict(type='int'),
        alertmanager_job=dict(type='str', default='alertmanager'),
        instance=dict(type='str'),
        notifications_window=dict(type='str', default='15m'),
        fail_on_problems=dict(type='bool', default=True),
    ), prometheus=True))
    p = module.params
    if p['expected_peers'] is not None and p['expected_peers'] < 1:
        module.fail_json(msg='expected_peers must be 1 or more, got %s' % p['expected_peers'])
    if not DURATION_RE.match(p['notifications_window']):
        module.fail_json(msg='notifications_window must be a Prometheus duration such as 15m, got %r' % p['notifications_window'])

    clients = []
    api = prometheus = None
    try:
        api = AlertmanagerAPI(p)
        clients.append(api)
        prometheus = prometheus_client(p)
        if prometheus is not None:
            clients.append(prometheus)
    except HTTPAPIError as exc:
        api_failure(module, exc, http_calls=0)

    def calls():
        return sum(c.calls for c in clients)

    problems = []
    result = {}
    status = None
    try:
        status = api.get_json('/api/v2/status')
    except HTTPAPIError as exc:
        api_failure(module, exc, http_calls=calls())
    if not isinstance(status, dict):
        module.fail_json(msg='GET %s/api/v2/status did not answer an Alertmanager status: %r' % (api.base_url, status),
                         ok=False, http_calls=calls())
    config = (status.get('config') or {}).get('original') or ''
    result['config_loaded'] = bool(config.strip())
    if not result['config_loaded']:
        problems.append('no configuration loaded')
    result['version'] = (status.get('versionInfo') or {}).get('version', '')

    try:
        metrics = get_text(api, '/metrics')
        reload_ok = metric_value(metrics, 'alertmanager_config_last_reload_successful')
    except HTTPAPIError as exc:
        module.warn('Alertmanager metrics not readable, reload state unknown: %s' % exc.msg)
        reload_ok = None
    result['config_reload_successful'] = None if reload_ok is None else reload_ok == 1
    if reload_ok is not None and reload_ok != 1:
        problems.append('the last configuration reload failed (alertmanager_config_last_reload_successful 0): '
                        'Alertmanager runs the previous configuration')

    cluster = status.get('cluster') or {}
    result['cluster'] = dict(status=cluster.get('status') or 'unknown', name=cluster.get('name') or '',
                             peers=sorted(peer.get('name', '') for peer in cluster.get('peers') or []),
                             expected=p['expected_peers'])
    problems.extend(cluster_problems(cluster, p['expected_peers']))

    if prometheus is not None:
        samples = []
        try:
            samples = instant_query(prometheus, notifications_query(p['alertmanager_job'], p['instance'], p['notifications_window']))
        except HTTPAPIError as exc:
            api_failure(module, exc, http_calls=calls(), **result)
        failed = sorted((dict(instance=labels.get('instance', ''), integration=labels.get('integration', ''), failed=value)
                         for labels, value in samples), key=lambda item: (item['instance'], item['integration']))
        result['notifications_failed'] = failed
        for item in failed:
            problems.append('integration %s of %s failed %g notification(s) in the last %s'
                            % (item['integration'] or '?', item['instance'] or 'Alertmanager', item['failed'],
                               p['notifications_window']))
        for warning in dict.fromkeys(prometheus.warnings):
            module.warn(warning)

    summary = 'Alertmanager %s' % api.base_url
    if not problems:
        summary += ': configuration loaded, cluster %s with %d peer(s)%s' % (
            result['cluster']['status'], len(result['cluster']['peers']),
            ', no failed notification in %s' % p['notifications_window'] if prometheus is not None else '')
    finish(module, problems, p['fail_on_problems'], summary, http_calls=calls(), **result)


if __name__ == '__main__':
    main()
