# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the shared HTTP client and the Grafana API client (open_url is mocked)."""

from __future__ import annotations

import json
import urllib.error

import pytest

from ansible_collections.ilp.observability.plugins.module_utils import http_api
from ansible_collections.ilp.observability.plugins.module_utils.grafana_api import (
    GRAFANA_OPTIONS,
    GrafanaAPI,
    GrafanaAPIError,
)
from ansible_collections.ilp.observability.plugins.module_utils.prometheus_api import PrometheusAPI, PrometheusAPIError
from ansible_collections.ilp.observability.tests.unit.plugins.fakes import (
    FakeResponse,
    RoutedOpenUrl,
    http_error,
    install_open_url,
)

URL = 'http://127.0.0.1:3000'
PASSWORD = 'Gr4fana-Passw0rd!'
TOKEN = 'glsa_0123456789abcdef0123456789abcdef_0a1b2c3d'


def params(**overrides):
    values = dict((name, spec.get('default')) for name, spec in http_api.module_kwargs(GRAFANA_OPTIONS)['argument_spec'].items())
    values['url'] = URL
    values.update(overrides)
    return values


def routed(monkeypatch, routes):
    return install_open_url(monkeypatch, RoutedOpenUrl(URL, routes))


def test_grafana_modules_take_the_shared_options_and_org_id():
    kwargs = http_api.module_kwargs(dict(GRAFANA_OPTIONS, x=dict(type='str')), mutually_exclusive=[('a', 'b')],
                                    required_one_of=[('a', 'b')])
    spec = kwargs['argument_spec']
    assert spec['bearer_token']['no_log'] is True and spec['bearer_token']['aliases'] == ['token']
    assert spec['url_password']['no_log'] is True
    assert spec['org_id'] == dict(type='int')
    assert ('bearer_token', 'url_username') in kwargs['mutually_exclusive']
    assert ('a', 'b') in kwargs['mutually_exclusive']
    assert kwargs['required_one_of'] == [('a', 'b')]
    assert kwargs['supports_check_mode'] is True
    assert 'x' in spec and 'wait_timeout' not in spec


def test_token_and_org_headers(monkeypatch):
    fake = routed(monkeypatch, {('GET', '/api/datasources'): [[]]})
    GrafanaAPI(params(bearer_token=TOKEN, org_id=2)).datasources()
    headers = fake.calls[0]['headers']
    assert headers['Authorization'] == 'Bearer ' + TOKEN
    assert headers['X-Grafana-Org-Id'] == '2'
    assert fake.calls[0]['use_netrc'] is False


def test_post_sends_json_and_counts_calls(monkeypatch):
    fake = routed(monkeypatch, {('POST', '/api/dashboards/db'): {'uid': 'a', 'version': 1, 'status': 'success'}})
    api = GrafanaAPI(params(url_username='admin', url_password=PASSWORD))
    saved = api.save_dashboard({'uid': 'a', 'title': 'A'}, 'fold', 'msg', overwrite=True)
    assert saved['version'] == 1
    call = fake.calls[0]
    assert call['method'] == 'POST'
    assert call['headers']['Content-Type'] == 'application/json'
    assert call['json'] == {'dashboard': {'uid': 'a', 'title': 'A'}, 'folderUid': 'fold', 'message': 'msg', 'overwrite': True}
    assert 'folderId' not in call['json']
    assert call['url_username'] == 'admin' and call['force_basic_auth'] is True
    assert api.calls == 1 and api.calls_by_method == {'POST': 1}


def test_one_ssl_context_per_client(monkeypatch):
    fake = routed(monkeypatch, {('GET', '/api/datasources'): [[]]})
    api = GrafanaAPI(params(validate_certs=False, ca_path='/etc/ilp/ca.pem', client_cert='/c.pem', client_key='/k.pem'))
    for dummy in range(3):
        api.datasources()
    assert fake.contexts == [dict(cafile='/etc/ilp/ca.pem', validate_certs=False, client_cert='/c.pem', client_key='/k.pem')]
    assert [c['context'] for c in fake.calls] == ['ssl-context-1'] * 3
    assert fake.calls[0]['validate_certs'] is False and fake.calls[0]['ca_path'] == '/etc/ilp/ca.pem'


def test_search_follows_pages(monkeypatch):
    page1 = [{'uid': 'd%d' % i, 'type': 'dash-db'} for i in range(3)]
    page2 = [{'uid': 'd3', 'type': 'dash-db'}]
    fake = routed(monkeypatch, {('GET', '/api/search'): [page1, page2]})
    hits = GrafanaAPI(params()).search([('type', 'dash-db')], page_size=3)
    assert [h['uid'] for h in hits] == ['d0', 'd1', 'd2', 'd3']
    assert [c['query'] for c in fake.calls] == ['type=dash-db&limit=3&page=1', 'type=dash-db&limit=3&page=2']


def test_search_dashboards_by_uid_in_chunks(monkeypatch):
    fake = routed(monkeypatch, {('GET', '/api/search'): [[]]})
    GrafanaAPI(params()).search_dashboards(dashboard_uids=['u%d' % i for i in range(150)])
    assert len(fake.calls) == 2
    assert fake.calls[0]['query'].count('dashboardUIDs=') == 100
    assert fake.calls[1]['query'].count('dashboardUIDs=') == 50


def test_get_dashboard_404_is_none(monkeypatch):
    routed(monkeypatch, {})
    assert GrafanaAPI(params()).get_dashboard('nope') is None


@pytest.mark.parametrize('answer', [
    [{'version': 2, 'message': 'b'}, {'version': 3, 'message': 'c'}],
    {'continueToken': '', 'versions': [{'version': 3, 'message': 'c'}, {'version': 2, 'message': 'b'}]},
])
def test_versions_both_formats_newest_first(monkeypatch, answer):
    fake = routed(monkeypatch, {('GET', '/api/dashboards/uid/a/versions'): [answer]})
    versions = GrafanaAPI(params()).dashboard_versions('a', limit=1)
    assert [v['version'] for v in versions] == [3, 2]
    assert fake.calls[0]['query'] == 'limit=1'


def test_412_error_keeps_grafana_status(monkeypatch):
    body = json.dumps({'message': 'The dashboard has been changed by someone else', 'status': 'version-mismatch'}).encode()
    routed(monkeypatch, {('POST', '/api/dashboards/db'): http_error(URL + '/api/dashboards/db', 412, 'Precondition Failed', body)})
    with pytest.raises(GrafanaAPIError) as err:
        GrafanaAPI(params()).save_dashboard({'uid': 'a', 'title': 'A'}, '', 'm')
    assert err.value.status == 412
    assert err.value.grafana_status == 'version-mismatch'
    assert 'changed by someone else (status version-mismatch)' in err.value.msg
    assert 'POST http://127.0.0.1:3000/api/dashboards/db failed with HTTP 412' in err.value.msg


def test_401_and_403_hints_without_secrets(monkeypatch):
    body = ('{"message": "invalid API key %s"}' % TOKEN).encode()
    routed(monkeypatch, {('GET', '/api/datasources'): http_error(URL + '/api/datasources', 401, 'Unauthorized', body),
                         ('POST', '/api/folders'): http_error(URL + '/api/folders', 403, 'Forbidden', b'{"message": "Access denied"}')})
    api = GrafanaAPI(params(bearer_token=TOKEN))
    with pytest.raises(GrafanaAPIError) as err:
        api.datasources()
    assert 'HTTP 401' in err.value.msg and 'service account token' in err.value.msg
    assert TOKEN not in err.value.msg and '********' in err.value.msg
    with pytest.raises(GrafanaAPIError) as err:
        api.create_folder('f', 'F')
    assert 'HTTP 403' in err.value.msg and 'Editor or Admin role' in err.value.msg


def test_folder_409_is_returned(monkeypatch):
    routed(monkeypatch, {('POST', '/api/folders'): http_error(URL + '/api/folders', 409, 'Conflict', b'{"message": "exists"}')})
    assert GrafanaAPI(params()).create_folder('f', 'F', 'parent')[0] == 409


@pytest.mark.parametrize('code, body, expected', [
    (200, {'status': 'OK', 'message': 'fine'}, (200, 'OK')),
    (400, {'status': 'ERROR', 'message': 'dial tcp: connection refused'}, (400, 'ERROR')),
    (404, {'message': 'Not found'}, (404, None)),
    (500, {'messageId': 'plugin.unavailable', 'message': 'Plugin unavailable'}, (500, None)),
])
def test_datasource_health_statuses(monkeypatch, code, body, expected):
    answer = FakeResponse(body) if code == 200 else http_error(URL, code, 'x', json.dumps(body).encode())
    routed(monkeypatch, {('GET', '/api/datasources/uid/p/health'): answer})
    status, doc = GrafanaAPI(params()).datasource_health('p')
    assert (status, doc.get('status')) == expected


def test_connection_refused_names_grafana(monkeypatch):
    install_open_url(monkeypatch, urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused')))
    with pytest.raises(GrafanaAPIError) as err:
        GrafanaAPI(params(url='http://127.0.0.1:1')).health()
    assert err.value.msg.startswith('Cannot connect to Grafana: GET http://127.0.0.1:1/api/health failed')
    assert err.value.retryable is True


def test_invalid_url_shows_an_example():
    with pytest.raises(GrafanaAPIError) as err:
        GrafanaAPI(params(url='grafana:3000'))
    assert 'Invalid Grafana url' in err.value.msg and 'http://127.0.0.1:3000' in err.value.msg


def test_shared_client_is_the_one_of_the_prometheus_modules():
    assert issubclass(PrometheusAPI, http_api.HTTPAPIClient)
    assert issubclass(GrafanaAPI, http_api.HTTPAPIClient)
    assert issubclass(PrometheusAPIError, http_api.HTTPAPIError)
    assert issubclass(GrafanaAPIError, http_api.HTTPAPIError)
