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
  traffic_query:
    description:
      - With O(prometheus_url), a PromQL expression of the ILP packets the connectors handled in the
        last O(window) (C($window) is replaced by it). When it answers 0 or nothing, the network was
        quiet - no payment, no span to expect - and a missing recent trace or a low span rate is no
        problem; the result says C(quiet). Jaeger must still answer and know the expected services.
      - Empty never treats the network as quiet.
    type: str
    default: "sum(max_over_time(ilp:packets:rate1m[$window]))"
extends_documentation_fragment:
  - ilp.observability.http_api
  - ilp.observability.http_api.check
  - ilp.observability.http_api.prometheus
  - ilp.observability.http_api.read_only_attributes
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
        - C(missing_service) no service Jaeger knows matches a pattern of O(expected_services), or
          (without them) Jaeger knows no service but its own;
          C(no_recent_trace) a service has no trace within O(window);
          C(spans_not_scraped) Prometheus has no accepted-span counter of Jaeger;
          C(low_span_rate) a Jaeger accepts spans at a rate not above O(min_spans_per_second);
          C(request_failed) a request failed (the module then fails).
      type: str
    subject:
      description: The service, pattern or Jaeger instance concerned.
      type: str
    message:
      description: One sentence naming the problem.
      type: str
  sample: [{"kind": "no_recent_trace", "subject": "ilp-connector-a", "message": "no trace of service ilp-connector-a in the last 15m"}]
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
quiet:
  description:
    - Whether the connectors handled no ILP packet within O(window) (O(traffic_query)), so that no
      span was expected; missing recent traces and a low span rate were then not counted.
  returned: when O(prometheus_url) is set
  type: bool
  sample: false
spans_per_second:
  description: Accepted spans per second over O(window), by Jaeger instance.
  returned: when O(prometheus_url) is set
  type: dict
  sample: {"mon-2": 12.5}
http_calls:
  description: HTTP requests sent, to Jaeger and Prometheus, over every attempt.
  returned: always
  type: int
elapsed:
  description: Seconds spent, waiting included.
  returned: always
  type: float
"""

import fnmatch
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
    JaegerAPI,
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


def check(module, api, prometheus, window_seconds):
    """One look at Jaeger (and Prometheus): ``(problems, result, warnings, summary)``."""
    p = module.params
    problems, warnings, result = [], [], {}
    doc = api.get_json('/api/services')
    services = sorted(str(name) for name in (doc.get('data') if isinstance(doc, dict) else None) or [])
    result['services'] = services

    recent = {}
    if p['expected_services']:
        wanted = []
        for pattern in p['expected_services']:
            matched = [name for name in services if fnmatch.fnmatchcase(name, pattern)]
            if not matched:
                problems.append(problem('missing_service', pattern, 'no service %s has sent spans (services known: %s)'
                                        % (pattern, ', '.join(services) or 'none')))
            wanted.extend(name for name in matched if name not in wanted)
        end = int(time.time() * 1000000)
        start = end - window_seconds * 1000000
        for name in wanted:
            doc = api.get_json('/api/traces', dict(service=name, start=start, end=end, limit=1))
            recent[name] = isinstance(doc, dict) and bool(doc.get('data'))
            if not recent[name]:
                problems.append(problem('no_recent_trace', name, 'no trace of service %s in the last %s' % (name, p['window'])))
    elif not [name for name in services if name not in OWN_SERVICES]:
        problems.append(problem('missing_service', '*', 'Jaeger knows no service: no spans received'))
    result['recent_traces'] = recent

    quiet = False
    if prometheus is not None and p['traffic_query']:
        prometheus.warnings = []
        traffic = instant_query(prometheus, p['traffic_query'].replace('$window', p['window']))
        quiet = not any(value > 0 for _labels, value in traffic)
        result['quiet'] = quiet
        warnings.extend(prometheus.warnings)
    if quiet:
        # No packet, no span: a trace check on a quiet network tells nothing (like logs_check's
        # quiet hosts). Jaeger answering and knowing the services still count.
        problems = [pr for pr in problems if pr['kind'] != 'no_recent_trace']

    if prometheus is not None:
        prometheus.warnings = []
        samples = instant_query(prometheus, spans_query(p['jaeger_job'], p['instance'], p['window']))
        rates = dict((labels.get('instance', ''), value) for labels, value in samples)
        result['spans_per_second'] = rates
        if not rates:
            problems.append(problem('spans_not_scraped', p['instance'] or p['jaeger_job'],
                                    'Prometheus has no otelcol_receiver_accepted_spans_total of job %s%s (is Jaeger scraped?)'
                                    % (p['jaeger_job'], ' instance %s' % p['instance'] if p['instance'] else '')))
        for instance, value in sorted(rates.items()):
            if value <= p['min_spans_per_second'] and not quiet:
                problems.append(problem('low_span_rate', instance, 'Jaeger %s accepts %g spans/s over %s, not above %g'
                                        % (instance or '?', value, p['window'], p['min_spans_per_second'])))
        warnings.extend(prometheus.warnings)

    summary = 'Jaeger %s' % api.base_url
    if not problems:
        summary += ': %d service(s) sending spans' % len([name for name in services if name not in OWN_SERVICES])
        if quiet:
            summary += ' (quiet network: no ILP packet within %s, no recent span expected)' % p['window']
    return problems, result, warnings, summary


def main():
    module = AnsibleModule(**module_kwargs(dict(
        PROMETHEUS_ARGUMENT_SPEC,
        expected_services=dict(type='list', elements='str', default=[]),
        window=dict(type='str', default='15m'),
        min_spans_per_second=dict(type='float', default=0.0),
        jaeger_job=dict(type='str', default='jaeger'),
        instance=dict(type='str'),
        traffic_query=dict(type='str', default='sum(max_over_time(ilp:packets:rate1m[$window]))'),
    ), check=True, **PROMETHEUS_CONSTRAINTS))
    p = module.params
    match = WINDOW_RE.match(p['window'])
    if not match:
        module.fail_json(msg='window must be a number with s, m or h, such as 15m, got %r' % p['window'])
    window_seconds = int(match.group(1)) * SECONDS[match.group(2)]
    if p['min_spans_per_second'] < 0:
        module.fail_json(msg='min_spans_per_second must be 0 or more, got %s' % p['min_spans_per_second'])

    api = prometheus = None
    try:
        api = JaegerAPI(p)
        prometheus = prometheus_client(p)
    except HTTPAPIError as exc:
        fail_on_request_error(module, exc)
    run_check(module, lambda: check(module, api, prometheus, window_seconds), [api, prometheus])


if __name__ == '__main__':
    main()
