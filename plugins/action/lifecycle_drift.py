# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.
"""Controller side of ilp.observability.lifecycle_drift (internal to the service lifecycle role).

Renders what the lifecycle would write (templates exactly as the template action renders them,
secret contents, the unit), reads the host's state in one module call and lists what differs.
The folders' and files' owner, group and mode are the argument spec's defaults, filled in by
plugin_utils/lifecycle_plan.py, the code the apply path's entries come from.
A difference it reports in error only makes the role run its write tasks, which then change
nothing; so the comparison errs towards reporting drift whenever it is unsure, and an error
while working it out is a drift line too: it can make the apply path run, never skip it.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase
from ansible.utils.hashing import secure_hash_s
from ansible_collections.ilp.observability.plugins.plugin_utils.lifecycle_plan import entries

try:  # the same template variables the template action adds (ansible-core 2.19 to 2.22)
    from ansible._internal._templating._template_vars import generate_ansible_template_vars
except ImportError:  # pragma: no cover - later ansible-core: only the variables the templates use
    generate_ansible_template_vars = None

try:
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - ansible-core before 2.19 trusts every template
    def trust_as_template(value):
        return value

NOLOGIN = '/usr/sbin/nologin'


def _reason(exc):
    """One line naming an error, for a drift line (never a traceback)."""
    text = to_text(exc).strip().splitlines()
    return '%s: %s' % (type(exc).__name__, text[0][:300] if text else '')


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def _render(self, item, task_vars):
        """Render one template the way ansible.builtin.template would for ``item``."""
        try:
            source = self._find_needle('templates', item['src'])
        except AnsibleError as exc:
            raise AnsibleActionFail(to_text(exc))
        data = trust_as_template(self._loader.get_text_file_contents(source))
        searchpath = list(task_vars.get('ansible_search_path', [])) + [self._loader._basedir, os.path.dirname(source)]
        searchpath = [q for p in searchpath for q in (os.path.join(p, 'templates'), p)]
        temp_vars = task_vars.copy()
        # The apply path renders each file in a loop over the files: templates see it as `item`.
        temp_vars['item'] = item
        if generate_ansible_template_vars is not None:
            temp_vars.update(generate_ansible_template_vars(path=item['src'], fullpath=source, dest_path=item.get('dest'),
                                                            include_ansible_managed='ansible_managed' not in temp_vars))
        else:
            temp_vars.setdefault('ansible_managed', 'Ansible managed')
        overrides = dict(trim_blocks=True, lstrip_blocks=False, newline_sequence='\n')
        for key in ('variable_start_string', 'variable_end_string'):
            if item.get(key):
                overrides[key] = item[key]
        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=temp_vars)
        return templar.template(data, escape_backslashes=False, overrides=overrides) or ''

    @staticmethod
    def _owned(what, path, have, owner, group, mode, drift):
        if have.get('owner') != owner or have.get('group') != group:
            drift.append('%s %s: owner %s:%s, wants %s:%s' % (what, path, have.get('owner'), have.get('group'), owner, group))
        if have.get('mode') != mode:
            drift.append('%s %s: mode %s, wants %s' % (what, path, have.get('mode'), mode))

    def _expect(self, release, service, task_vars, want, module_args):
        """Fill ``want`` (path -> expectation) and ``module_args`` with what the inputs ask for."""
        if release:
            want[release['current']] = {'what': 'live release link', 'type': 'link', 'target': release['dir']}
            if release.get('marker'):
                want[os.path.join(release['dir'], release['marker'])] = {'what': 'release', 'type': 'present'}
            for binary in release.get('binaries') or []:
                want['/usr/local/bin/' + binary['name']] = {
                    'what': 'command link', 'type': 'link', 'target': os.path.join(release['current'], binary['src'])}
        if not service:
            return
        group = service['group']
        module_args.update(user=service['user'], group=group, unit=service['name'])
        module_args['list_dirs'] = list(service.get('managed_dirs') or [])
        if service.get('releases'):
            module_args['releases_root'] = service['releases']['root']
        ready = service.get('ready') or {}
        if ready.get('url'):
            module_args.update(ready_url=ready['url'], ready_status=ready.get('status') or [200],
                               ready_validate_certs=ready.get('validate_certs', True),
                               ready_username=ready.get('username') or None, ready_password=ready.get('password') or None)
        # The defaults of owner, group and mode are the spec's, filled in by the same code as the
        # apply path's (plugin_utils/lifecycle_plan.py).
        for folder in entries(service.get('directories'), 'directories', group):
            want[folder['path']] = {'what': 'folder', 'type': 'directory', 'owner': folder['owner'],
                                    'group': folder['group'], 'mode': folder['mode']}
        for item in entries(service.get('support_files'), 'support_files', group):
            try:
                source = self._find_needle('files', item['src'])
            except AnsibleError as exc:
                raise AnsibleActionFail(to_text(exc))
            with open(source, 'rb') as handle:
                data = handle.read()
            want[item['dest']] = {'what': 'support file', 'type': 'file', 'owner': item['owner'],
                                  'group': item['group'], 'mode': item['mode'], 'sha1': secure_hash_s(data)}
        files = [(item, self._render(item, task_vars)) for item in entries(service.get('config_files'), 'config_files', group)]
        files += [(item, item.get('content', '')) for item in entries(service.get('secret_files'), 'secret_files', group)]
        for item, content in files:
            want[item['dest']] = {'what': 'file', 'type': 'file', 'owner': item['owner'], 'group': item['group'],
                                  'mode': item['mode'], 'sha1': secure_hash_s(to_bytes(content, errors='surrogate_or_strict'))}
        unit = service['unit']
        want[unit['path']] = {'what': 'unit', 'type': 'file', 'owner': 'root', 'group': 'root', 'mode': '0644',
                              'sha1': secure_hash_s(to_bytes(self._render(unit, task_vars), errors='surrogate_or_strict'))}

    def _compare(self, release, service, want, state, module_args, drift):
        """Append to ``drift`` what differs between ``want`` and the host's ``state``."""
        for path in sorted(want):
            expect, have = want[path], state['paths'].get(path, {'exists': False})
            label = '%s %s' % (expect['what'], path)
            if not have.get('exists'):
                drift.append('%s is missing' % label)
            elif expect['type'] == 'present':
                continue
            elif have.get('type') != expect['type']:
                drift.append('%s is a %s, wants a %s' % (label, have.get('type'), expect['type']))
            elif expect['type'] == 'link':
                if have.get('target') != expect['target']:
                    drift.append('%s points at %s, wants %s' % (label, have.get('target'), expect['target']))
            else:
                if expect['type'] == 'file' and have.get('sha1') != expect['sha1']:
                    drift.append('%s has other content' % label)
                self._owned(expect['what'], path, have, expect['owner'], expect['group'], expect['mode'], drift)
        for folder, files in state.get('listing', {}).items():
            for extra in files:
                if extra not in want:
                    drift.append('file %s is no longer wanted' % extra)
        if not service:
            return
        user, group = state.get('user', {}), state.get('group', {})
        if not group.get('exists'):
            drift.append('system group %s is missing' % service['group'])
        if not user.get('exists'):
            drift.append('system user %s is missing' % service['user'])
        elif (user.get('home'), user.get('shell'), user.get('group')) != (service['home'], NOLOGIN, service['group']):
            drift.append('system user %s: home %s, shell %s, group %s; wants %s, %s, %s' % (
                service['user'], user.get('home'), user.get('shell'), user.get('group'), service['home'], NOLOGIN, service['group']))
        unit = state.get('unit', {})
        if unit.get('error'):
            drift.append('unit %s: %s' % (service['name'], unit['error']))
        else:
            if unit.get('UnitFileState') != 'enabled':
                drift.append('unit %s is %s, wants enabled' % (service['name'], unit.get('UnitFileState') or 'unknown'))
            if unit.get('ActiveState') != 'active':
                drift.append('unit %s is %s, wants active' % (service['name'], unit.get('ActiveState') or 'unknown'))
            if unit.get('NeedDaemonReload') == 'yes':
                drift.append('unit %s changed on disk since systemd read it' % service['name'])
        if 'ready' in state and not state['ready']['ok']:
            drift.append('%s is not ready at %s (%s)' % (service['name'], module_args['ready_url'], state['ready']['reason']))
        # The release replaced by the last upgrade is kept until the next run (the rollback
        # target), which removes it; so does a release that never became ready.
        for folder in state.get('releases', []):
            if folder not in (service['releases'].get('keep') or []):
                drift.append('release folder %s is no longer needed' % folder)
        if service.get('restart_required'):
            drift.append('%s must restart (asked by the role)' % service['name'])

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        if not task_vars.get('ansible_parent_role_names'):
            raise AnsibleActionFail('ilp.observability.service_lifecycle is internal to the collection. Use a component '
                                    'role such as ilp.observability.node_exporter or ilp.observability.prometheus.')
        release = self._task.args.get('release') or {}
        service = self._task.args.get('service') or {}

        # The decision: the role's apply path runs when `drift` is not empty. Whatever goes wrong
        # while working out what the host should be, reading it or comparing, adds a drift line
        # (the apply path then runs, and its own tasks report a real problem); it never empties
        # the list, so an error can only make the apply path run, never skip it.
        drift = []
        want = {}
        module_args = {'paths': [], 'list_dirs': []}
        try:
            self._expect(release, service, task_vars, want, module_args)
        except Exception as exc:
            drift.append('could not work out what the host should be (%s); the lifecycle runs every step' % _reason(exc))
        module_args['paths'] = sorted(want)
        if release.get('current') and release['current'] not in module_args['paths']:
            module_args['paths'].append(release['current'])
        state = {}
        try:
            probe = self._execute_module(module_name='ilp.observability.lifecycle_drift', module_args=module_args,
                                         task_vars=task_vars)
            if probe.get('failed') or not isinstance(probe.get('state'), dict):
                raise AnsibleError(to_text(probe.get('msg') or 'no state in the answer'))
            state = probe['state']
        except AnsibleConnectionFailure:
            raise  # an unreachable host is reported as such
        except Exception as exc:
            drift.append('could not read the state of the host (%s); the lifecycle runs every step' % _reason(exc))
        if state and not drift:
            try:
                self._compare(release, service, want, state, module_args, drift)
            except Exception as exc:
                drift.append('could not compare the host with what it should be (%s); the lifecycle runs every step'
                             % _reason(exc))
        live = (state.get('paths') or {}).get(release.get('current', ''), {}) if isinstance(state, dict) else {}
        live_release = live.get('target', '') if isinstance(live, dict) and live.get('type') == 'link' else ''
        # The documented result of the lifecycle (service_lifecycle_result, meta/argument_specs.yml)
        # before the apply path runs: `release` is the release live now; the apply path updates
        # action, changed, release and previous_release when it runs.
        result.update(changed=False, drift=drift, action='none', release=live_release, previous_release='')
        return result
