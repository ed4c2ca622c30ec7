# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the host side of lifecycle_drift: what it reads of paths, folders, releases,
users and the readiness URL (the service lifecycle compares it on the controller)."""

from __future__ import annotations

import getpass
import hashlib
import os
import urllib.error

import pytest

from ansible_collections.ilp.observability.plugins.modules import lifecycle_drift
from ansible_collections.ilp.observability.tests.unit.plugins import fakes

MODULE = lifecycle_drift


@pytest.fixture
def drift(monkeypatch):
    """drift(args, answers) -> (outcome, result, open_url stand-in) for lifecycle_drift.main()."""
    return fakes.module_runner(monkeypatch, lifecycle_drift)


def test_describes_files_links_folders_and_missing_paths(drift, tmp_path):
    config = tmp_path / 'app.yml'
    config.write_bytes(b'key: value\n')
    config.chmod(0o640)
    (tmp_path / 'releases' / '1.0.0').mkdir(parents=True)
    (tmp_path / 'releases' / 'current').symlink_to(tmp_path / 'releases' / '1.0.0')
    paths = [str(config), str(tmp_path / 'releases' / 'current'), str(tmp_path / 'releases'), str(tmp_path / 'absent')]
    outcome, result, unused_fake = drift({'paths': paths}, [b''])
    assert outcome == 'exit' and result['changed'] is False
    state = result['state']['paths']
    assert state[str(config)]['type'] == 'file'
    assert state[str(config)]['mode'] == '0640'
    assert state[str(config)]['sha1'] == hashlib.sha1(b'key: value\n').hexdigest()
    assert state[str(config)]['owner'] == getpass.getuser()
    assert state[str(tmp_path / 'releases' / 'current')] == dict(
        state[str(tmp_path / 'releases' / 'current')], type='link', target=str(tmp_path / 'releases' / '1.0.0'))
    assert state[str(tmp_path / 'releases')]['type'] == 'directory'
    assert state[str(tmp_path / 'absent')] == {'exists': False}


def test_lists_stray_files_and_release_folders(drift, tmp_path):
    rules = tmp_path / 'rules'
    rules.mkdir()
    (rules / 'wanted.yml').write_text('a')
    (rules / 'stray.yml').write_text('b')
    (rules / 'subfolder').mkdir()
    root = tmp_path / 'app'
    for name in ('1.0.0', '0.9.0', '.npm-cache'):
        (root / name).mkdir(parents=True)
    (root / 'current').symlink_to(root / '1.0.0')
    (root / 'json-log.js').write_text('')
    args = {'list_dirs': [str(rules), str(tmp_path / 'missing')], 'releases_root': str(root)}
    outcome, result, unused_fake = drift(args, [b''])
    assert outcome == 'exit'
    assert result['state']['listing'] == {str(rules): [str(rules / 'stray.yml'), str(rules / 'wanted.yml')],
                                          str(tmp_path / 'missing'): []}
    # Hidden folders (npm's cache), links (current) and files are not releases.
    assert result['state']['releases'] == [str(root / '0.9.0'), str(root / '1.0.0')]


def test_reads_the_user_and_group(drift):
    user = getpass.getuser()
    outcome, result, unused_fake = drift({'user': user, 'group': 'no-such-group-ilp'}, [b''])
    assert outcome == 'exit'
    assert result['state']['user']['exists'] is True
    assert result['state']['user']['home'] == os.path.expanduser('~' + user)
    assert result['state']['group'] == {'exists': False}
    outcome, result, unused_fake = drift({'user': 'no-such-user-ilp'}, [b''])
    assert result['state']['user'] == {'exists': False}


@pytest.mark.parametrize('answer, ready, reason', [
    (b'# HELP up\n', True, ''),
    (fakes.http_error('http://127.0.0.1:9100/metrics', 503, 'Service Unavailable'), False, 'HTTP 503'),
    (urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused')), False, 'no answer'),
])
def test_readiness_is_one_get_of_the_exact_url(drift, answer, ready, reason):
    args = {'ready_url': 'http://127.0.0.1:9100/metrics', 'ready_username': 'prometheus',
            'ready_password': 'S3cret-Passw0rd!', 'ready_validate_certs': False}
    outcome, result, fake = drift(args, [answer])
    assert outcome == 'exit'
    assert result['state']['ready'] == {'ok': ready, 'reason': reason}
    assert len(fake.calls) == 1
    call = fake.calls[0]
    assert call['url'] == 'http://127.0.0.1:9100/metrics'  # not /metrics/
    assert call['url_username'] == 'prometheus' and call['force_basic_auth'] is True
    assert call['validate_certs'] is False
    assert 'S3cret-Passw0rd!' not in repr(result)


def test_a_status_listed_as_ready_counts_even_when_it_is_an_error(drift):
    args = {'ready_url': 'http://127.0.0.1:7780/status', 'ready_status': [200, 401]}
    outcome, result, unused_fake = drift(args, [fakes.http_error('http://127.0.0.1:7780/status', 401, 'Unauthorized')])
    assert outcome == 'exit' and result['state']['ready'] == {'ok': True, 'reason': ''}


def test_a_mistyped_option_fails_with_a_message(drift):
    outcome, result, unused_fake = drift({'paths': 'not-a-list', 'ready_status': ['ok']}, [b''])
    assert outcome == 'fail'
    assert 'ready_status' in result['msg']
