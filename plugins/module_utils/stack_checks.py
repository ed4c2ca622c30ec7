# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What the stack's check modules (alertmanager_check, jaeger_check, logs_check) share.

Clients of the shared HTTP client (:mod:`http_api`, ``ansible.module_utils.urls`` only) for
Alertmanager, Jaeger's query API and the log stores, the options of a second connection to
Prometheus (``prometheus_url``, ``prometheus_username``, ...) for the checks that read a metric
through PromQL, and small helpers: plain-text and JSON-lines answers, instant queries. The
run of a check (its waiting and its result) is :func:`http_api.run_check`.
"""

from __future__ import annotations

import json

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.ilp.observability.plugins.module_utils.http_api import (
    HTTPAPIClient,
    HTTPAPIError,
)
from ansible_collections.ilp.observability.plugins.module_utils.prometheus_api import (
    PrometheusAPI,
    PrometheusAPIError,
)

# Options of the optional Prometheus connection, prefixed, mapped to the shared client's names.
PROMETHEUS_OPTIONS = {
    'prometheus_url': 'url',
    'prometheus_username': 'url_username',
    'prometheus_password': 'url_password',
    'prometheus_bearer_token': 'bearer_token',
    'prometheus_validate_certs': 'validate_certs',
    'prometheus_ca_path': 'ca_path',
}


class StackCheckError(HTTPAPIError):
    """A request of a stack check failed; ``str(error)`` is safe to show to the user."""


class AlertmanagerAPI(HTTPAPIClient):
    PRODUCT = 'Alertmanager'
    HTTP_AGENT = 'ilp.observability-alertmanager-check'
    EXAMPLE_URL = 'http://127.0.0.1:9093'
    error_class = StackCheckError


class JaegerAPI(HTTPAPIClient):
    PRODUCT = 'Jaeger'
    HTTP_AGENT = 'ilp.observability-jaeger-check'
    EXAMPLE_URL = 'http://127.0.0.1:16686'
    error_class = StackCheckError


class VictoriaLogsAPI(HTTPAPIClient):
    PRODUCT = 'VictoriaLogs'
    HTTP_AGENT = 'ilp.observability-logs-check'
    EXAMPLE_URL = 'http://127.0.0.1:9428'
    error_class = StackCheckError


class LokiAPI(HTTPAPIClient):
    PRODUCT = 'Loki'
    HTTP_AGENT = 'ilp.observability-logs-check'
    EXAMPLE_URL = 'http://127.0.0.1:3100'
    error_class = StackCheckError


# The optional Prometheus connection (doc fragment ``http_api.prometheus``).
PROMETHEUS_ARGUMENT_SPEC = dict(
    prometheus_url=dict(type='str'),
    prometheus_username=dict(type='str'),
    prometheus_password=dict(type='str', no_log=True),
    prometheus_bearer_token=dict(type='str', no_log=True),
    prometheus_validate_certs=dict(type='bool'),
    prometheus_ca_path=dict(type='path'),
)


# module_kwargs() arguments that go with it: one way of authenticating to Prometheus.
PROMETHEUS_CONSTRAINTS = dict(
    required_together=[('prometheus_username', 'prometheus_password')],
    mutually_exclusive=[('prometheus_bearer_token', 'prometheus_username'), ('prometheus_bearer_token', 'prometheus_password')],
)


def prometheus_client(params):
    """A PrometheusAPI from the ``prometheus_*`` options, or None without ``prometheus_url``."""
    if not params.get('prometheus_url'):
        return None
    values = dict((target, params.get(option)) for option, target in PROMETHEUS_OPTIONS.items())
    if values['validate_certs'] is None:
        values['validate_certs'] = params.get('validate_certs', True)
    for key in ('request_timeout', 'use_proxy', 'force_basic_auth'):
        values[key] = params.get(key)
    values.setdefault('client_cert', None)
    values.setdefault('client_key', None)
    return PrometheusAPI(values)


def instant_query(api, expr):
    """Run ``expr`` at the current time; return ``[(labels, value)]`` of its vector result."""
    data = api.get_data('/api/v1/query', dict(query=expr))
    if not isinstance(data, dict) or data.get('resultType') not in ('vector', 'scalar'):
        raise PrometheusAPIError('query %r did not return a vector: %r' % (expr, data), url=api.base_url)
    if data['resultType'] == 'scalar':
        return [({}, float(data['result'][1]))]
    return [(sample.get('metric') or {}, float(sample['value'][1])) for sample in data.get('result') or []]


def get_text(api, path, query=None):
    """GET ``path`` and return the body as text (metrics, JSON lines)."""
    dummy, body, dummy2 = api.request(path, query)
    return to_text(body, errors='surrogate_or_replace')


def json_lines(api, text, url):
    """The JSON objects of a JSON-lines answer."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            raise api.error_class('%s answered a line that is not JSON (%s): %r' % (url, exc, line[:200]), url=url)
    return rows


def metric_value(text, name, labels=None):
    """The first sample of ``name`` (with ``labels`` among its labels) in Prometheus text format, or None."""
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith('#'):
            continue
        series, dummy, value = line.rpartition(' ')
        metric, dummy, label_text = series.partition('{')
        if metric != name:
            continue
        if labels and not all('%s="%s"' % item in label_text for item in labels.items()):
            continue
        try:
            return float(value)
        except ValueError:
            continue
    return None
