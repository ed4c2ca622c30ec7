#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: jaeger_check
short_description: Check that a running Jaeger receives spans
version_added: 0.1.0
description:
  - Reads the services Jaeger knows (C(/api/services) of its query API) and reports a problem when
    one of O(expected_services) is missing, or when it has stored no trace of that service within
    the last O(window) (C(/api/traces), one trace at most).
  - With O(prometheus_url), also asks that Prometheus at what rate Jaeger's OTLP receivers accept
    spans (C(otelcol_receiver_accepted_spans_total) over O(window)) and reports a problem when it
    is not above O(min_spans_per_second), per Jaeger instance.
  - Read-only; the module never changes anything.
author:
  - ilp.observability maintainers (!UNKNOWN)
options:
  expected_services:
    description:
      - Services that must have sent spans, by name or shell-style pattern (C(ilp-connector*)); each
        pattern must match a service Jaeger knows, and each matching service must have a trace
        within O(window).
      - Empty only requires Jaeger to know at least one service besides its own.
    type: list
    elements: str
    default: []
  window:
    description:
      - How recent the traces and the span rate must be, a duration with a unit (C(s), C(m), C(h)).
    type: str
    default: 15m
  min_spans_per_second:
    description:
      - The accepted-span rate each Jaeger instance must be above (with O(prometheus_url)).
    type: float
    default: 0
  jaeger_job:
    description:
      - Regular expression of the C(job) label under which Prometheus scrapes Jaeger's metrics.
    type: str
    default: jaeger
  instance:
    description:
      - Value of the C(instance) label of this Jaeger in Prometheus; unset checks every Jaeger of the job.
    type: str
extends_documentation_fragment:
  - ilp.observability.stack_checks
  - ilp.observability.stack_checks.prometheus
  - ilp.observability.stack_checks.read_only_attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
seealso:
  - module: ilp.observability.alertmanager_check
  - name: Jaeger query API
    description: The C(/api/services) and C(/api/traces) endpoints this module reads.
    link: https://www.jaegertracing.io/docs/latest/apis/
"""

EXAMPLES = r"""
- name: The connectors' spans reach Jaeger
  ilp.observability.jaeger_check:
    url: http://10.20.0.12:16686
    expected_services: [ilp-connector*]
    prometheus_url: http://10.20.0.11:9090
    instance: mon-2.prod.example.net
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
  sample: ["no trace of service ilp-connector-a in the last 15m"]
services:
  description: The services Jaeger knows.
  returned: when the services could be read
  type: list
  elements: str
  sample: [ilp-connector-a, ilp-connector-b]
recent_traces:
  description: Service (of those O(expected_services) matched) to whether it has a trace within O(window).
  returned: when the services could be read
  type: dict
  sample: {"ilp-connector-a": true}
spans_per_second:
  description: Accepted spans per second over O(window), by Jaeger instance.
  returned: when O(prometheus_url) is set
  type: dict
  sample: {"mon-2": 12.5}
http_calls:
  description: HTTP requests sent, to Jaeger and Prometheus.
  returned: always
  type: int
"""

import fnmatch
import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ilp.observability.plugins.module_utils.http_api import HTTPAPIError
from ansible_collections.ilp.observability.plugins.module_utils.stack_checks import (
    JaegerAPI,
    api_failure,
    check_module_kwargs,
    finish,
    instant_query,
    prometheus_client,
)

WINDOW_RE = re.compile(r'^([0-9]+)(s|m|h)$')
SECONDS = {'s': 1, 'm': 60, 'h': 3600}
OWN_SERVICES = ('jaeger', 'jaeger-all-in-one', 'jaeger-query')


def spans_query(job, instance, window):
    selector = 'job=~"%s"' % job.replace('"', '\\"')
    if instance:
        selector += ', instance="%s"' % instance.replace('"', '\\"')
    return 'sum by (instance) (rate(otelcol_receiver_accepted_spans_total{%s}[%s]))' % (selector, window)


def main():
    module = AnsibleModule(**check_module_kwargs(dict(
        expected_services=dict(type='list', elements='str', default=[]),
        window=dict(type='str', default='15m'),
        min_spans_per_second=dict(type='float', default=0.0),
        jaeger_job=dict(type='str', default='jaeger'),
        instance=dict(type='str'),
        fail_on_problems=dict(type='bool', default=True),
    ), prometheus=True))
    p = module.params
    match = WINDOW_RE.match(p['window'])
    if not match:
        module.fail_json(msg='window must be a number with s, m or h, such as 15m, got %r' % p['window'])
    window_seconds = int(match.group(1)) * SECONDS[match.group(2)]
    if p['min_spans_per_second'] < 0:
        module.fail_json(msg='min_spans_per_second must be 0 or more, got %s' % p['min_spans_per_second'])

    clients = []
    api = prometheus = None
    try:
        api = JaegerAPI(p)
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
    services = []
    doc = {}
    try:
        doc = api.get_json('/api/services')
        services = sorted(str(name) for name in (doc.get('data') if isinstance(doc, dict) else None) or [])
    except HTTPAPIError as exc:
        api_failure(module, exc, http_calls=calls())
    result['services'] = services

    recent = {}
    if p['expected_services']:
        wanted = []
        for pattern in p['expected_services']:
            matched = [name for name in services if fnmatch.fnmatchcase(name, pattern)]
            if not matched:
                problems.append('no service %s has sent spans (services known: %s)' % (pattern, ', '.join(services) or 'none'))
            wanted.extend(name for name in matched if name not in wanted)
        end = int(time.time() * 1000000)
        start = end - window_seconds * 1000000
        for name in wanted:
            doc = {}
            try:
                doc = api.get_json('/api/traces', dict(service=name, start=start, end=end, limit=1))
            except HTTPAPIError as exc:
                api_failure(module, exc, http_calls=calls(), **result)
            recent[name] = isinstance(doc, dict) and bool(doc.get('data'))
            if not recent[name]:
                problems.append('no trace of service %s in the last %s' % (name, p['window']))
    elif not [name for name in services if name not in OWN_SERVICES]:
        problems.append('Jaeger knows no service: no spans received')
    result['recent_traces'] = recent

    if prometheus is not None:
        samples = []
        try:
            samples = instant_query(prometheus, spans_query(p['jaeger_job'], p['instance'], p['window']))
        except HTTPAPIError as exc:
            api_failure(module, exc, http_calls=calls(), **result)
        rates = dict((labels.get('instance', ''), value) for labels, value in samples)
        result['spans_per_second'] = rates
        if not rates:
            problems.append('Prometheus has no otelcol_receiver_accepted_spans_total of job %s%s (is Jaeger scraped?)'
                            % (p['jaeger_job'], ' instance %s' % p['instance'] if p['instance'] else ''))
        for instance, value in sorted(rates.items()):
            if value <= p['min_spans_per_second']:
                problems.append('Jaeger %s accepts %g spans/s over %s, not above %g'
                                % (instance or '?', value, p['window'], p['min_spans_per_second']))
        for warning in dict.fromkeys(prometheus.warnings):
            module.warn(warning)

    summary = 'Jaeger %s' % api.base_url
    if not problems:
        summary += ': %d service(s) sending spans' % len([name for name in services if name not in OWN_SERVICES])
    finish(module, problems, p['fail_on_problems'], summary, http_calls=calls(), **result)


if __name__ == '__main__':
    main()
