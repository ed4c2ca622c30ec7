# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the grafana_check module, with Grafana's answers mocked by method and path."""

from __future__ import annotations

import json
import urllib.error

import pytest

from ansible_collections.ilp.observability.plugins.modules import grafana_check
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

MODULE = grafana_check  # for the clock and run fixtures of conftest.py
URL = 'http://127.0.0.1:3000'
TOKEN = 'glsa_check_token_0123456789'

HEALTH = {'commit': 'abc', 'database': 'ok', 'version': '12.3.0'}
PROM = {'uid': 'prom', 'name': 'Prometheus', 'type': 'prometheus'}
LOKI = {'uid': 'loki', 'name': 'Loki', 'type': 'loki'}
AM = {'uid': 'am', 'name': 'Alertmanager', 'type': 'alertmanager'}


def error(code, doc):
    return fakes.http_error(URL, code, 'x', json.dumps(doc).encode())


def routes(extra=None):
    base = {('GET', '/api/health'): HEALTH,
            ('GET', '/api/datasources'): [[PROM, LOKI]],
            ('GET', '/api/datasources/uid/prom/health'): {'status': 'OK', 'message': 'Successfully queried the Prometheus API.'},
            ('GET', '/api/datasources/uid/loki/health'): {'status': 'OK', 'message': 'Data source successfully connected.'},
            ('GET', '/api/search'): [[{'uid': 'ilp-a', 'title': 'ILP A', 'folderUid': 'ops'}]]}
    base.update(extra or {})
    return fakes.RoutedOpenUrl(URL, base)


def args(**kw):
    return dict(dict(url=URL, token=TOKEN), **kw)


def test_healthy(run):
    outcome, result, fake = run(args(expected_datasources=['Prometheus', 'loki'], expected_dashboards=['ilp-a']), [routes()])
    assert outcome == 'exit', result['msg']
    assert result['changed'] is False and fakes.messages(result) == []
    assert [(d['name'], d['status']) for d in result['datasources']] == [('Prometheus', 'OK'), ('Loki', 'OK')]
    assert result['dashboards'] == [dict(uid='ilp-a', present=True, title='ILP A', folder_uid='ops')]
    assert result['health'] == HEALTH
    assert result['http_calls'] == 5
    assert 'dashboardUIDs=ilp-a' in fake.calls[-1]['query']


def test_check_mode_is_read_only(run):
    outcome, result, fake = run(args(_ansible_check_mode=True), [routes()])
    assert outcome == 'exit', result['msg']
    assert all(c['method'] == 'GET' for c in fake.calls)


def test_unhealthy_datasource_missing_ones_and_missing_dashboard(run):
    loki_down = error(400, {'status': 'ERROR', 'message': 'Unable to connect with Loki.'})
    fake = routes({('GET', '/api/datasources/uid/loki/health'): loki_down, ('GET', '/api/search'): [[]]})
    outcome, result, dummy = run(args(expected_datasources=['Tempo'], expected_dashboards=['ilp-a']), [fake])
    assert outcome == 'fail'
    assert fakes.kinds(result) == [('missing_datasource', 'Tempo'), ('unhealthy_datasource', 'Loki'), ('missing_dashboard', 'ilp-a')]
    msg = result['msg']
    assert "data source 'Loki' (uid loki, type loki): health check failed (HTTP 400, status ERROR): Unable to connect with Loki." in msg
    assert "data source 'Tempo': no data source with this name or uid (data sources: Loki, Prometheus)" in msg
    assert 'dashboard uid ilp-a: not in Grafana' in msg


@pytest.mark.parametrize('allow, outcome_expected', [(True, 'exit'), (False, 'fail')])
def test_datasource_without_health_check(run, allow, outcome_expected):
    fake = routes({('GET', '/api/datasources'): [[PROM, AM]],
                   ('GET', '/api/datasources/uid/am/health'): error(404, {'message': 'Not found'})})
    outcome, result, dummy = run(args(allow_unsupported=allow), [fake])
    assert outcome == outcome_expected
    assert [d['status'] for d in result['datasources']] == ['OK', 'UNSUPPORTED']
    if allow:
        assert "data source 'Alertmanager' (uid am, type alertmanager): Grafana has no health check" in result['_warnings'][0]
    else:
        assert result['problems'][0]['kind'] == 'unsupported_health'


JAEGER = {'uid': 'jaeger', 'name': 'Jaeger', 'type': 'jaeger'}
UNAVAILABLE = {'message': 'Plugin unavailable', 'messageId': 'plugin.unavailable', 'statusCode': 500}


@pytest.mark.parametrize('installed', [True, False])
def test_plugin_unavailable_names_a_missing_plugin(run, installed):
    settings = {'id': 'jaeger'} if installed else error(404, {'message': 'Plugin not found, no installed plugin with that id'})
    fake = routes({('GET', '/api/datasources'): [[PROM, JAEGER]],
                   ('GET', '/api/datasources/uid/jaeger/health'): error(500, UNAVAILABLE),
                   ('GET', '/api/plugins/jaeger/settings'): settings})
    outcome, result, dummy = run(args(), [fake])
    assert [d['status'] for d in result['datasources']] == ['OK', 'UNSUPPORTED' if installed else 'MISSING_PLUGIN']
    if installed:
        assert outcome == 'exit', result['msg']
    else:
        assert outcome == 'fail'
        assert result['problems'][0]['kind'] == 'missing_plugin'
        assert ("data source 'Jaeger' (uid jaeger, type jaeger): its plugin 'jaeger' is not installed in Grafana"
                in result['msg'])


def test_only_expected_datasources(run):
    outcome, result, fake = run(args(expected_datasources=['prom'], check_all_datasources=False), [routes()])
    assert outcome == 'exit', result['msg']
    assert [d['uid'] for d in result['datasources']] == ['prom']
    assert 'GET /api/datasources/uid/loki/health' not in fake.requests()


def test_database_failing(run):
    fake = routes({('GET', '/api/health'): error(503, {'database': 'failing', 'version': '12.3.0'})})
    outcome, result, dummy = run(args(check_all_datasources=False), [fake])
    assert outcome == 'fail'
    assert 'Grafana health check failed: HTTP 503, database failing' in result['msg']


def test_unreachable_is_retried_until_wait_timeout(run, clock):
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    outcome, result, dummy = run(dict(url='http://127.0.0.1:1', wait_timeout=3, wait_interval=1), [refused])
    assert outcome == 'fail'
    assert result['msg'].startswith('Cannot connect to Grafana: GET http://127.0.0.1:1/api/health failed')
    assert 'gave up after wait_timeout=3s' in result['msg']
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert fakes.kinds(result) == [('request_failed', 'http://127.0.0.1:1/api/health')]
    assert result['http_calls'] == 4


def test_problems_are_asked_again_every_wait_interval(run, clock):
    loki_down = error(400, {'status': 'ERROR', 'message': 'Unable to connect with Loki.'})
    loki_up = {'status': 'OK', 'message': 'Data source is working'}
    fake = routes({('GET', '/api/datasources/uid/loki/health'): [loki_down, loki_down, loki_up]})
    outcome, result, dummy = run(args(wait_timeout=60), [fake])
    assert outcome == 'exit', result['msg']
    assert clock.sleeps == [5.0, 5.0]
    assert result['elapsed'] == 10
    assert fakes.messages(result) == []


def test_wrong_token_fails_at_once(run, clock):
    body = json.dumps({'message': 'invalid API key %s' % TOKEN}).encode()
    fake = routes({('GET', '/api/datasources'): fakes.http_error(URL + '/api/datasources', 401, 'Unauthorized', body)})
    outcome, result, dummy = run(args(wait_timeout=30), [fake])
    assert outcome == 'fail'
    assert result['status'] == 401
    assert TOKEN not in json.dumps(result)
    assert clock.sleeps == []
