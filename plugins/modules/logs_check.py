#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: logs_check
short_description: Check that a log store holds fresh log lines of a service from every host
version_added: 0.1.0
description:
  - Asks the log store, per host, for the newest log line of O(service_name) (the OpenTelemetry
    resource attribute C(service.name) the collection's log agent sets), and reports a problem for
    every host of O(expected_hosts) without a line newer than O(max_age) seconds.
  - VictoriaLogs (O(backend=victorialogs)) is asked with LogsQL at C(/select/logsql/query)
    (C(_time:<lookback>s service.name:"<service>" | stats by (host.name) max(_time))), which gives
    each host's newest line and its age.
  - Loki (O(backend=loki)) is asked with LogQL metric queries at C(/loki/api/v1/query)
    (C(count_over_time) per C(host_name) over O(max_age) and over O(lookback)), which tell fresh,
    stale (lines within O(lookback) only) and missing hosts apart.
  - Read-only; the module never changes anything.
author:
  - ilp.observability maintainers (!UNKNOWN)
options:
  backend:
    description:
      - The log store behind O(url).
    type: str
    choices: [victorialogs, loki]
    default: victorialogs
  service_name:
    description:
      - Value of the service name attribute of the lines to look for.
    type: str
    default: ilp-connector
  expected_hosts:
    description:
      - Host names (the C(host.name) attribute, the inventory host name with the collection's log
        agent) that must each have a fresh line. Empty requires a fresh line from at least one host.
    type: list
    elements: str
    default: []
  max_age:
    description:
      - Seconds; a host's newest line must be younger than this.
    type: int
    default: 300
  lookback:
    description:
      - Seconds the store is searched back for a host's newest line, to report how old a stale one is.
    type: int
    default: 3600
  host_field:
    description:
      - Field (VictoriaLogs) or label (Loki) of the host name; unset means C(host.name) or C(host_name).
    type: str
  service_field:
    description:
      - Field (VictoriaLogs) or label (Loki) of the service name; unset means C(service.name) or C(service_name).
    type: str
  agent_job:
    description:
      - Prometheus job of the log agents (the OpenTelemetry Collector), with O(prometheus_url).
      - A connector writes no line while it has nothing to say (payments that succeed log nothing), so
        a host whose newest line is older than O(max_age) counts as quiet, not stale, when its agent is
        up, failed to send no log record within O(max_age) and holds none in its sending queue; then
        the store has every line the host wrote.
      - Without O(prometheus_url), every expected host must have a line younger than O(max_age).
    type: str
    default: otel_collector
extends_documentation_fragment:
  - ilp.observability.http_api
  - ilp.observability.http_api.check
  - ilp.observability.http_api.prometheus
  - ilp.observability.http_api.read_only_attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
seealso:
  - module: ilp.observability.jaeger_check
  - name: VictoriaLogs querying
    description: The LogsQL HTTP API.
    link: https://docs.victoriametrics.com/victorialogs/querying/
  - name: Loki HTTP API
    description: The C(/loki/api/v1/query) endpoint.
    link: https://grafana.com/docs/loki/latest/reference/loki-http-api/
"""

EXAMPLES = r"""
- name: Every connector's lines reached VictoriaLogs within 5 minutes
  ilp.observability.logs_check:
    url: http://10.20.0.12:9428
    expected_hosts: "{{ groups['connectors'] }}"

- name: The same, a quiet connector passing when its agent has nothing pending (Prometheus)
  ilp.observability.logs_check:
    url: http://10.20.0.12:9428
    expected_hosts: "{{ groups['connectors'] }}"
    prometheus_url: http://10.20.0.11:9090

- name: The same in Loki
  ilp.observability.logs_check:
    url: http://10.20.0.12:3100
    backend: loki
    expected_hosts: "{{ groups['connectors'] }}"
    max_age: 600
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
        - C(stale_logs) a host's newest line is older than O(max_age);
          C(missing_logs) a host (or, without O(expected_hosts), every host) has no line within
          O(lookback) (or O(max_age));
          C(request_failed) a request failed (the module then fails).
      type: str
    subject:
      description: The host concerned, C(*) for any host.
      type: str
    message:
      description: One sentence naming the problem.
      type: str
  sample: [{"kind": "stale_logs", "subject": "conn-b", "message": "newest ilp-connector line of conn-b is 812s old (more than 300s)"}]
hosts:
  description: Every host with a line of the service within O(lookback), host name to what was found.
  returned: when the store could be asked
  type: dict
  contains:
    newest:
      description: Time of the newest line (VictoriaLogs), or null (Loki).
      type: str
    age_seconds:
      description: Age of the newest line in seconds (VictoriaLogs), or null (Loki).
      type: float
    fresh:
      description: Whether the newest line is younger than O(max_age).
      type: bool
    quiet:
      description:
        - Not fresh, but the host's log agent is up with nothing failed or queued (with O(prometheus_url)).
      type: bool
  sample: {"conn-a": {"newest": "2026-11-29T03:49:41.123Z", "age_seconds": 4.2, "fresh": true, "quiet": false}}
http_calls:
  description: HTTP requests sent, to the store and Prometheus, over every attempt.
  returned: always
  type: int
elapsed:
  description: Seconds spent, waiting included.
  returned: always
  type: float
"""

import datetime
import re
import time

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
    LokiAPI,
    VictoriaLogsAPI,
    get_text,
    instant_query,
    json_lines,
    prometheus_client,
)

RFC3339_RE = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$')
FIELDS = {'victorialogs': ('host.name', 'service.name'), 'loki': ('host_name', 'service_name')}


def parse_time(text):
    """Seconds since the epoch of an RFC 3339 time (nanoseconds allowed), or None."""
    match = RFC3339_RE.match(str(text or '').strip())
    if not match:
        return None
    base, fraction, zone = match.groups()
    moment = datetime.datetime.strptime(base, '%Y-%m-%dT%H:%M:%S')
    offset = datetime.timedelta(0)
    if zone != 'Z':
        sign = 1 if zone[0] == '+' else -1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    epoch = datetime.datetime(1970, 1, 1)
    return (moment - offset - epoch).total_seconds() + (float('0.' + fraction) if fraction else 0.0)


def quoted(value):
    return '"%s"' % str(value).replace('\\', '\\\\').replace('"', '\\"')


def victorialogs_hosts(api, p, host_field, service_field):
    query = '_time:%ds %s:%s | stats by (%s) max(_time) newest' % (
        p['lookback'], service_field, quoted(p['service_name']), host_field)
    text = get_text(api, '/select/logsql/query', dict(query=query))
    now = time.time()
    hosts = {}
    for row in json_lines(api, text, api.url_for('/select/logsql/query')):
        host = row.get(host_field)
        if host in (None, ''):
            continue
        newest = row.get('newest')
        moment = parse_time(newest)
        age = None if moment is None else round(max(0.0, now - moment), 3)
        hosts[str(host)] = dict(newest=newest, age_seconds=age, fresh=age is not None and age < p['max_age'])
    return hosts


def loki_counts(api, selector, host_field, seconds):
    query = 'sum by (%s) (count_over_time(%s[%ds]))' % (host_field, selector, seconds)
    doc = api.get_json('/loki/api/v1/query', dict(query=query))
    data = doc.get('data') if isinstance(doc, dict) else None
    if not isinstance(data, dict) or doc.get('status') != 'success':
        raise api.error_class('Loki did not answer query %s with a result: %r' % (query, doc), url=api.url_for('/loki/api/v1/query'))
    counts = {}
    for sample in data.get('result') or []:
        host = (sample.get('metric') or {}).get(host_field)
        if host:
            counts[str(host)] = float(sample['value'][1])
    return counts


def loki_hosts(api, p, host_field, service_field):
    selector = '{%s=%s}' % (service_field, quoted(p['service_name']))
    fresh = loki_counts(api, selector, host_field, p['max_age'])
    known = loki_counts(api, selector, host_field, max(p['lookback'], p['max_age']))
    return dict((host, dict(newest=None, age_seconds=None, fresh=fresh.get(host, 0) > 0))
                for host in sorted(set(known) | set(fresh)))


def agents_with_nothing_pending(prometheus, job, seconds):
    """Instances of the agent job that are up, failed to send no log record in the last
    ``seconds`` and hold none in their sending queues."""
    selector = '{job=%s}' % quoted(job)
    up = set(labels.get('instance') for labels, value in instant_query(prometheus, 'up%s == 1' % selector))
    failed = dict((labels.get('instance'), value) for labels, value in instant_query(
        prometheus, 'sum by (instance) (increase(otelcol_exporter_send_failed_log_records_total%s[%ds]))' % (selector, seconds)))
    queued = dict((labels.get('instance'), value) for labels, value in instant_query(
        prometheus, 'sum by (instance) (otelcol_exporter_queue_size%s)' % selector))
    return set(host for host in up if host and failed.get(host, 0) == 0 and queued.get(host, 0) == 0)


def check(module, api, prometheus, host_field, service_field):
    """One look at the store (and Prometheus): ``(problems, result, warnings, summary)``."""
    p = module.params
    if p['backend'] == 'loki':
        hosts = loki_hosts(api, p, host_field, service_field)
    else:
        hosts = victorialogs_hosts(api, p, host_field, service_field)

    service = p['service_name']
    stale = [host for host in p['expected_hosts'] or [] if not hosts.get(host, {}).get('fresh')]
    quiet = set()
    if stale and prometheus is not None:
        quiet = agents_with_nothing_pending(prometheus, p['agent_job'], p['max_age'])
    for host, found in hosts.items():
        found['quiet'] = not found['fresh'] and host in quiet
    problems = []
    for host in p['expected_hosts'] or []:
        found = hosts.get(host)
        if host in quiet:
            hosts.setdefault(host, dict(newest=None, age_seconds=None, fresh=False, quiet=True))
            continue
        if found is None:
            problems.append(problem('missing_logs', host, 'no %s line from %s in the last %ds' % (service, host, p['lookback'])))
        elif not found['fresh']:
            if found['age_seconds'] is not None:
                problems.append(problem('stale_logs', host, 'newest %s line of %s is %ds old (more than %ds)'
                                        % (service, host, found['age_seconds'], p['max_age'])))
            else:
                problems.append(problem('stale_logs', host, 'no %s line from %s in the last %ds (older ones within %ds)'
                                        % (service, host, p['max_age'], p['lookback'])))
    if not p['expected_hosts'] and not any(found['fresh'] for found in hosts.values()):
        problems.append(problem('missing_logs', '*', 'no %s line from any host in the last %ds' % (service, p['max_age'])))

    summary = '%s %s' % (api.PRODUCT, api.base_url)
    if not problems:
        summary += ': %s lines younger than %ds from %d host(s)' % (
            service, p['max_age'], len([h for h in hosts.values() if h['fresh']]))
        quiet_hosts = sorted(h for h in p['expected_hosts'] or [] if hosts.get(h, {}).get('quiet'))
        if quiet_hosts:
            summary += '; quiet, their agents with nothing failed or queued: %s' % ', '.join(quiet_hosts)
    warnings = list(prometheus.warnings) if prometheus is not None else []
    return problems, dict(hosts=hosts), warnings, summary


def main():
    module = AnsibleModule(**module_kwargs(dict(
        PROMETHEUS_ARGUMENT_SPEC,
        backend=dict(type='str', choices=['victorialogs', 'loki'], default='victorialogs'),
        service_name=dict(type='str', default='ilp-connector'),
        expected_hosts=dict(type='list', elements='str', default=[]),
        max_age=dict(type='int', default=300),
        lookback=dict(type='int', default=3600),
        host_field=dict(type='str'),
        service_field=dict(type='str'),
        agent_job=dict(type='str', default='otel_collector'),
    ), check=True, **PROMETHEUS_CONSTRAINTS))
    p = module.params
    if p['max_age'] < 1 or p['lookback'] < 1:
        module.fail_json(msg='max_age and lookback must be 1 or more seconds, got %s and %s' % (p['max_age'], p['lookback']))
    host_field = p['host_field'] or FIELDS[p['backend']][0]
    service_field = p['service_field'] or FIELDS[p['backend']][1]

    api = prometheus = None
    try:
        api = (LokiAPI if p['backend'] == 'loki' else VictoriaLogsAPI)(p)
        prometheus = prometheus_client(p)
    except HTTPAPIError as exc:
        fail_on_request_error(module, exc)
    run_check(module, lambda: check(module, api, prometheus, host_field, service_field), [api, prometheus])


if __name__ == '__main__':
    main()
