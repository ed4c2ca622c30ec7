# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the jaeger_check module, with Jaeger query API and Prometheus answers mocked."""

from __future__ import annotations

import urllib.parse

import pytest

from ansible_collections.ilp.observability.plugins.modules import jaeger_check
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

MODULE = jaeger_check
URL = 'http://10.0.0.12:16686'
PROM = 'http://10.0.0.11:9090'
NOW = 1795924181.0


class Clock(object):
    @staticmethod
    def time():
        return NOW


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setattr(MODULE, 'time', Clock)
    return fakes.module_runner(monkeypatch, MODULE)


def services(*names):
    return {'data': list(names), 'total': len(names), 'limit': 0, 'offset': 0, 'errors': None}


def traces(count):
    return {'data': [{'traceID': 'abc%d' % i, 'spans': []} for i in range(count)], 'total': 0, 'errors': None}


def vector(*samples):
    return {'status': 'success', 'data': {'resultType': 'vector', 'result': [
        {'metric': labels, 'value': [NOW, str(value)]} for labels, value in samples]}}


def both_apis(routes, prom_routes=None):
    return fakes.WithPrometheus(URL, routes, PROM, prom_routes)


def traces_by_service(found):
    def answer(call):
        service = urllib.parse.parse_qs(call['query'])['service'][0]
        return traces(1 if found.get(service) else 0)
    return answer


def test_expected_services_with_recent_traces(run):
    routes = {('GET', '/api/services'): services('jaeger', 'ilp-connector', 'other'),
              ('GET', '/api/traces'): traces_by_service({'ilp-connector': True})}
    fake = fakes.RoutedOpenUrl(URL, routes)
    outcome, result, dummy = run(dict(url=URL, expected_services=['ilp-connector*'], window='10m'), [fake])
    assert outcome == 'exit', result['msg']
    assert result['services'] == ['ilp-connector', 'jaeger', 'other']
    assert result['recent_traces'] == {'ilp-connector': True}
    query = urllib.parse.parse_qs(fake.calls[1]['query'])
    assert query['limit'] == ['1'] and int(query['end'][0]) == int(NOW * 1000000)
    assert int(query['end'][0]) - int(query['start'][0]) == 600 * 1000000
    assert fakes.messages(result) == [] and result['ok'] is True


def test_missing_service_and_stale_service(run):
    routes = {('GET', '/api/services'): services('ilp-connector-a', 'ilp-connector-b'),
              ('GET', '/api/traces'): traces_by_service({'ilp-connector-a': True})}
    outcome, result, dummy = run(dict(url=URL, expected_services=['ilp-connector-*', 'settlement']),
                                 [fakes.RoutedOpenUrl(URL, routes)])
    assert outcome == 'fail'
    assert fakes.messages(result) == [
        'no service settlement has sent spans (services known: ilp-connector-a, ilp-connector-b)',
        'no trace of service ilp-connector-b in the last 15m']
    assert fakes.kinds(result) == [('missing_service', 'settlement'), ('no_recent_trace', 'ilp-connector-b')]


def test_no_service_at_all(run):
    outcome, result, dummy = run(dict(url=URL), [fakes.RoutedOpenUrl(URL, {('GET', '/api/services'): services('jaeger')})])
    assert outcome == 'fail' and fakes.messages(result) == ['Jaeger knows no service: no spans received']


def test_span_rate_from_prometheus(run):
    both = both_apis({('GET', '/api/services'): services('ilp-connector')},
                     {('GET', '/api/v1/query'): vector(({'instance': 'mon-2'}, 0), ({'instance': 'mon-3'}, 4.5))})
    outcome, result, dummy = run(dict(url=URL, prometheus_url=PROM), [both])
    assert outcome == 'fail'
    assert result['spans_per_second'] == {'mon-2': 0.0, 'mon-3': 4.5}
    assert fakes.messages(result) == ['Jaeger mon-2 accepts 0 spans/s over 15m, not above 0']
    asked = [urllib.parse.unquote_plus(call['url']) for call in both.prom.calls]
    assert any('otelcol_receiver_accepted_spans_total' in url for url in asked)
    assert any('ilp:packets:rate1m[15m]' in url for url in asked), 'the traffic of the window is asked first'
    assert result['quiet'] is False


def by_query(spans, packets):
    """Prometheus answering the span-rate query with `spans` and the traffic query with `packets`."""
    def answer(call):
        expr = urllib.parse.parse_qs(call['query'] or '').get('query', [''])[0] or urllib.parse.unquote_plus(call['url'])
        return vector(*(packets if 'ilp:packets' in expr else spans))
    return answer


def test_a_quiet_network_is_not_a_broken_one(run):
    # No ILP packet in the window: no trace of the connectors and no accepted span is no problem.
    jaeger = {('GET', '/api/services'): services('jaeger', 'ilp-connector-a'),
              ('GET', '/api/traces'): traces_by_service({})}
    both = both_apis(jaeger, {('GET', '/api/v1/query'): by_query(spans=[({'instance': 'mon'}, 0)], packets=[({}, 0)])})
    outcome, result, dummy = run(dict(url=URL, prometheus_url=PROM, expected_services=['ilp-connector*']), [both])
    assert outcome == 'exit', result.get('msg')
    assert result['quiet'] is True and result['recent_traces'] == {'ilp-connector-a': False}
    assert 'quiet network' in result['msg'] or 'quiet network' in str(result)
    # Packets flowed but no span arrived: that is broken.
    both = both_apis(jaeger, {('GET', '/api/v1/query'): by_query(spans=[({'instance': 'mon'}, 0)], packets=[({}, 3.5)])})
    outcome, result, dummy = run(dict(url=URL, prometheus_url=PROM, expected_services=['ilp-connector*']), [both])
    assert outcome == 'fail' and result['quiet'] is False
    assert fakes.kinds(result) == [('no_recent_trace', 'ilp-connector-a'), ('low_span_rate', 'mon')]
    # A service that never sent a span is missing whatever the traffic.
    both = both_apis({('GET', '/api/services'): services('jaeger')},
                     {('GET', '/api/v1/query'): by_query(spans=[({'instance': 'mon'}, 0)], packets=[({}, 0)])})
    outcome, result, dummy = run(dict(url=URL, prometheus_url=PROM, expected_services=['ilp-connector*']), [both])
    assert outcome == 'fail' and fakes.kinds(result)[0][0] == 'missing_service'


def test_jaeger_not_scraped(run):
    both = both_apis({('GET', '/api/services'): services('ilp-connector')}, {('GET', '/api/v1/query'): vector()})
    outcome, result, dummy = run(dict(url=URL, prometheus_url=PROM, instance='mon-2', fail_on_problems=False), [both])
    assert outcome == 'exit' and result['ok'] is False
    assert fakes.messages(result) == ['Prometheus has no otelcol_receiver_accepted_spans_total of job jaeger instance mon-2 '
                                      '(is Jaeger scraped?)']


def test_query_api_answering_an_error(run):
    error = fakes.http_error(URL + '/api/services', 503, 'Service Unavailable', b'{"errors":[{"msg":"storage"}]}')
    outcome, result, dummy = run(dict(url=URL), [fakes.RoutedOpenUrl(URL, {('GET', '/api/services'): error})])
    assert outcome == 'fail'
    assert 'GET http://10.0.0.12:16686/api/services failed with HTTP 503' in result['msg']


def test_invalid_window(run):
    outcome, result, dummy = run(dict(url=URL, window='a while'), [services()])
    assert outcome == 'fail' and 'window must be a number with s, m or h' in result['msg']
