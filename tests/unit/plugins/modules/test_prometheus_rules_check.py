# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the prometheus_rules_check module, with /api/v1/rules answers mocked."""

from __future__ import annotations

import copy
import json
import urllib.error

import pytest

from ansible_collections.ilp.observability.plugins.modules import prometheus_rules_check
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

MODULE = prometheus_rules_check  # for the clock and run fixtures of conftest.py
URL = 'http://127.0.0.1:9090'
RULES_URL = URL + '/api/v1/rules'
RULES_FILE = '/etc/prometheus/rules/ilp_connector.rules.yml'
PASSWORD = 'S3cret-Passw0rd!'
TOKEN = 'tok-abcdef-0123456789'


def recording_rule(name, query, health='ok', last_error=None):
    rule = {
        'name': name,
        'query': query,
        'labels': {},
        'health': health,
        'evaluationTime': 0.000124646,
        'lastEvaluation': '2026-11-22T19:05:48.345449149Z',
        'type': 'recording',
    }
    if last_error:
        rule['lastError'] = last_error
    if health == 'unknown':
        rule['evaluationTime'] = 0
        rule['lastEvaluation'] = '0001-01-01T00:00:00Z'
    return rule


def alerting_rule(name, query, health='ok'):
    return {
        'state': 'inactive',
        'name': name,
        'query': query,
        'duration': 300,
        'keepFiringFor': 0,
        'labels': {'severity': 'critical'},
        'annotations': {'summary': 'ILP connector down', 'runbook_url': 'https://example.invalid/runbooks/ilp'},
        'alerts': [],
        'health': health,
        'evaluationTime': 0.000233,
        'lastEvaluation': '2026-11-22T19:05:48.369016506Z',
        'type': 'alerting',
    }


def group(name, rules, file=RULES_FILE, evaluation_time=0.000247734):
    return {
        'name': name,
        'file': file,
        'rules': rules,
        'interval': 15,
        'limit': 0,
        'evaluationTime': evaluation_time,
        'lastEvaluation': '2026-11-22T19:05:48.36882237Z',
    }


def healthy_groups():
    return [
        group('ilp_connector_recording', [
            recording_rule('ilp:packets_fulfilled:rate5m', 'sum by (instance) (rate(ilp_packets_fulfilled_total[5m]))'),
            recording_rule('job:up:sum', 'sum by (job) (up)'),
        ]),
        group('ilp_connector_alerts', [
            alerting_rule('IlpConnectorDown', 'up{job="ilp_connector"} == 0'),
        ]),
    ]


def rules_answer(groups):
    return {'status': 'success', 'data': {'groups': groups}}


def http_error(code, reason, body):
    return fakes.http_error(RULES_URL, code, reason, body)


def test_healthy_rules_pass(run):
    outcome, result, fake = run(dict(url=URL, expected_groups=['ilp_connector_recording', 'ilp_connector_alerts'],
                                     expected_files=[RULES_FILE], max_evaluation_seconds=1.0),
                                [rules_answer(healthy_groups())])
    assert outcome == 'exit', result['msg']
    assert result['changed'] is False
    assert result['problems'] == []
    assert result['rules'] == 3
    assert [g['name'] for g in result['groups']] == ['ilp_connector_recording', 'ilp_connector_alerts']
    first = result['groups'][0]
    assert first == dict(name='ilp_connector_recording', file=RULES_FILE, rule_count=2, interval=15.0,
                         evaluationTime=0.000247734, lastEvaluation='2026-11-22T19:05:48.36882237Z')
    assert fake.calls[0]['url'] == RULES_URL
    assert len(fake.calls) == 1


def test_check_mode_is_read_only(run):
    outcome, result, dummy = run(dict(url=URL, _ansible_check_mode=True), [rules_answer(healthy_groups())])
    assert outcome == 'exit'
    assert result['changed'] is False


def test_missing_group_is_reported(run):
    outcome, result, dummy = run(dict(url=URL, expected_groups=['ilp_connector_alerts', 'node_alerts']),
                                 [rules_answer(healthy_groups())])
    assert outcome == 'fail'
    assert result['problems'] == [dict(
        group='node_alerts', file=None, rule=None, kind='missing_group', subject='node_alerts',
        message="group 'node_alerts': expected group is not loaded (loaded groups: ilp_connector_alerts, ilp_connector_recording)",
    )]
    assert "group 'node_alerts'" in result['msg']
    assert '1 problem(s)' in result['msg']
    assert result['rules'] == 3  # the groups are still returned


def test_group_from_another_file_does_not_count(run):
    outcome, result, dummy = run(dict(url=URL, expected_groups=['ilp_connector_alerts'], expected_files=['/etc/prometheus/rules/other.yml']),
                                 [rules_answer(healthy_groups())])
    assert outcome == 'fail'
    kinds = sorted(p['kind'] for p in result['problems'])
    assert kinds == ['missing_group', 'unexpected_file', 'unexpected_file']


def test_unexpected_file(run):
    groups = healthy_groups() + [group('stale', [recording_rule('old:rule', 'vector(1)')], file='/etc/prometheus/rules/old.yml')]
    outcome, result, dummy = run(dict(url=URL, expected_files=[RULES_FILE]), [rules_answer(groups)])
    assert outcome == 'fail'
    assert [(p['group'], p['kind'], p['file']) for p in result['problems']] == [
        ('stale', 'unexpected_file', '/etc/prometheus/rules/old.yml')]
    assert '/etc/prometheus/rules/old.yml' in result['msg']


def test_rule_last_error_is_reported_with_group_and_rule(run):
    groups = healthy_groups()
    error = 'vector contains metrics with the same labelset after applying rule labels'
    groups[0]['rules'][1] = recording_rule('job:up:sum', '{__name__=~"up|scrape_duration_seconds"}', health='err', last_error=error)
    outcome, result, dummy = run(dict(url=URL), [rules_answer(groups)])
    assert outcome == 'fail'
    assert len(result['problems']) == 1
    problem = result['problems'][0]
    assert problem['kind'] == 'last_error'
    assert problem['group'] == 'ilp_connector_recording'
    assert problem['rule'] == 'job:up:sum' and problem['subject'] == 'job:up:sum'
    assert problem['file'] == RULES_FILE
    assert error in problem['message']
    assert "group 'ilp_connector_recording' rule 'job:up:sum'" in result['msg']
    assert error in result['msg']


def test_every_problem_is_listed(run):
    groups = healthy_groups()
    groups[0]['rules'][0] = recording_rule('ilp:packets_fulfilled:rate5m', 'x', health='err', last_error='first error')
    groups[1]['rules'][0] = recording_rule('IlpConnectorDown', 'y', health='err', last_error='second error')
    groups[1]['evaluationTime'] = 3.5
    outcome, result, dummy = run(dict(url=URL, expected_groups=['absent'], max_evaluation_seconds=2), [rules_answer(groups)])
    assert outcome == 'fail'
    assert [p['kind'] for p in result['problems']] == ['missing_group', 'slow_group', 'last_error', 'last_error']
    for text in ("group 'absent'", "rule 'ilp:packets_fulfilled:rate5m'", 'first error', "rule 'IlpConnectorDown'",
                 'second error', "group 'ilp_connector_alerts': last evaluation took 3.500s"):
        assert text in result['msg']
    assert '4 problem(s)' in result['msg']


def test_unhealthy_rule_without_error_text(run):
    groups = healthy_groups()
    groups[1]['rules'][0]['health'] = 'err'
    outcome, result, dummy = run(dict(url=URL), [rules_answer(groups)])
    assert outcome == 'fail'
    assert result['problems'][0]['kind'] == 'unhealthy'
    assert 'health is err' in result['msg']


def test_slow_group(run):
    groups = healthy_groups()
    groups[0]['evaluationTime'] = 2.75
    outcome, result, dummy = run(dict(url=URL, max_evaluation_seconds=0.5), [rules_answer(groups)])
    assert outcome == 'fail'
    assert result['problems'] == [dict(
        group='ilp_connector_recording', file=RULES_FILE, rule=None, kind='slow_group', subject='ilp_connector_recording',
        message="group 'ilp_connector_recording': last evaluation took 2.750s, more than max_evaluation_seconds=0.5")]


def test_allow_unhealthy_warns_instead_of_failing(run):
    groups = healthy_groups()
    groups[0]['rules'][1] = recording_rule('job:up:sum', 'x', health='err', last_error='many-to-many matching not allowed')
    outcome, result, dummy = run(dict(url=URL, allow_unhealthy=True), [rules_answer(groups)])
    assert outcome == 'exit'
    assert result['problems'] == []
    assert any('many-to-many matching not allowed' in w for w in result['_warnings'])


def unknown_groups():
    groups = healthy_groups()
    for g in groups:
        g['rules'] = [dict(r, health='unknown', evaluationTime=0, lastEvaluation='0001-01-01T00:00:00Z') for r in g['rules']]
        g['lastEvaluation'] = '0001-01-01T00:00:00Z'
        g['evaluationTime'] = 0
    return groups


def test_unknown_then_ok_with_wait(run, clock):
    outcome, result, fake = run(dict(url=URL, wait_timeout=30),
                                [rules_answer(unknown_groups()), rules_answer(unknown_groups()), rules_answer(healthy_groups())])
    assert outcome == 'exit', result['msg']
    assert result['problems'] == []
    assert len(fake.calls) == 3
    assert clock.sleeps == [5.0, 5.0]
    assert result['http_calls'] == 3 and result['elapsed'] == 10


def test_missing_group_then_loaded_with_wait(run, clock):
    reloading = rules_answer(healthy_groups()[:1])
    outcome, result, fake = run(dict(url=URL, wait_timeout=10, expected_groups=['ilp_connector_alerts']),
                                [reloading, rules_answer(healthy_groups())])
    assert outcome == 'exit'
    assert len(fake.calls) == 2


def test_unknown_is_a_problem_without_wait(run, clock):
    outcome, result, fake = run(dict(url=URL), [rules_answer(unknown_groups())])
    assert outcome == 'fail'
    assert len(fake.calls) == 1
    assert clock.sleeps == []
    assert {p['kind'] for p in result['problems']} == {'unhealthy'}
    assert 'not evaluated yet (health unknown)' in result['msg']


def test_unknown_until_wait_timeout(run, clock):
    outcome, result, fake = run(dict(url=URL, wait_timeout=5, wait_interval=1), [rules_answer(unknown_groups())])
    assert outcome == 'fail'
    assert len(result['problems']) == 3
    assert 'after waiting 5s' in result['msg']
    assert sum(clock.sleeps) == pytest.approx(5)
    assert len(fake.calls) == 6


def test_connection_refused_retried_during_wait(run, clock):
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    outcome, result, fake = run(dict(url=URL, wait_timeout=10), [refused, refused, rules_answer(healthy_groups())])
    assert outcome == 'exit'
    assert len(fake.calls) == 3


def test_connection_refused_fails_after_wait(run, clock):
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    outcome, result, dummy = run(dict(url=URL, wait_timeout=3), [refused])
    assert outcome == 'fail'
    assert 'Cannot connect to Prometheus' in result['msg']
    assert 'gave up after wait_timeout=3s' in result['msg']
    assert result['url'] == RULES_URL


def test_bad_url_fails_clearly(run):
    outcome, result, fake = run(dict(url='prometheus:9090'), [rules_answer(healthy_groups())])
    assert outcome == 'fail'
    assert "Invalid Prometheus url 'prometheus:9090'" in result['msg']
    assert fake.calls == []


def test_http_401_fails_at_once_without_password(run, clock):
    outcome, result, fake = run(dict(url=URL, url_username='ansible', url_password=PASSWORD, wait_timeout=30),
                                [http_error(401, 'Unauthorized', b'Unauthorized\n')])
    assert outcome == 'fail'
    assert 'HTTP 401 Unauthorized' in result['msg']
    assert RULES_URL in result['msg']
    assert result['status'] == 401
    assert len(fake.calls) == 1  # not retried
    assert PASSWORD not in json.dumps(result)


def test_password_in_url_never_in_failure(run):
    url = 'http://ansible:%s@127.0.0.1:9090' % PASSWORD
    outcome, result, dummy = run(dict(url=url), [http_error(401, 'Unauthorized', b'Unauthorized\n')])
    assert outcome == 'fail'
    assert PASSWORD not in json.dumps(result)


def test_invalid_json_fails_clearly(run):
    outcome, result, dummy = run(dict(url=URL), [b'<!doctype html><title>Login</title>'])
    assert outcome == 'fail'
    assert 'not valid JSON' in result['msg']
    assert RULES_URL in result['msg']
    assert 'Login' in result['msg']


def test_bearer_token_header_sent(run):
    outcome, result, fake = run(dict(url=URL, bearer_token=TOKEN), [rules_answer(healthy_groups())])
    assert outcome == 'exit'
    assert fake.calls[0]['headers']['Authorization'] == 'Bearer ' + TOKEN
    assert TOKEN not in json.dumps(result)


def test_bearer_token_and_basic_auth_are_exclusive(run):
    outcome, result, fake = run(dict(url=URL, bearer_token=TOKEN, url_username='a', url_password=PASSWORD),
                                [rules_answer(healthy_groups())])
    assert outcome == 'fail'
    assert 'mutually exclusive' in result['msg']
    assert fake.calls == []


def test_evaluate_rules_does_not_modify_input():
    data = {'groups': healthy_groups()}
    before = copy.deepcopy(data)
    problems, health, pending = prometheus_rules_check.evaluate_rules(data, ['ilp_connector_alerts'], [RULES_FILE], 1)
    assert (problems, health, pending) == ([], [], [])
    assert data == before
