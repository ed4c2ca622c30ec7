# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the logs_check module, with VictoriaLogs and Loki answers mocked."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from ansible_collections.ilp.observability.plugins.modules import logs_check
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

MODULE = logs_check
VL = 'http://10.0.0.12:9428'
LOKI = 'http://10.0.0.12:3100'
NOW = 1795924181.0  # 2026-11-29T03:49:41Z


class Clock(object):
    @staticmethod
    def time():
        return NOW


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setattr(MODULE, 'time', Clock)
    return fakes.module_runner(monkeypatch, MODULE)


def lines(*rows):
    return fakes.FakeResponse(''.join(json.dumps(row) + '\n' for row in rows).encode(), content_type='application/stream+json')


def test_victorialogs_fresh_and_stale_and_missing_hosts(run):
    answer = lines({'host.name': 'conn-a', 'newest': '2026-11-29T03:49:37.5Z'},
                   {'host.name': 'conn-b', 'newest': '2026-11-29T03:36:09.123456789Z'})
    fake = fakes.RoutedOpenUrl(VL, {('GET', '/select/logsql/query'): answer})
    outcome, result, dummy = run(dict(url=VL, expected_hosts=['conn-a', 'conn-b', 'conn-c']), [fake])
    assert outcome == 'fail'
    assert result['hosts'] == {
        'conn-a': {'newest': '2026-11-29T03:49:37.5Z', 'age_seconds': 3.5, 'fresh': True, 'quiet': False},
        'conn-b': {'newest': '2026-11-29T03:36:09.123456789Z', 'age_seconds': 811.877, 'fresh': False, 'quiet': False}}
    assert fakes.messages(result) == ['newest ilp-connector line of conn-b is 811s old (more than 300s)',
                                      'no ilp-connector line from conn-c in the last 3600s']
    assert fakes.kinds(result) == [('stale_logs', 'conn-b'), ('missing_logs', 'conn-c')]
    query = urllib.parse.parse_qs(fake.calls[0]['query'])['query'][0]
    assert query == '_time:3600s service.name:"ilp-connector" | stats by (host.name) max(_time) newest'


def test_victorialogs_all_fresh(run):
    fake = fakes.RoutedOpenUrl(VL, {('GET', '/select/logsql/query'): lines({'host.name': 'conn-a', 'newest': '2026-11-29T03:49:40Z'})})
    outcome, result, dummy = run(dict(url=VL, expected_hosts=['conn-a'], _ansible_check_mode=True), [fake])
    assert outcome == 'exit', result['msg']
    assert result['ok'] is True and result['changed'] is False
    assert 'ilp-connector lines younger than 300s from 1 host(s)' in result['msg']


def test_victorialogs_no_line_at_all(run):
    fake = fakes.RoutedOpenUrl(VL, {('GET', '/select/logsql/query'): lines()})
    outcome, result, dummy = run(dict(url=VL, max_age=60, fail_on_problems=False), [fake])
    assert outcome == 'exit' and result['ok'] is False
    assert fakes.messages(result) == ['no ilp-connector line from any host in the last 60s']


def test_victorialogs_answer_that_is_not_json_lines(run):
    fake = fakes.RoutedOpenUrl(VL, {('GET', '/select/logsql/query'): fakes.FakeResponse(b'<html>proxy</html>\n', content_type='text/html')})
    outcome, result, dummy = run(dict(url=VL), [fake])
    assert outcome == 'fail' and 'answered a line that is not JSON' in result['msg']


def loki_vector(*samples):
    return {'status': 'success', 'data': {'resultType': 'vector', 'result': [
        {'metric': {'host_name': host}, 'value': [NOW, str(count)]} for host, count in samples]}}


def test_loki_fresh_stale_and_missing(run):
    def answer(call):
        query = urllib.parse.parse_qs(call['query'])['query'][0]
        if '[300s]' in query:
            return loki_vector(('conn-a', 12))
        return loki_vector(('conn-a', 500), ('conn-b', 40))
    fake = fakes.RoutedOpenUrl(LOKI, {('GET', '/loki/api/v1/query'): answer})
    outcome, result, dummy = run(dict(url=LOKI, backend='loki', expected_hosts=['conn-a', 'conn-b', 'conn-c']), [fake])
    assert outcome == 'fail'
    assert result['hosts'] == {'conn-a': {'newest': None, 'age_seconds': None, 'fresh': True, 'quiet': False},
                               'conn-b': {'newest': None, 'age_seconds': None, 'fresh': False, 'quiet': False}}
    assert fakes.messages(result) == ['no ilp-connector line from conn-b in the last 300s (older ones within 3600s)',
                                      'no ilp-connector line from conn-c in the last 3600s']
    queries = [urllib.parse.parse_qs(c['query'])['query'][0] for c in fake.calls]
    assert queries == ['sum by (host_name) (count_over_time({service_name="ilp-connector"}[300s]))',
                       'sum by (host_name) (count_over_time({service_name="ilp-connector"}[3600s]))']
    assert result['http_calls'] == 2


def test_loki_error_is_reported(run):
    error = fakes.http_error(LOKI + '/loki/api/v1/query', 400, 'Bad Request', b'parse error at line 1')
    outcome, result, dummy = run(dict(url=LOKI, backend='loki'), [fakes.RoutedOpenUrl(LOKI, {('GET', '/loki/api/v1/query'): error})])
    assert outcome == 'fail'
    assert 'failed with HTTP 400 Bad Request: parse error at line 1' in result['msg']


def test_invalid_ages(run):
    outcome, result, dummy = run(dict(url=VL, max_age=0), [lines()])
    assert outcome == 'fail' and 'max_age and lookback must be 1 or more' in result['msg']


@pytest.mark.parametrize('text, seconds', [
    ('2026-11-29T03:49:41Z', NOW), ('2026-11-29T03:49:41.25Z', NOW + 0.25), ('2026-11-29T05:49:41+02:00', NOW),
    ('not a time', None), ('', None),
])
def test_parse_time(text, seconds):
    assert MODULE.parse_time(text) == seconds


PROM = 'http://10.0.0.11:9090'


def prom_vector(*samples):
    return {'status': 'success', 'data': {'resultType': 'vector', 'result': [
        {'metric': labels, 'value': [NOW, str(value)]} for labels, value in samples]}}


def agents(call):
    """conn-b's agent: up, nothing failed or queued; conn-c's: up, 3 records queued; conn-d's: down."""
    query = urllib.parse.parse_qs(call['query'])['query'][0]
    if query.startswith('up'):
        return prom_vector(({'instance': 'conn-b'}, 1), ({'instance': 'conn-c'}, 1))
    if 'send_failed' in query:
        return prom_vector(({'instance': 'conn-b'}, 0), ({'instance': 'conn-c'}, 0))
    return prom_vector(({'instance': 'conn-b'}, 0), ({'instance': 'conn-c'}, 3))


def test_quiet_host_passes_when_its_agent_has_nothing_pending(run):
    """A connector that wrote nothing for 13 minutes is quiet, not stale, when its agent is up with
    nothing failed or queued; a host whose agent still queues records, or is down, fails."""
    store = {('GET', '/select/logsql/query'): lines(
        {'host.name': 'conn-a', 'newest': '2026-11-29T03:49:37.5Z'},
        {'host.name': 'conn-b', 'newest': '2026-11-29T03:36:09Z'},
        {'host.name': 'conn-c', 'newest': '2026-11-29T03:36:09Z'})}
    both = fakes.WithPrometheus(VL, store, PROM, {('GET', '/api/v1/query'): agents})
    outcome, result, dummy = run(dict(url=VL, prometheus_url=PROM, expected_hosts=['conn-a', 'conn-b', 'conn-c', 'conn-d']), [both])
    assert outcome == 'fail'
    assert fakes.messages(result) == ['newest ilp-connector line of conn-c is 812s old (more than 300s)',
                                      'no ilp-connector line from conn-d in the last 3600s']
    assert result['hosts']['conn-b']['quiet'] is True and result['hosts']['conn-a']['quiet'] is False
    queries = [urllib.parse.parse_qs(c['query'])['query'][0] for c in both.prom.calls]
    assert queries == ['up{job="otel_collector"} == 1',
                       'sum by (instance) (increase(otelcol_exporter_send_failed_log_records_total{job="otel_collector"}[300s]))',
                       'sum by (instance) (otelcol_exporter_queue_size{job="otel_collector"})']
    assert result['http_calls'] == 4


def test_all_quiet_hosts_pass_and_are_named(run):
    store = {('GET', '/select/logsql/query'): lines({'host.name': 'conn-b', 'newest': '2026-11-29T03:36:09Z'})}
    both = fakes.WithPrometheus(VL, store, PROM, {('GET', '/api/v1/query'): agents})
    outcome, result, dummy = run(dict(url=VL, prometheus_url=PROM, expected_hosts=['conn-b']), [both])
    assert outcome == 'exit', result['msg']
    assert 'quiet, their agents with nothing failed or queued: conn-b' in result['msg']
