# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the controller side of lifecycle_drift: the decision whether the lifecycle's apply
path runs. Every entry point runs its apply path when ``drift`` is not empty (tasks/main.yml,
archive.yml, activate.yml, service.yml: ``when: service_lifecycle_result.drift | length > 0``), so
each kind of difference must give a drift line, a host that is what the inputs ask for none, and
an error anywhere in the check a line (the apply path runs), never an empty list.

The host is a stand-in for the module's answer (plugins/modules/lifecycle_drift.py, whose own
tests cover what it reads), built from the wanted state and then changed one thing at a time.
"""

from __future__ import annotations

import hashlib
import os
from unittest import mock

import pytest

from ansible.errors import AnsibleConnectionFailure
from ansible_collections.ilp.observability.plugins.action import lifecycle_drift
from ansible_collections.ilp.observability.plugins.plugin_utils import lifecycle_plan

ROOT = '/opt/ilp-observability/fake'
RELEASE = {'dir': ROOT + '/1.1.0', 'marker': 'fake', 'current': ROOT + '/current',
           'binaries': [{'src': 'fake', 'name': 'fake'}]}
UNIT = '[Unit]\nDescription=fake\n'
CONFIG = 'listen: 127.0.0.1:9999\n'
SECRET = 'password: S3cret-Passw0rd!\n'
SUPPORT = b'#!/bin/sh\nexit 0\n'


def sha1(data):
    return hashlib.sha1(data if isinstance(data, bytes) else data.encode()).hexdigest()


def service():
    """The service entry point's input, as vars/main.yml builds it (owner, group, mode mostly left to the spec)."""
    return {
        'name': 'fake', 'user': 'fake', 'group': 'fake', 'home': '/var/lib/fake',
        'directories': [{'path': '/var/lib/fake', 'owner': 'fake', 'writable': True}, {'path': '/etc/fake'},
                        {'path': '/etc/fake/rules', 'mode': '755'}],
        'config_files': [{'src': 'fake.yml.j2', 'dest': '/etc/fake/fake.yml', 'validate': 'fake check %s'}],
        'secret_files': [{'content': SECRET, 'dest': '/etc/fake/secret.yml', 'mode': '0600'}],
        'support_files': [{'src': 'check.sh', 'dest': '/usr/local/lib/fake/check.sh', 'mode': '0755'}],
        'managed_dirs': ['/etc/fake/rules'],
        'unit': {'path': '/etc/systemd/system/fake.service', 'src': 'service.j2'},
        'restart_required': False,
        'releases': {'root': ROOT, 'keep': [RELEASE['dir']]},
        'ready': {'url': 'http://127.0.0.1:9999/ready', 'status': [200], 'validate_certs': True,
                  'username': '', 'password': ''},
    }


def in_sync_host():
    """The module's answer for a host that is what service() and RELEASE ask for."""
    def f(owner, group, mode, content):
        return {'exists': True, 'type': 'file', 'owner': owner, 'group': group, 'mode': mode, 'sha1': sha1(content)}

    def d(owner, group, mode):
        return {'exists': True, 'type': 'directory', 'owner': owner, 'group': group, 'mode': mode}

    paths = {
        RELEASE['current']: {'exists': True, 'type': 'link', 'target': RELEASE['dir'], 'owner': 'root', 'group': 'root',
                             'mode': '0777'},
        RELEASE['dir'] + '/fake': f('root', 'root', '0755', b'binary'),
        '/usr/local/bin/fake': {'exists': True, 'type': 'link', 'target': RELEASE['current'] + '/fake'},
        # The spec's defaults: a folder root:<group> 0750, a file root:<group> 0640, a support file root:root 0644.
        '/var/lib/fake': d('fake', 'fake', '0750'),
        '/etc/fake': d('root', 'fake', '0750'),
        '/etc/fake/rules': d('root', 'fake', '0755'),
        '/etc/fake/fake.yml': f('root', 'fake', '0640', CONFIG),
        '/etc/fake/secret.yml': f('root', 'fake', '0600', SECRET),
        '/usr/local/lib/fake/check.sh': f('root', 'root', '0755', SUPPORT),
        '/etc/systemd/system/fake.service': f('root', 'root', '0644', UNIT),
    }
    return {
        'paths': paths,
        'listing': {'/etc/fake/rules': []},
        'releases': [RELEASE['dir']],
        'user': {'exists': True, 'home': '/var/lib/fake', 'shell': '/usr/sbin/nologin', 'group': 'fake'},
        'group': {'exists': True},
        'unit': {'ActiveState': 'active', 'UnitFileState': 'enabled', 'NeedDaemonReload': 'no'},
        'ready': {'ok': True, 'reason': ''},
    }


class Harness(object):
    """The action plugin with its controller-side helpers replaced: templates render to fixed
    text, files/ holds one support file, and the module call answers with ``state``."""

    def __init__(self, tmp_path, state, args):
        support = tmp_path / 'check.sh'
        support.write_bytes(SUPPORT)
        task = mock.MagicMock()
        task.args = args
        task.async_val = 0
        task.check_mode = False
        connection = mock.MagicMock()
        connection._shell.tmpdir = 'set'
        self.action = lifecycle_drift.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(),
                                                   mock.MagicMock(), mock.MagicMock())
        self.calls = []
        self.state = state
        self.rendered = {'fake.yml.j2': CONFIG, 'service.j2': UNIT}
        self.action._render = lambda item, task_vars: self.rendered[item['src']]
        self.action._find_needle = lambda folder, name: str(tmp_path / name)
        self.action._execute_module = self.execute

    def execute(self, module_name, module_args, task_vars):
        self.calls.append(module_args)
        if isinstance(self.state, BaseException):
            raise self.state
        if 'failed' in self.state:
            return self.state
        return {'changed': False, 'state': self.state}

    def run(self):
        return self.action.run(task_vars={'ansible_parent_role_names': ['ilp.observability.fake']})


def check(tmp_path, state, args=None):
    args = args if args is not None else {'release': dict(RELEASE), 'service': service()}
    harness = Harness(tmp_path, state, args)
    return harness.run(), harness


def test_a_host_in_sync_has_no_drift_and_the_apply_path_is_skipped(tmp_path):
    result, harness = check(tmp_path, in_sync_host())
    assert result['drift'] == []
    # The documented result, and nothing else of the lifecycle's: the live release as `release`.
    assert result == {'changed': False, 'drift': [], 'action': 'none', 'release': RELEASE['dir'], 'previous_release': ''}
    # One module call reads every path the inputs name.
    assert len(harness.calls) == 1
    assert set(harness.calls[0]['paths']) == set(in_sync_host()['paths'])
    assert harness.calls[0]['ready_url'] == 'http://127.0.0.1:9999/ready'


def _set(path, **changes):
    def change(state):
        state['paths'][path] = dict(state['paths'][path], **changes)
    return change


def _del(path):
    def change(state):
        state['paths'][path] = {'exists': False}
    return change


def _key(section, **changes):
    def change(state):
        state[section] = dict(state[section], **changes)
    return change


# Each kind of difference -> the drift line it must give (the apply path then runs).
KINDS = {
    'new release (current link elsewhere)': (_set(RELEASE['current'], target=ROOT + '/1.0.0'),
                                             'live release link %s points at %s/1.0.0' % (RELEASE['current'], ROOT)),
    'release not unpacked': (_del(RELEASE['dir'] + '/fake'), 'release %s/fake is missing' % RELEASE['dir']),
    'current link missing': (_del(RELEASE['current']), 'live release link %s is missing' % RELEASE['current']),
    'command link elsewhere': (_set('/usr/local/bin/fake', target='/tmp/fake'), 'command link /usr/local/bin/fake points at'),
    'command is a file': (_set('/usr/local/bin/fake', type='file'), 'command link /usr/local/bin/fake is a file'),
    'folder missing': (_del('/etc/fake'), 'folder /etc/fake is missing'),
    'folder mode (spec default 0750)': (_set('/etc/fake', mode='0755'), 'folder /etc/fake: mode 0755, wants 0750'),
    'folder mode given short': (_set('/etc/fake/rules', mode='0750'), 'folder /etc/fake/rules: mode 0750, wants 0755'),
    'folder group (service group by default)': (_set('/etc/fake', group='root'),
                                                'folder /etc/fake: owner root:root, wants root:fake'),
    'folder owner': (_set('/var/lib/fake', owner='root'), 'folder /var/lib/fake: owner root:fake, wants fake:fake'),
    'config content': (_set('/etc/fake/fake.yml', sha1=sha1('old')), 'file /etc/fake/fake.yml has other content'),
    'config mode (spec default 0640)': (_set('/etc/fake/fake.yml', mode='0644'), 'file /etc/fake/fake.yml: mode 0644, wants 0640'),
    'secret content': (_set('/etc/fake/secret.yml', sha1=sha1('old')), 'file /etc/fake/secret.yml has other content'),
    'secret missing': (_del('/etc/fake/secret.yml'), 'file /etc/fake/secret.yml is missing'),
    'support file content': (_set('/usr/local/lib/fake/check.sh', sha1=sha1('old')),
                             'support file /usr/local/lib/fake/check.sh has other content'),
    'support file group (spec default root)': (_set('/usr/local/lib/fake/check.sh', group='fake'),
                                               'support file /usr/local/lib/fake/check.sh: owner root:fake, wants root:root'),
    'unit content': (_set('/etc/systemd/system/fake.service', sha1=sha1('old')),
                     'unit /etc/systemd/system/fake.service has other content'),
    'file where a folder should be': (_set('/etc/fake', type='file'), 'folder /etc/fake is a file, wants a directory'),
    'stray file in a managed folder': (lambda s: s['listing'].update({'/etc/fake/rules': ['/etc/fake/rules/old.yml']}),
                                       'file /etc/fake/rules/old.yml is no longer wanted'),
    'old release folder': (lambda s: s.update(releases=[ROOT + '/0.9.0', RELEASE['dir']]),
                           'release folder %s/0.9.0 is no longer needed' % ROOT),
    'group missing': (_key('group', exists=False), 'system group fake is missing'),
    'user missing': (lambda s: s.update(user={'exists': False}), 'system user fake is missing'),
    'user with a shell': (_key('user', shell='/bin/bash'), 'system user fake: home /var/lib/fake, shell /bin/bash'),
    'unit stopped': (_key('unit', ActiveState='failed'), 'unit fake is failed, wants active'),
    'unit disabled': (_key('unit', UnitFileState='disabled'), 'unit fake is disabled, wants enabled'),
    'unit changed on disk': (_key('unit', NeedDaemonReload='yes'), 'unit fake changed on disk since systemd read it'),
    'systemctl failed': (lambda s: s.update(unit={'error': 'Failed to connect to bus'}), 'unit fake: Failed to connect to bus'),
    'not ready': (lambda s: s.update(ready={'ok': False, 'reason': 'HTTP 503'}),
                  'fake is not ready at http://127.0.0.1:9999/ready (HTTP 503)'),
}


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_each_kind_of_difference_runs_the_apply_path(tmp_path, kind):
    change, line = KINDS[kind]
    state = in_sync_host()
    change(state)
    result, unused = check(tmp_path, state)
    assert len(result['drift']) == 1, result['drift']
    assert result['drift'][0].startswith(line), result['drift']


def test_a_restart_the_role_asks_for_runs_the_apply_path(tmp_path):
    args = {'service': dict(service(), restart_required=True)}
    result, unused = check(tmp_path, in_sync_host(), args)
    assert result['drift'] == ['fake must restart (asked by the role)']


def test_release_entry_points_compare_only_the_release(tmp_path):
    # archive and activate pass only `release`: service drift does not count there, release drift does.
    state = in_sync_host()
    state['unit']['ActiveState'] = 'failed'
    state['paths']['/etc/fake/fake.yml']['sha1'] = sha1('old')
    result, harness = check(tmp_path, state, {'release': dict(RELEASE)})
    assert result['drift'] == [] and result['release'] == RELEASE['dir']
    assert 'unit' not in harness.calls[0] and 'ready_url' not in harness.calls[0]
    state['paths'][RELEASE['current']]['target'] = ROOT + '/1.0.0'
    result, unused = check(tmp_path, state, {'release': dict(RELEASE)})
    assert len(result['drift']) == 1 and result['release'] == ROOT + '/1.0.0'


def test_the_spec_defaults_are_the_ones_compared(tmp_path):
    # The spec's sub-option defaults (meta/argument_specs.yml) are what the comparison wants; the
    # apply path's entries come from the same function (the lifecycle_entries filter).
    assert lifecycle_plan.defaults('directories')['mode'] == '0750'
    folders = lifecycle_plan.entries([{'path': '/etc/fake'}, {'path': '/x', 'mode': 0o700, 'group': ''}], 'directories', 'fake')
    assert folders == [{'path': '/etc/fake', 'owner': 'root', 'group': 'fake', 'mode': '0750', 'writable': False},
                       {'path': '/x', 'owner': 'root', 'group': 'fake', 'mode': '0700', 'writable': False}]
    assert lifecycle_plan.entries([{'src': 'a', 'dest': '/b'}], 'support_files', 'fake')[0]['group'] == 'root'
    config = lifecycle_plan.entries([{'src': 'a', 'dest': '/b', 'validate': ''}], 'config_files', 'fake')[0]
    assert (config['mode'], config['group'], config['vars'], config['validate']) == ('0640', 'fake', {}, None)


def test_the_secret_never_appears_in_the_result(tmp_path):
    state = in_sync_host()
    state['paths']['/etc/fake/secret.yml']['sha1'] = sha1('old')
    result, unused = check(tmp_path, state)
    assert 'S3cret' not in repr(result) and sha1(SECRET) not in repr(result)


# An error anywhere in the check can only make the apply path run.

def test_a_comparison_error_gives_drift(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError('unexpected state')
    monkeypatch.setattr(lifecycle_drift.ActionModule, '_compare', broken)
    result, unused = check(tmp_path, in_sync_host())
    assert result['drift'] and 'could not compare' in result['drift'][0] and 'TypeError' in result['drift'][0]


@pytest.mark.parametrize('broken', [
    lambda s: s.pop('paths'),                           # no paths at all
    lambda s: s['paths'].update({'/etc/fake': 'garbage'}),  # an entry that is not a dict
    lambda s: s.update(user=None),                      # a section of the wrong type
    lambda s: s.update(ready={}),                       # readiness without its answer
    lambda s: s.update(releases=None),
])
def test_a_malformed_answer_of_the_host_gives_drift(tmp_path, broken):
    state = in_sync_host()
    broken(state)
    result, unused = check(tmp_path, state)
    assert result['drift'], 'an answer the check cannot read must not skip the apply path'


def test_a_failed_module_call_gives_drift(tmp_path):
    result, unused = check(tmp_path, {'failed': True, 'msg': 'python3 not found'})
    assert len(result['drift']) == 1 and 'could not read the state of the host' in result['drift'][0]
    assert 'python3 not found' in result['drift'][0]


def test_an_exception_of_the_module_call_gives_drift(tmp_path):
    result, unused = check(tmp_path, ValueError('bad JSON'))
    assert 'could not read the state of the host (ValueError: bad JSON)' in result['drift'][0]


def test_an_unreachable_host_stays_unreachable(tmp_path):
    with pytest.raises(AnsibleConnectionFailure):
        check(tmp_path, AnsibleConnectionFailure('ssh: connect to host fake port 22: Connection refused'))


def test_a_template_that_cannot_be_rendered_gives_drift(tmp_path):
    harness = Harness(tmp_path, in_sync_host(), {'release': dict(RELEASE), 'service': service()})
    del harness.rendered['fake.yml.j2']
    result = harness.run()
    assert result['drift'] and 'could not work out what the host should be' in result['drift'][0]
    # The host is still read: the live release is known for the rollback.
    assert result['release'] == RELEASE['dir']


def test_input_the_check_does_not_understand_gives_drift(tmp_path):
    args = {'service': dict(service(), directories=[{'path': '/etc/fake', 'mode': 'rwx'}])}
    result, unused = check(tmp_path, in_sync_host(), args)
    assert result['drift'] and "mode 'rwx' is not an octal number" in result['drift'][0]


def test_direct_use_is_refused(tmp_path):
    harness = Harness(tmp_path, in_sync_host(), {'release': dict(RELEASE)})
    with pytest.raises(Exception, match='internal to the collection'):
        harness.action.run(task_vars={})
    assert harness.calls == []


def test_the_spec_file_is_the_collections_own():
    assert os.path.isfile(lifecycle_plan.SPEC_FILE)
