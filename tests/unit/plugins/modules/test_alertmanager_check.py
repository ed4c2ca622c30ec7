# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the alertmanager_check module, with Alertmanager and Prometheus answers mocked."""

from __future__ import annotations

import json
import urllib.error

import pytest

from ansible_collections.ilp.observability.plugins.modules import alertmanager_check
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

MODULE = alertmanager_check
URL = 'http://10.0.0.11:9093'
PROM = 'http://10.0.0.11:9090'
PASSWORD = 'Am-S3cret!'
METRICS_OK = b'# HELP x\nalertmanager_config_last_reload_successful 1\nalertmanager_config_hash 1.2e+14\n'
METRICS_FAILED = b'alertmanager_config_last_reload_successful 0\n'


@pytest.fixture
def run(monkeypatch):
    return fakes.module_runner(monkeypatch, MODULE)


def status(peers=('mon-1', 'mon-2'), cluster_status='ready', config='route:\n  receiver: x\n'):
    return {'cluster': {'name': 'mon-1', 'status': cluster_status,
                        'peers': [{'name': name, 'address': '10.0.0.%d:9094' % i} for i, name in enumerate(peers)]},
            'config': {'original': config}, 'uptime': '2026-11-29T03:00:00Z',
            'versionInfo': {'version': '0.34.2', 'revision': 'v0.34.2'}}


def vector(*samples):
    return {'status': 'success', 'data': {'resultType': 'vector', 'result': [
        {'metric': labels, 'value': [1795924181.0, str(value)]} for labels, value in samples]}}


def both_apis(am_routes, prom_routes=None):
    """Routes for Alertmanager (URL) and Prometheus (PROM), one open_url stand-in."""
    return fakes.WithPrometheus(URL, am_routes, PROM, prom_routes)


def am_routes(answer=None, metrics=METRICS_OK):
    return {('GET', '/api/v2/status'): answer or status(), ('GET', '/metrics'): fakes.FakeResponse(metrics, content_type='text/plain')}


def test_healthy_cluster_without_prometheus(run):
    outcome, result, fake = run(dict(url=URL, expected_peers=2), [fakes.RoutedOpenUrl(URL, am_routes())])
    assert outcome == 'exit', result['msg']
    assert result['ok'] is True and fakes.messages(result) == []
    assert result['config_loaded'] is True and result['config_reload_successful'] is True
    assert result['cluster'] == dict(status='ready', name='mon-1', peers=['mon-1', 'mon-2'], expected=2)
    assert result['version'] == '0.34.2'
    assert 'notifications_failed' not in result
    assert fake.requests() == ['GET /api/v2/status', 'GET /metrics']
    assert result['http_calls'] == 2


def test_check_mode_is_read_only(run):
    outcome, result, dummy = run(dict(url=URL, _ansible_check_mode=True), [fakes.RoutedOpenUrl(URL, am_routes())])
    assert outcome == 'exit' and result['changed'] is False


def test_missing_peer_and_failed_reload_are_named(run):
    routes = am_routes(status(peers=['mon-1'], cluster_status='settling'), METRICS_FAILED)
    outcome, result, dummy = run(dict(url=URL, expected_peers=2), [fakes.RoutedOpenUrl(URL, routes)])
    assert outcome == 'fail'
    assert result['ok'] is False
    assert fakes.messages(result) == [
        'the last configuration reload failed (alertmanager_config_last_reload_successful 0): '
        'Alertmanager runs the previous configuration',
        'cluster has 1 of 2 expected peers (status settling): mon-1']
    assert 'cluster has 1 of 2 expected peers' in result['msg']
    assert [kind for kind, dummy in fakes.kinds(result)] == ['config_reload_failed', 'cluster_incomplete']


@pytest.mark.parametrize('cluster_status, peers, expected, problem', [
    ('disabled', [], 1, None),
    ('disabled', [], 2, 'clustering is disabled, but 2 peers are expected'),
    ('settling', ['a', 'b'], 2, 'cluster status is settling, not ready'),
    ('ready', ['a', 'b', 'c'], 2, 'cluster has 3 of 2 expected peers (status ready): a, b, c'),
])
def test_cluster_states(run, cluster_status, peers, expected, problem):
    routes = am_routes(status(peers=peers, cluster_status=cluster_status))
    outcome, result, dummy = run(dict(url=URL, expected_peers=expected), [fakes.RoutedOpenUrl(URL, routes)])
    assert fakes.messages(result) == ([problem] if problem else [])
    assert outcome == ('fail' if problem else 'exit')


def test_no_configuration_loaded(run):
    routes = am_routes(status(config=''))
    outcome, result, dummy = run(dict(url=URL), [fakes.RoutedOpenUrl(URL, routes)])
    assert outcome == 'fail' and fakes.messages(result) == ['no configuration loaded']
    assert result['config_loaded'] is False


def test_failing_notifications_from_prometheus(run):
    both = both_apis(am_routes(), {('GET', '/api/v1/query'): vector(({'instance': 'mon-1', 'integration': 'webhook'}, 3))})
    outcome, result, dummy = run(dict(url=URL, prometheus_url=PROM, instance='mon-1', notifications_window='10m'), [both])
    assert outcome == 'fail'
    assert result['notifications_failed'] == [dict(instance='mon-1', integration='webhook', failed=3.0)]
    assert fakes.kinds(result) == [('notifications_failed', 'mon-1/webhook')]
    assert fakes.messages(result) == ['integration webhook of mon-1 failed 3 notification(s) in the last 10m']
    (query_call,) = both.prom.calls
    assert 'alertmanager_notifications_failed_total%7Bjob%3D~%22alertmanager%22%2C+instance%3D%22mon-1%22%7D%5B10m%5D' \
        in query_call['url']
    assert result['http_calls'] == 3


def test_no_failing_notification_and_prometheus_credentials(run):
    both = both_apis(am_routes(), {('GET', '/api/v1/query'): vector()})
    outcome, result, dummy = run(dict(url=URL, url_username='am', url_password=PASSWORD, prometheus_url=PROM,
                                      prometheus_username='prom', prometheus_password='P-secret'), [both])
    assert outcome == 'exit', result['msg']
    assert result['notifications_failed'] == []
    assert 'no failed notification in 15m' in result['msg']
    assert both.service.calls[0]['url_username'] == 'am' and both.service.calls[0]['url_password'] == PASSWORD
    assert both.prom.calls[0]['url_username'] == 'prom' and both.prom.calls[0]['url_password'] == 'P-secret'


def test_fail_on_problems_false_returns_them_with_a_warning(run):
    routes = am_routes(status(peers=['mon-1']))
    outcome, result, dummy = run(dict(url=URL, expected_peers=2, fail_on_problems=False), [fakes.RoutedOpenUrl(URL, routes)])
    assert outcome == 'exit'
    assert result['ok'] is False and len(result['problems']) == 1
    assert result['_warnings'] and 'cluster has 1 of 2' in result['_warnings'][0]


def test_unreachable_fails_without_the_password(run):
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    outcome, result, dummy = run(dict(url=URL, url_username='am', url_password=PASSWORD), [refused])
    assert outcome == 'fail'
    assert result['msg'].startswith('Cannot connect to Alertmanager: GET http://10.0.0.11:9093/api/v2/status failed')
    assert PASSWORD not in json.dumps(result)


def test_unreadable_metrics_only_warn(run):
    routes = {('GET', '/api/v2/status'): status()}
    outcome, result, dummy = run(dict(url=URL), [fakes.RoutedOpenUrl(URL, routes)])
    assert outcome == 'exit', result['msg']
    assert result['config_reload_successful'] is None
    assert 'reload state unknown' in result['_warnings'][0]


@pytest.mark.parametrize('args, message', [
    (dict(expected_peers=0), 'expected_peers must be 1 or more'),
    (dict(notifications_window='ten minutes'), 'notifications_window must be a Prometheus duration'),
])
def test_invalid_options(run, args, message):
    outcome, result, dummy = run(dict(url=URL, **args), [status()])
    assert outcome == 'fail' and message in result['msg']
