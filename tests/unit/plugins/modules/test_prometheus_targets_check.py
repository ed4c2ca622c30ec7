# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the prometheus_targets_check module, with /api/v1/targets answers mocked."""

from __future__ import annotations

import json
import urllib.error

from ansible_collections.ilp.observability.plugins.modules import prometheus_targets_check
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

MODULE = prometheus_targets_check  # for the clock and run fixtures of conftest.py
URL = 'http://127.0.0.1:9090'
TARGETS_URL = URL + '/api/v1/targets?state=active'
PASSWORD = 'S3cret-Passw0rd!'
REFUSED = 'Get "http://10.0.0.12:9100/metrics": dial tcp 10.0.0.12:9100: connect: connection refused'


def target(job, instance, health='up', last_error='', extra_labels=None):
    labels = {'instance': instance, 'job': job}
    labels.update(extra_labels or {})
    return {
        'discoveredLabels': {
            '__address__': instance,
            '__metrics_path__': '/metrics',
            '__scheme__': 'http',
            '__scrape_interval__': '15s',
            '__scrape_timeout__': '10s',
            'job': job,
        },
        'labels': labels,
        'scrapePool': job,
        'scrapeUrl': 'http://%s/metrics' % instance,
        'globalUrl': 'http://%s/metrics' % instance,
        'lastError': last_error,
        'lastScrape': '2026-11-22T19:05:57.555070513Z' if health != 'unknown' else '0001-01-01T00:00:00Z',
        'lastScrapeDuration': 0.010727061,
        'health': health,
        'scrapeInterval': '15s',
        'scrapeTimeout': '10s',
    }


def targets_answer(*targets):
    return {'status': 'success', 'data': {'activeTargets': list(targets), 'droppedTargets': [], 'droppedTargetCounts': None}}


def fleet(node2_health='up', node2_error=''):
    return targets_answer(
        target('prometheus', '127.0.0.1:9090'),
        target('node', '10.0.0.11:9100', extra_labels={'ilp_network': 'testnet'}),
        target('node', '10.0.0.12:9100', health=node2_health, last_error=node2_error, extra_labels={'ilp_network': 'testnet'}),
        target('ilp_connector', '10.0.0.11:7771', extra_labels={'ilp_network': 'mainnet'}),
    )


def test_all_up_passes(run):
    outcome, result, fake = run(dict(url=URL, expected=[dict(job='prometheus'), dict(job='node'), dict(job='ilp_connector')]),
                                [fleet()])
    assert outcome == 'exit', result['msg']
    assert result['changed'] is False
    assert result['down'] == [] and result['missing'] == []
    assert fakes.messages(result) == [] and result['http_calls'] == 1
    assert len(result['up']) == 4
    assert result['elapsed'] == 0
    assert fake.calls[0]['url'] == TARGETS_URL
    assert result['targets'][0] == dict(
        job='prometheus', instance='127.0.0.1:9090', health='up', lastError='', scrapeUrl='http://127.0.0.1:9090/metrics',
        scrapePool='prometheus', lastScrape='2026-11-22T19:05:57.555070513Z',
        labels={'instance': '127.0.0.1:9090', 'job': 'prometheus'})


def test_check_mode_is_read_only(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='prometheus')], _ansible_check_mode=True), [fleet()])
    assert outcome == 'exit'
    assert result['changed'] is False


def test_only_expected_targets_count(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='prometheus')]), [fleet('down', REFUSED)])
    assert outcome == 'exit'
    assert [t['job'] for t in result['up']] == ['prometheus']
    assert result['down'] == []


def test_one_down_with_last_error(run, clock):
    outcome, result, fake = run(dict(url=URL, expected=[dict(job='node')]), [fleet('down', REFUSED)])
    assert outcome == 'fail'
    assert [t['instance'] for t in result['down']] == ['10.0.0.12:9100']
    assert result['down'][0]['lastError'] == REFUSED
    assert "target job 'node' instance '10.0.0.12:9100' (http://10.0.0.12:9100/metrics) is down: " + REFUSED in result['msg']
    assert len(fake.calls) == 1
    assert clock.sleeps == []


def test_down_until_timeout(run, clock):
    outcome, result, fake = run(dict(url=URL, expected=[dict(job='node')], wait_timeout=10, wait_interval=3), [fleet('down', REFUSED)])
    assert outcome == 'fail'
    assert clock.sleeps == [3, 3, 3, 1]
    assert len(fake.calls) == 5
    assert result['elapsed'] == 10
    assert 'Prometheus targets not all up (after waiting 10s)' in result['msg']
    assert REFUSED in result['msg']


def test_down_then_up_reports_elapsed(run, clock):
    outcome, result, fake = run(dict(url=URL, expected=[dict(job='node', count=2)], wait_timeout=60, wait_interval=2),
                                [fleet('unknown'), fleet('down', REFUSED), fleet()])
    assert outcome == 'exit', result['msg']
    assert result['elapsed'] == 4
    assert len(fake.calls) == 3


def test_not_scraped_yet_is_not_up(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='node')]), [fleet('unknown')])
    assert outcome == 'fail'
    assert 'is unknown: not scraped yet' in result['msg']


def test_missing_job(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='prometheus'), dict(job='alertmanager')]), [fleet()])
    assert outcome == 'fail'
    assert result['missing'] == [dict(job='alertmanager', instance=None, labels={}, count=None, found=0,
                                      message="no active target for job 'alertmanager' (jobs found: ilp_connector, node, prometheus)")]
    assert "no active target for job 'alertmanager'" in result['msg']


def test_fail_on_problems_false_returns_a_missing_job(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='alertmanager')], fail_on_problems=False), [fleet()])
    assert outcome == 'exit'
    assert result['missing'][0]['job'] == 'alertmanager'
    assert fakes.kinds(result) == [('missing_target', 'alertmanager')]


def test_fail_on_problems_false_warns(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='node')], fail_on_problems=False), [fleet('down', REFUSED)])
    assert outcome == 'exit'
    assert len(result['down']) == 1
    assert fakes.kinds(result) == [('target_down', 'node/10.0.0.12:9100')]
    assert REFUSED in result['problems'][0]['message']
    assert any(REFUSED in w for w in result['_warnings'])


def test_count_expectation_met_with_one_down(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='node', count=1)]), [fleet('down', REFUSED)])
    assert outcome == 'exit'
    assert fakes.messages(result) == []
    assert len(result['up']) == 1
    assert len(result['down']) == 1


def test_count_expectation_not_met(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='node', count=2)]), [fleet('down', REFUSED)])
    assert outcome == 'fail'
    assert result['missing'] == []
    assert REFUSED in result['msg']


def test_count_more_than_targets_is_missing(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='node', count=3)]), [fleet()])
    assert outcome == 'fail'
    assert result['missing'][0]['found'] == 2
    assert "job 'node': expected at least 3 up target(s), only 2 target(s) found (2 up)" in result['msg']


def test_instance_and_labels_select_targets(run):
    expected = [dict(job='node', instance='10.0.0.11:9100', labels=dict(ilp_network='testnet'))]
    outcome, result, dummy = run(dict(url=URL, expected=expected), [fleet('down', REFUSED)])
    assert outcome == 'exit'
    assert [t['instance'] for t in result['up']] == ['10.0.0.11:9100']

    expected = [dict(job='ilp_connector', labels=dict(ilp_network='testnet'))]
    outcome, result, dummy = run(dict(url=URL, expected=expected), [fleet()])
    assert outcome == 'fail'
    assert "job 'ilp_connector' labels ilp_network=testnet" in result['msg']


def test_no_expectations_means_every_target(run):
    outcome, result, dummy = run(dict(url=URL), [fleet('down', REFUSED)])
    assert outcome == 'fail'
    assert len(result['up']) == 3 and len(result['down']) == 1
    outcome, result, dummy = run(dict(url=URL), [fleet()])
    assert outcome == 'exit'


def test_http_401_fails_without_retry_or_password(run, clock):
    error = fakes.http_error(TARGETS_URL, 401, 'Unauthorized', b'Unauthorized\n')
    outcome, result, fake = run(dict(url=URL, url_username='ansible', url_password=PASSWORD, expected=[dict(job='node')]), [error])
    assert outcome == 'fail'
    assert 'HTTP 401' in result['msg']
    assert len(fake.calls) == 1
    assert PASSWORD not in json.dumps(result)


def test_unreachable_prometheus_retried_until_timeout(run, clock):
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    outcome, result, fake = run(dict(url=URL, expected=[dict(job='node')], wait_timeout=4, wait_interval=1), [refused])
    assert outcome == 'fail'
    assert len(fake.calls) == 5
    assert 'Connection refused' in result['msg']
    assert 'gave up after wait_timeout=4s' in result['msg']


def test_invalid_count(run):
    outcome, result, fake = run(dict(url=URL, expected=[dict(job='node', count=0)]), [fleet()])
    assert outcome == 'fail'
    assert 'count must be 1 or more' in result['msg']
    assert fake.calls == []


def test_invalid_json(run):
    outcome, result, dummy = run(dict(url=URL, expected=[dict(job='node')]), [b'not json'])
    assert outcome == 'fail'
    assert 'not valid JSON' in result['msg']
    assert TARGETS_URL in result['msg']


def probe_target(instance, probed):
    entry = target('blackbox_http_health', instance, extra_labels={'target': probed, 'component': 'connector'})
    entry['scrapeUrl'] = 'http://10.0.0.5:9115/probe?module=http_health&target=%s' % probed
    return entry


def query_answer(*samples):
    return {'status': 'success', 'data': {'resultType': 'vector', 'result': [
        {'metric': labels, 'value': [1795924181.0, '0']} for labels in samples]}}


def test_a_failed_probe_is_a_target_down(run):
    """The prober answered (health up), but the connector's health endpoint did not: conn-b is down."""
    answers = [targets_answer(probe_target('conn-a', 'http://10.0.0.11:7780/status'),
                              probe_target('conn-b', 'http://10.0.0.12:7780/status')),
               query_answer({'job': 'blackbox_http_health', 'instance': 'conn-b', 'target': 'http://10.0.0.12:7780/status'})]
    outcome, result, fake = run(dict(url=URL, expected=[dict(job='blackbox_http_health')]), answers)
    assert outcome == 'fail'
    assert [t['instance'] for t in result['down']] == ['conn-b']
    assert 'probe of http://10.0.0.12:7780/status failed (probe_success 0)' in result['msg']
    assert fake.calls[1]['url'] == URL + '/api/v1/query?query=probe_success+%3D%3D+0'


def test_probes_false_counts_the_prober_answering(run):
    answers = [targets_answer(probe_target('conn-b', 'http://10.0.0.12:7780/status'))]
    outcome, result, fake = run(dict(url=URL, expected=[dict(job='blackbox_http_health')], probes=False), answers)
    assert outcome == 'exit', result['msg']
    assert len(fake.calls) == 1
