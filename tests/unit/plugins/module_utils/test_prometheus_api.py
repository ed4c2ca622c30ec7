# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the shared Prometheus API client (open_url is mocked)."""

from __future__ import annotations

import json
import socket
import urllib.error

import pytest

from ansible.module_utils.urls import SSLValidationError
from ansible_collections.ilp.observability.plugins.module_utils.prometheus_api import (
    PrometheusAPI,
    PrometheusAPIError,
    body_snippet,
    strip_userinfo,
)
from ansible_collections.ilp.observability.plugins.module_utils.http_api import connection_argument_spec, module_kwargs
from ansible_collections.ilp.observability.tests.unit.plugins.fakes import FakeResponse, http_error, install_open_url

PASSWORD = 'S3cret-Passw0rd!'
TOKEN = 'tok-abcdef-0123456789'


def params(**overrides):
    values = dict((name, spec.get('default')) for name, spec in connection_argument_spec().items())
    values['url'] = 'http://127.0.0.1:9090'
    values.update(overrides)
    return values


@pytest.fixture
def fake_open(monkeypatch):
    def install(*answers):
        return install_open_url(monkeypatch, *answers)
    return install


SUCCESS = {'status': 'success', 'data': {'groups': []}}


def test_argument_spec_shared_options():
    spec = connection_argument_spec()
    assert spec['url']['required'] is True
    assert spec['url_password']['no_log'] is True
    assert spec['bearer_token']['no_log'] is True
    assert spec['validate_certs']['default'] is True
    assert spec['force_basic_auth']['default'] is True
    # a fresh copy every time: modules may change theirs
    spec['url']['required'] = False
    assert connection_argument_spec()['url']['required'] is True


def test_module_kwargs_merge_module_options():
    kwargs = module_kwargs(dict(expected_groups=dict(type='list')))
    assert 'expected_groups' in kwargs['argument_spec']
    assert 'url' in kwargs['argument_spec']
    assert 'wait_timeout' not in kwargs['argument_spec']
    assert ('bearer_token', 'url_password') in kwargs['mutually_exclusive']
    assert ('url_username', 'url_password') in kwargs['required_together']


def test_module_kwargs_of_a_check_module():
    spec = module_kwargs(dict(fail_on_problems=dict(type='bool', default=False)), check=True)['argument_spec']
    assert spec['wait_timeout'] == dict(type='int', default=0)
    assert spec['wait_interval'] == dict(type='float', default=5.0)
    assert spec['fail_on_problems']['default'] is False  # the module's own option wins


@pytest.mark.parametrize('url, expected', [
    ('http://127.0.0.1:9090', 'http://127.0.0.1:9090/api/v1/rules'),
    ('http://127.0.0.1:9090/', 'http://127.0.0.1:9090/api/v1/rules'),
    ('https://mon.example.com/prometheus/', 'https://mon.example.com/prometheus/api/v1/rules'),
])
def test_url_for(url, expected):
    assert PrometheusAPI(params(url=url)).url_for('/api/v1/rules') == expected


def test_url_for_encodes_query():
    api = PrometheusAPI(params())
    assert api.url_for('api/v1/targets', dict(state='active')) == 'http://127.0.0.1:9090/api/v1/targets?state=active'


@pytest.mark.parametrize('url', ['127.0.0.1:9090', 'ftp://host/', 'not a url', '', 'http://'])
def test_invalid_url_is_rejected(url):
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params(url=url))
    assert 'Invalid Prometheus url' in str(err.value)
    assert 'http://127.0.0.1:9090' in str(err.value)  # shows what a good URL looks like


def test_get_data_success_and_request_options(fake_open):
    fake = fake_open(FakeResponse(SUCCESS))
    api = PrometheusAPI(params(validate_certs=False, ca_path='/etc/ca.pem', client_cert='/c.pem', client_key='/k.pem',
                               request_timeout=3.5, use_proxy=False))
    assert api.get_data('/api/v1/rules') == {'groups': []}
    call = fake.calls[0]
    assert call['url'] == 'http://127.0.0.1:9090/api/v1/rules'
    assert call['method'] == 'GET'
    assert call['validate_certs'] is False
    assert call['ca_path'] == '/etc/ca.pem'
    assert call['client_cert'] == '/c.pem'
    assert call['client_key'] == '/k.pem'
    assert call['timeout'] == 3.5
    assert call['use_proxy'] is False
    assert 'Authorization' not in call['headers']


def test_basic_auth_passed_to_open_url(fake_open):
    fake = fake_open(FakeResponse(SUCCESS))
    PrometheusAPI(params(url_username='ansible', url_password=PASSWORD)).get_data('/api/v1/rules')
    call = fake.calls[0]
    assert call['url_username'] == 'ansible'
    assert call['url_password'] == PASSWORD
    assert call['force_basic_auth'] is True


def test_bearer_token_header_sent(fake_open):
    fake = fake_open(FakeResponse(SUCCESS))
    PrometheusAPI(params(bearer_token=TOKEN)).get_data('/api/v1/rules')
    call = fake.calls[0]
    assert call['headers']['Authorization'] == 'Bearer ' + TOKEN
    assert call['use_netrc'] is False  # a ~/.netrc entry must not replace the token


def test_http_401_clear_message_without_password(fake_open):
    url = 'http://127.0.0.1:9090/api/v1/rules'
    fake_open(http_error(url, 401, 'Unauthorized', b'Unauthorized\n'))
    api = PrometheusAPI(params(url_username='ansible', url_password=PASSWORD))
    with pytest.raises(PrometheusAPIError) as err:
        api.get_data('/api/v1/rules')
    exc = err.value
    assert exc.status == 401
    assert exc.retryable is False
    assert 'HTTP 401' in exc.msg
    assert url in exc.msg
    assert 'url_username/url_password' in exc.msg
    assert PASSWORD not in exc.msg
    assert exc.to_result() == dict(url=url, status=401)


def test_prometheus_error_document_is_shown(fake_open):
    body = json.dumps({'status': 'error', 'errorType': 'bad_data', 'error': 'invalid parameter "state"'}).encode()
    fake_open(http_error('http://127.0.0.1:9090/api/v1/targets?state=x', 400, 'Bad Request', body))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params()).get_data('/api/v1/targets', dict(state='x'))
    assert 'HTTP 400' in err.value.msg
    assert 'bad_data: invalid parameter "state"' in err.value.msg


def test_http_503_is_retryable(fake_open):
    fake_open(http_error('http://127.0.0.1:9090/api/v1/rules', 503, 'Service Unavailable', b'Service Unavailable'))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params()).get_data('/api/v1/rules')
    assert err.value.retryable is True
    assert err.value.status == 503


def test_invalid_json_clear_message(fake_open):
    fake_open(FakeResponse(b'<html><body>Grafana login</body></html>', content_type='text/html'))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params()).get_data('/api/v1/rules')
    msg = err.value.msg
    assert 'not valid JSON' in msg
    assert 'HTTP 200' in msg
    assert 'http://127.0.0.1:9090/api/v1/rules' in msg
    assert 'Grafana login' in msg
    assert 'text/html' in msg
    assert err.value.retryable is False


def test_json_without_status_is_rejected(fake_open):
    fake_open(FakeResponse([1, 2, 3]))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params()).get_data('/api/v1/rules')
    assert 'not return a Prometheus API response' in err.value.msg


def test_status_error_in_200_answer(fake_open):
    fake_open(FakeResponse({'status': 'error', 'errorType': 'internal', 'error': 'boom'}))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params()).get_data('/api/v1/rules')
    assert "status 'error'" in err.value.msg
    assert 'internal: boom' in err.value.msg


def test_api_warnings_are_collected(fake_open):
    fake_open(FakeResponse({'status': 'success', 'data': {}, 'warnings': ['partial data']}))
    api = PrometheusAPI(params())
    api.get_data('/api/v1/rules')
    assert api.warnings == ['Prometheus API warning from http://127.0.0.1:9090/api/v1/rules: partial data']


def test_connection_refused_is_retryable(fake_open):
    fake_open(urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused')))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params(url='http://127.0.0.1:1')).get_data('/api/v1/rules')
    assert 'Cannot connect to Prometheus' in err.value.msg
    assert 'Connection refused' in err.value.msg
    assert 'http://127.0.0.1:1/api/v1/rules' in err.value.msg
    assert err.value.retryable is True
    assert err.value.status is None


def test_timeout_is_retryable(fake_open):
    fake_open(socket.timeout('timed out'))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params(request_timeout=2.0)).get_data('/api/v1/rules')
    assert 'Timed out after 2.0s' in err.value.msg
    assert err.value.retryable is True


def test_tls_validation_error_is_not_retried(fake_open):
    fake_open(SSLValidationError('certificate verify failed: self-signed certificate'))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params(url='https://127.0.0.1:9090')).get_data('/api/v1/rules')
    assert 'certificate verify failed' in err.value.msg
    assert err.value.retryable is False


def test_credentials_in_url_are_never_shown(fake_open):
    url = 'http://ansible:%s@127.0.0.1:9090' % PASSWORD
    fake_open(http_error(url + '/api/v1/rules', 401, 'Unauthorized', b'Unauthorized'))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params(url=url)).get_data('/api/v1/rules')
    assert PASSWORD not in err.value.msg
    assert PASSWORD not in err.value.url
    assert 'http://127.0.0.1:9090/api/v1/rules' in err.value.msg


def test_secrets_echoed_by_a_proxy_are_redacted(fake_open):
    body = ('invalid token %s for user' % TOKEN).encode()
    fake_open(http_error('http://127.0.0.1:9090/api/v1/rules', 403, 'Forbidden', body))
    with pytest.raises(PrometheusAPIError) as err:
        PrometheusAPI(params(bearer_token=TOKEN)).get_data('/api/v1/rules')
    assert TOKEN not in err.value.msg
    assert TOKEN not in err.value.body
    assert '********' in err.value.msg
    assert 'HTTP 403' in err.value.msg


def test_helpers():
    assert strip_userinfo('https://u:p@host:9090/x') == 'https://host:9090/x'
    assert strip_userinfo('http://host:9090') == 'http://host:9090'
    assert body_snippet(b'a\n  b\tc') == 'a b c'
    assert body_snippet('x' * 500, limit=10) == 'x' * 10 + '...'
