#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: grafana_check
short_description: Check that a running Grafana is healthy, its data sources work and the expected dashboards exist
version_added: 0.1.0
description:
  - Read Grafana's C(/api/health) (its database), list the data sources (C(GET /api/datasources))
    and run each one's health check (C(GET /api/datasources/uid/<uid>/health), the C(Save & test)
    of the UI), and look up the expected dashboards by uid (C(GET /api/search), one request per
    100 uids).
  - Every problem found is returned in RV(problems) and the module fails with a message naming
    each of them (unless O(fail_on_problems=false)).
  - Read-only; the module never changes anything.
author:
  - ilp.observability maintainers (!UNKNOWN)
options:
  expected_datasources:
    description:
      - Names or uids of data sources that must exist (and be healthy).
      - A data source missing from Grafana is a problem of kind C(missing_datasource).
    type: list
    elements: str
    default: []
  check_all_datasources:
    description:
      - Run the health check of every data source of the organization, not only of
        O(expected_datasources).
    type: bool
    default: true
  allow_unsupported:
    description:
      - Data sources whose plugin has no backend health check (Grafana answers 404, 500
        C(plugin.unavailable) or 501, for example the Alertmanager data source) are reported
        with status C(UNSUPPORTED) as a warning.
      - When V(false) they are problems of kind C(unsupported_health).
      - When the data source's plugin is not installed at all (Grafana answers the health check
        with 500 C(plugin.unavailable) and C(GET /api/plugins/<type>/settings) with 404), it is
        always a problem, of kind C(missing_plugin), since such a data source cannot work.
    type: bool
    default: true
  expected_dashboards:
    description:
      - Uids of dashboards that must exist.
      - A dashboard missing from Grafana (or not visible to the credentials) is a problem of kind
        C(missing_dashboard).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ilp.observability.http_api
  - ilp.observability.grafana_api
  - ilp.observability.http_api.check
  - ilp.observability.http_api.read_only_attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
notes:
  - Data source health checks query the data source (Prometheus, Loki, ...) from the Grafana
    server, so a failure means Grafana cannot reach it or authenticate to it; the message is
    the one Grafana shows in the UI.
seealso:
  - module: ilp.observability.grafana_dashboard
  - module: ilp.observability.prometheus_targets_check
  - name: Grafana data source HTTP API, check data source health
    description: The health endpoint this module calls.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/data_source/#check-data-source-health
  - name: Grafana health API
    description: C(GET /api/health).
    link: https://grafana.com/docs/grafana/latest/developers/http_api/other/#health-api
"""

EXAMPLES = r"""
- name: Check Grafana, its data sources and the ILP dashboards
  ilp.observability.grafana_check:
    url: http://127.0.0.1:3000
    bearer_token: "{{ vault_grafana_token }}"
    expected_datasources: [Prometheus, Loki]
    expected_dashboards: [ilp-connectors, ilp-overview]
    wait_timeout: 60

- name: Only the Prometheus data source must work
  ilp.observability.grafana_check:
    url: https://grafana.example.com
    url_username: ansible
    url_password: "{{ vault_grafana_password }}"
    expected_datasources: [prometheus]
    check_all_datasources: false
  register: grafana_state

- name: Show the Grafana version
  ansible.builtin.debug:
    msg: "Grafana {{ grafana_state.health.version }}"
"""

RETURN = r"""
health:
  description: The answer of C(GET /api/health).
  returned: when Grafana answered
  type: dict
  sample: {database: ok, version: 12.3.1, commit: 0123abcd}
datasources:
  description: The data sources checked, and those expected but missing.
  returned: when Grafana answered
  type: list
  elements: dict
  contains:
    uid:
      description: Uid of the data source; null when missing.
      type: str
      sample: prometheus
    name:
      description: Name of the data source.
      type: str
      sample: Prometheus
    type:
      description: Plugin id of the data source.
      type: str
      sample: prometheus
    status:
      description: C(OK), C(ERROR), C(UNSUPPORTED) (no backend health check), C(MISSING_PLUGIN) (its plugin
        is not installed) or C(MISSING).
      type: str
      sample: OK
    message:
      description: Message of Grafana's health check.
      type: str
      sample: Successfully queried the Prometheus API.
dashboards:
  description: The expected dashboards.
  returned: when Grafana answered
  type: list
  elements: dict
  contains:
    uid:
      description: Uid of the dashboard.
      type: str
      sample: ilp-connectors
    present:
      description: Whether Grafana has it.
      type: bool
      sample: true
    title:
      description: Title of the dashboard, null when missing.
      type: str
      sample: ILP connectors
    folder_uid:
      description: Uid of its folder, empty for the root folder.
      type: str
      sample: ilp-connectors-4f1c2a9b
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
        - C(grafana_unhealthy) Grafana's database check failed;
          C(missing_datasource) an expected data source does not exist;
          C(unhealthy_datasource) a data source health check failed;
          C(unsupported_health) a data source has no health check and O(allow_unsupported=false);
          C(missing_plugin) the plugin of a data source is not installed in Grafana;
          C(missing_dashboard) an expected dashboard does not exist;
          C(request_failed) a request failed (the module then fails).
      type: str
      sample: unhealthy_datasource
    subject:
      description: Name or uid of what is concerned.
      type: str
      sample: Loki
    message:
      description: Human readable description.
      type: str
      sample: "data source 'Loki' (uid loki, type loki): health check failed: Unable to connect with Loki."
http_calls:
  description: Number of HTTP requests sent to Grafana, over every attempt.
  returned: always
  type: int
  sample: 5
elapsed:
  description: Seconds spent, waiting included.
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ilp.observability.plugins.module_utils.grafana_api import (
    GRAFANA_OPTIONS,
    GrafanaAPI,
    GrafanaAPIError,
)
from ansible_collections.ilp.observability.plugins.module_utils.http_api import (
    fail_on_request_error,
    module_kwargs,
    problem,
    run_check,
)

UNSUPPORTED_STATUSES = (404, 500, 501)
# Grafana's answer when a data source's plugin is not there (or has no backend): 500
# {"messageId": "plugin.unavailable", "message": "Plugin unavailable"} (grafana/grafana
# pkg/plugins/errors.go, ErrPluginUnavailable).
PLUGIN_UNAVAILABLE = 'plugin.unavailable'


def _describe(ds):
    return "data source '%s' (uid %s, type %s)" % (ds.get('name'), ds.get('uid'), ds.get('type'))


def check(api, p):
    """One look at Grafana: ``(problems, result, warnings, summary)``."""
    problems, warnings = [], []
    result = dict(health={}, datasources=[], dashboards=[])

    status, health = api.health()
    result['health'] = health if isinstance(health, dict) else {}
    database = result['health'].get('database')
    if status != 200 or database != 'ok':
        problems.append(problem('grafana_unhealthy', 'grafana', 'Grafana health check failed: HTTP %s, database %s'
                                % (status, database or 'unknown')))

    expected = list(p['expected_datasources'])
    if expected or p['check_all_datasources']:
        datasources = api.datasources()
        by_key = {}
        for ds in datasources:
            by_key.setdefault(ds.get('uid'), ds)
            by_key.setdefault(ds.get('name'), ds)
        chosen = list(datasources) if p['check_all_datasources'] else []
        for key in expected:
            ds = by_key.get(key)
            if ds is None:
                names = ', '.join(sorted(str(d.get('name')) for d in datasources)) or 'none'
                problems.append(problem('missing_datasource', key, "data source '%s': no data source with this name or uid "
                                        "(data sources: %s)" % (key, names)))
                result['datasources'].append(dict(uid=None, name=key, type=None, status='MISSING', message='not found'))
            elif ds not in chosen:
                chosen.append(ds)
        for ds in chosen:
            code, doc = api.datasource_health(ds.get('uid'))
            message = doc.get('message') or ''
            if code == 200 and doc.get('status') == 'OK':
                state = 'OK'
            elif code == 500 and doc.get('messageId') == PLUGIN_UNAVAILABLE and not api.plugin_installed(ds.get('type')):
                # A frontend-only plugin (Alertmanager) answers the same 500; a plugin that is not
                # installed is told apart by its settings (404).
                state = 'MISSING_PLUGIN'
                problems.append(problem('missing_plugin', ds.get('name'), "%s: its plugin '%s' is not installed in Grafana "
                                        "(health check: HTTP 500 plugin.unavailable; GET /api/plugins/%s/settings: 404): "
                                        "install it (grafana_plugins) or remove the data source"
                                        % (_describe(ds), ds.get('type'), ds.get('type'))))
            elif code in UNSUPPORTED_STATUSES and doc.get('status') not in ('ERROR',):
                state = 'UNSUPPORTED'
                text = '%s: Grafana has no health check for it (HTTP %s: %s)' % (_describe(ds), code, message or 'no message')
                if p['allow_unsupported']:
                    warnings.append(text)
                else:
                    problems.append(problem('unsupported_health', ds.get('name'), text))
            else:
                state = 'ERROR'
                problems.append(problem('unhealthy_datasource', ds.get('name'), '%s: health check failed (HTTP %s, status %s): %s'
                                        % (_describe(ds), code, doc.get('status') or 'unknown', message or 'no message')))
            result['datasources'].append(dict(uid=ds.get('uid'), name=ds.get('name'), type=ds.get('type'), status=state,
                                              message=message))

    if p['expected_dashboards']:
        hits = dict((h.get('uid'), h) for h in api.search_dashboards(dashboard_uids=p['expected_dashboards']))
        for uid in p['expected_dashboards']:
            hit = hits.get(uid)
            if hit is None:
                problems.append(problem('missing_dashboard', uid, "dashboard uid %s: not in Grafana (or not visible to these "
                                        "credentials)" % uid))
                result['dashboards'].append(dict(uid=uid, present=False, title=None, folder_uid=None))
            else:
                result['dashboards'].append(dict(uid=uid, present=True, title=hit.get('title'),
                                                 folder_uid=hit.get('folderUid') or ''))
    if problems:
        summary = 'Grafana check failed with %d problem(s)' % len(problems)
    else:
        summary = 'Grafana %s is healthy: %d data source(s) checked, %d expected dashboard(s) present' % (
            result['health'].get('version', ''), len(result['datasources']), len(result['dashboards']))
    return problems, result, warnings, summary


def main():
    module = AnsibleModule(**module_kwargs(dict(
        GRAFANA_OPTIONS,
        expected_datasources=dict(type='list', elements='str', default=[]),
        check_all_datasources=dict(type='bool', default=True),
        allow_unsupported=dict(type='bool', default=True),
        expected_dashboards=dict(type='list', elements='str', default=[]),
    ), check=True))
    try:
        api = GrafanaAPI(module.params)
    except GrafanaAPIError as exc:
        fail_on_request_error(module, exc)
    run_check(module, lambda: check(api, module.params), [api])


if __name__ == '__main__':
    main()
