# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Every check module has the same shape: the shared options and the same result fields."""

from __future__ import annotations

import urllib.error

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.ilp.observability.plugins.module_utils import http_api
from ansible_collections.ilp.observability.plugins.modules import (
    alertmanager_check,
    grafana_check,
    grafana_dashboard,
    jaeger_check,
    logs_check,
    prometheus_rules_check,
    prometheus_targets_check,
)
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

CHECKS = [alertmanager_check, grafana_check, jaeger_check, logs_check, prometheus_rules_check, prometheus_targets_check]
HTTP_MODULES = CHECKS + [grafana_dashboard]


class Captured(Exception):
    pass


def module_kwargs_of(monkeypatch, module):
    """The keyword arguments the module gives AnsibleModule."""
    def capture(self, **kwargs):
        raise Captured(kwargs)
    monkeypatch.setattr(basic.AnsibleModule, '__init__', capture)
    with patch_module_args({'url': 'http://127.0.0.1:1'}):
        with pytest.raises(Captured) as captured:
            module.main()
    return captured.value.args[0]


@pytest.mark.parametrize('module', CHECKS, ids=lambda m: m.__name__.rsplit('.', 1)[-1])
def test_check_module_documents_and_takes_the_shared_check_options(monkeypatch, module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    returned = yaml.safe_load(module.RETURN)
    assert 'ilp.observability.http_api.check' in doc['extends_documentation_fragment']
    assert returned['ok']['type'] == 'bool' and returned['ok']['returned'] == 'always'
    assert returned['problems']['type'] == 'list' and returned['problems']['elements'] == 'dict'
    assert {'kind', 'subject', 'message'} <= set(returned['problems']['contains'])
    assert returned['problems']['returned'] == 'always'
    assert returned['http_calls']['type'] == 'int' and returned['http_calls']['returned'] == 'always'
    assert 'elapsed' in returned
    spec = module_kwargs_of(monkeypatch, module)['argument_spec']
    assert spec['wait_timeout'] == dict(type='int', default=0)
    assert spec['wait_interval'] == dict(type='float', default=5.0)
    assert spec['fail_on_problems'] == dict(type='bool', default=True)
    # no module keeps a way of waiting of its own
    assert not {'timeout', 'interval', 'fail_on_down'} & set(spec)


@pytest.mark.parametrize('module', HTTP_MODULES, ids=lambda m: m.__name__.rsplit('.', 1)[-1])
def test_http_module_takes_the_shared_connection(monkeypatch, module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc['extends_documentation_fragment'][0] == 'ilp.observability.http_api'
    kwargs = module_kwargs_of(monkeypatch, module)
    for name, option in http_api.connection_argument_spec().items():
        assert kwargs['argument_spec'][name] == option, name
    assert ('bearer_token', 'url_password') in kwargs['mutually_exclusive']
    assert kwargs['supports_check_mode'] is True


@pytest.fixture
def run(monkeypatch):
    return fakes.module_runner(monkeypatch, alertmanager_check)


AM = 'http://10.0.0.11:9093'


def am_status(cluster_status):
    return {'config': {'original': 'route: {}\n'}, 'versionInfo': {'version': '0.28.1'},
            'cluster': {'status': cluster_status, 'name': 'mon-1', 'peers': [{'name': 'mon-1'}, {'name': 'mon-2'}]}}


def test_a_stack_check_waits_until_its_problems_are_gone(run, monkeypatch):
    clock = fakes.install_clock(monkeypatch, http_api)
    routes = {('GET', '/api/v2/status'): [am_status('settling'), am_status('settling'), am_status('ready')],
              ('GET', '/metrics'): fakes.FakeResponse(b'alertmanager_config_last_reload_successful 1\n', content_type='text/plain')}
    outcome, result, fake = run(dict(url=AM, expected_peers=2, wait_timeout=60, wait_interval=10), [fakes.RoutedOpenUrl(AM, routes)])
    assert outcome == 'exit', result['msg']
    assert fakes.messages(result) == []
    assert clock.sleeps == [10, 10]
    assert result['http_calls'] == 6 and result['elapsed'] == 20


def test_a_stack_check_gives_up_at_wait_timeout_naming_the_problem(run, monkeypatch):
    clock = fakes.install_clock(monkeypatch, http_api)
    routes = {('GET', '/api/v2/status'): am_status('settling'),
              ('GET', '/metrics'): fakes.FakeResponse(b'alertmanager_config_last_reload_successful 1\n', content_type='text/plain')}
    outcome, result, dummy = run(dict(url=AM, expected_peers=2, wait_timeout=12, wait_interval=5), [fakes.RoutedOpenUrl(AM, routes)])
    assert outcome == 'fail'
    assert clock.sleeps == [5, 5, 2]
    assert fakes.kinds(result) == [('cluster_incomplete', 'mon-1')]
    assert '(after waiting 12s): cluster status is settling, not ready' in result['msg']


def test_unreachable_service_is_a_request_failed_problem(run, monkeypatch):
    fakes.install_clock(monkeypatch, http_api)
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    outcome, result, dummy = run(dict(url=AM, wait_timeout=10), [refused])
    assert outcome == 'fail'
    assert fakes.kinds(result) == [('request_failed', AM + '/api/v2/status')]
    assert result['http_calls'] == 3  # at 0, 5 and 10 seconds


@pytest.mark.parametrize('args, message', [
    (dict(wait_timeout=-1), 'wait_timeout must be 0 or more'),
    (dict(wait_interval=0), 'wait_interval must be more than 0'),
])
def test_invalid_wait_options(run, args, message):
    outcome, result, dummy = run(dict(url=AM, **args), [am_status('ready')])
    assert outcome == 'fail' and message in result['msg']
