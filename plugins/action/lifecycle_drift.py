# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.
"""Controller side of ilp.observability.lifecycle_drift (internal to the service lifecycle role).

Renders what the lifecycle would write (templates exactly as the template action renders them,
secret contents, the unit), reads the host's state in one module call and lists what differs.
A difference it reports in error only makes the role run its write tasks, which then change
nothing; so the comparison errs towards reporting drift whenever it is unsure.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase
from ansible.utils.hashing import secure_hash_s

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


def _mode(value, default):
    text = str(value if value not in (None, '') else default)
    return '%04o' % int(text, 8)


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

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        if not task_vars.get('ansible_parent_role_names'):
            raise AnsibleActionFail('ilp.observability.service_lifecycle is internal to the collection. Use a component '
                                    'role such as ilp.observability.node_exporter or ilp.observability.prometheus.')
        release = self._task.args.get('release') or {}
        service = self._task.args.get('service') or {}

        # What should be on the host: path -> expectation.
        want = {}
        module_args = {'paths': [], 'list_dirs': []}
        if release:
            want[release['current']] = {'what': 'live release link', 'type': 'link', 'target': release['dir']}
            if release.get('marker'):
                want[os.path.join(release['dir'], release['marker'])] = {'what': 'release', 'type': 'present'}
            for binary in release.get('binaries') or []:
                want['/usr/local/bin/' + binary['name']] = {
                    'what': 'command link', 'type': 'link', 'target': os.path.join(release['current'], binary['src'])}
        secret_paths = set()
        if service:
            group = service['group']
            for folder in service.get('directories') or []:
                want[folder['path']] = {'what': 'folder', 'type': 'directory', 'owner': folder.get('owner') or 'root',
                                        'group': folder.get('group') or group, 'mode': _mode(folder.get('mode'), '0750')}
            for item in service.get('support_files') or []:
                try:
                    source = self._find_needle('files', item['src'])
                except AnsibleError as exc:
                    raise AnsibleActionFail(to_text(exc))
                with open(source, 'rb') as handle:
                    data = handle.read()
                want[item['dest']] = {'what': 'support file', 'type': 'file', 'owner': item.get('owner') or 'root',
                                      'group': item.get('group') or 'root', 'mode': _mode(item.get('mode'), '0644'),
                                      'sha1': secure_hash_s(data)}
            for item in service.get('files') or []:
                if item.get('src'):
                    content = self._render(item, task_vars)
                else:
                    content = item.get('content', '')
                    secret_paths.add(item['dest'])
                want[item['dest']] = {'what': 'file', 'type': 'file', 'owner': item.get('owner') or 'root',
                                      'group': item.get('group') or group, 'mode': _mode(item.get('mode'), '0640'),
                                      'sha1': secure_hash_s(to_bytes(content, errors='surrogate_or_strict'))}
            unit = service['unit']
            want[unit['path']] = {'what': 'unit', 'type': 'file', 'owner': 'root', 'group': 'root', 'mode': '0644',
                                  'sha1': secure_hash_s(to_bytes(self._render(unit, task_vars), errors='surrogate_or_strict'))}
            module_args.update(user=service['user'], group=group, unit=service['name'])
            module_args['list_dirs'] = list(service.get('managed_dirs') or [])
            if service.get('releases'):
                module_args['releases_root'] = service['releases']['root']
            ready = service.get('ready') or {}
            if ready.get('url'):
                module_args.update(ready_url=ready['url'], ready_status=ready.get('status') or [200],
                                   ready_validate_certs=ready.get('validate_certs', True),
                                   ready_username=ready.get('username') or None, ready_password=ready.get('password') or None)
        module_args['paths'] = sorted(want)

        probe = self._execute_module(module_name='ilp.observability.lifecycle_drift', module_args=module_args,
                                     task_vars=task_vars)
        if probe.get('failed'):
            result.update(failed=True, msg='Could not read the state of the host: %s' % probe.get('msg', probe))
            return result
        state = probe['state']
        drift = []
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
        wanted_files = set(want)
        for folder, files in state.get('listing', {}).items():
            for extra in files:
                if extra not in wanted_files:
                    drift.append('file %s is no longer wanted' % extra)
        if service:
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

        live = state['paths'].get(release.get('current', ''), {})
        live_release = live.get('target', '') if live.get('type') == 'link' else ''
        # The documented result of the lifecycle (service_lifecycle_result) when nothing differs;
        # the apply path updates action, release and previous_release when it runs.
        result.update(changed=False, drift=drift, in_sync=not drift, live_release=live_release,
                      action='none', release=live_release, previous_release='')
        return result
