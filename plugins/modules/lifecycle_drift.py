#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: lifecycle_drift
short_description: Internal to the collection's roles; compare a host with what the service lifecycle wants
version_added: 0.1.0
description:
  - Used by the internal C(ilp.observability.service_lifecycle) role at the start of each entry
    point; not meant for playbooks.
  - The action plugin renders on the controller the files the lifecycle would write (configuration
    templates, secrets, the systemd unit), then runs this module once on the host to read the state
    of every path, the system user and group, the unit and the readiness URL, and reports what
    differs in RV(drift). An empty list means a run of the lifecycle would change nothing, so
    the role skips its write, restart and readiness tasks.
  - Read-only; the module never changes anything. File contents are compared by checksum on the
    controller; neither contents nor checksums of secret files appear in the result.
author:
  - ilp.observability maintainers (!UNKNOWN)
options:
  release:
    description:
      - The release that should be live. Keys C(dir) (its install folder), C(marker) (a path under
        C(dir) whose presence proves it is unpacked, empty to skip), C(current) (the link that must
        point at C(dir)), C(binaries) (list of C(src), C(name), links in C(/usr/local/bin) to C(current/src)).
    type: dict
  service:
    description:
      - The service that should run. Keys C(name), C(user), C(group), C(home), C(directories),
        C(config_files), C(secret_files), C(support_files) (entries as the lifecycle role's
        argument spec describes them; owner, group and mode not given take the spec's defaults),
        C(unit) (C(path) and C(src) of the unit template), C(managed_dirs) (folders where only the
        files above may exist), C(restart_required), C(releases) (C(root), C(keep)), and C(ready)
        (C(url), C(status), C(validate_certs), C(username), C(password)).
    type: dict
  paths:
    description:
      - Set by the action plugin. Paths whose type, link target, owner, group, mode and SHA-1 to report.
    type: list
    elements: str
    default: []
  list_dirs:
    description: Set by the action plugin. Folders whose regular files to list.
    type: list
    elements: str
    default: []
  releases_root:
    description: Set by the action plugin. Folder whose release folders (not hidden, not links) to list.
    type: str
  user:
    description: Set by the action plugin. System user to look up.
    type: str
  group:
    description: Set by the action plugin. System group to look up.
    type: str
  unit:
    description: Set by the action plugin. systemd unit whose state to read.
    type: str
  ready_url:
    description: Set by the action plugin. URL to GET once.
    type: str
  ready_status:
    description: Set by the action plugin. Status codes that mean ready.
    type: list
    elements: int
    default: [200]
  ready_validate_certs:
    description: Set by the action plugin. Validate the TLS certificate of O(ready_url).
    type: bool
    default: true
  ready_username:
    description: Set by the action plugin. Basic auth user of O(ready_url).
    type: str
  ready_password:
    description: Set by the action plugin. Basic auth password of O(ready_url).
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads the host, so it runs unchanged in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: Nothing is changed; RV(drift) lists what differs.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
"""

EXAMPLES = r"""
# Internal: see roles/service_lifecycle/tasks/main.yml.
- name: Compare node_exporter on the host with what it should be
  ilp.observability.lifecycle_drift:
    release:
      dir: /opt/ilp-observability/node_exporter/1.12.1
      marker: node_exporter
      current: /opt/ilp-observability/node_exporter/current
      binaries: [{src: node_exporter, name: node_exporter}]
"""

RETURN = r"""
drift:
  description:
    - What differs from the wanted state, one line each; empty when the host is in sync. An
      error while working out the wanted state, reading the host or comparing is a line too.
  returned: always
  type: list
  elements: str
action:
  description: V(none); the role's later steps replace it with what they did.
  returned: always
  type: str
release:
  description: The folder the C(current) link points at now (before any change); empty when none. The role's later steps replace it.
  returned: always
  type: str
previous_release:
  description: Empty; the role's later steps set the release they replaced.
  returned: always
  type: str
"""

import grp
import hashlib
import os
import pwd
import stat
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ilp.observability.plugins.module_utils.prometheus_api import PrometheusAPI, PrometheusAPIError


def sha1_of(path):
    digest = hashlib.sha1()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(65536), b''):
            digest.update(chunk)
    return digest.hexdigest()


def describe(path):
    """Type, link target, owner, group, mode and checksum of one path (without following links)."""
    try:
        st = os.lstat(path)
    except OSError:
        return {'exists': False}
    info = {'exists': True, 'mode': '%04o' % stat.S_IMODE(st.st_mode)}
    try:
        info['owner'] = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        info['owner'] = str(st.st_uid)
    try:
        info['group'] = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        info['group'] = str(st.st_gid)
    if stat.S_ISLNK(st.st_mode):
        info['type'] = 'link'
        info['target'] = os.readlink(path)
    elif stat.S_ISDIR(st.st_mode):
        info['type'] = 'directory'
    elif stat.S_ISREG(st.st_mode):
        info['type'] = 'file'
        try:
            info['sha1'] = sha1_of(path)
        except OSError as exc:
            info['error'] = str(exc)
    else:
        info['type'] = 'other'
    return info


def unit_state(module, name):
    """ActiveState, UnitFileState and NeedDaemonReload of a unit, from systemctl show."""
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        return {'error': 'systemctl not found'}
    rc, out, err = module.run_command([systemctl, 'show', '--property=ActiveState,UnitFileState,NeedDaemonReload', name])
    if rc != 0:
        return {'error': (err or out).strip()}
    return dict(line.split('=', 1) for line in out.splitlines() if '=' in line)


def readiness(params):
    """GET the readiness URL once; (ready, reason)."""
    parts = urlsplit(params['ready_url'])
    path = urlunsplit(('', '', parts.path, parts.query, ''))
    api_params = dict(url=urlunsplit((parts.scheme, parts.netloc, '', '', '')), validate_certs=params['ready_validate_certs'],
                      url_username=params.get('ready_username') or None,
                      url_password=params.get('ready_password') or None,
                      force_basic_auth=bool(params.get('ready_username')), request_timeout=5.0, use_proxy=False)
    try:
        status = PrometheusAPI(api_params).request(path)[0]
    except PrometheusAPIError as exc:
        if exc.status is not None and exc.status in params['ready_status']:
            return True, ''
        return False, 'HTTP %s' % exc.status if exc.status is not None else 'no answer'
    if status in params['ready_status']:
        return True, ''
    return False, 'HTTP %s' % status


def main():
    module = AnsibleModule(
        argument_spec=dict(
            release=dict(type='dict'),
            service=dict(type='dict'),
            paths=dict(type='list', elements='str', default=[]),
            list_dirs=dict(type='list', elements='str', default=[]),
            releases_root=dict(type='str'),
            user=dict(type='str'),
            group=dict(type='str'),
            unit=dict(type='str'),
            ready_url=dict(type='str'),
            ready_status=dict(type='list', elements='int', default=[200]),
            ready_validate_certs=dict(type='bool', default=True),
            ready_username=dict(type='str'),
            ready_password=dict(type='str', no_log=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    state = {'paths': {path: describe(path) for path in p['paths']}}
    listing = {}
    for folder in p['list_dirs']:
        try:
            listing[folder] = sorted(os.path.join(folder, entry) for entry in os.listdir(folder)
                                     if os.path.isfile(os.path.join(folder, entry)))
        except OSError:
            listing[folder] = []
    state['listing'] = listing
    if p['releases_root']:
        try:
            state['releases'] = sorted(
                os.path.join(p['releases_root'], entry) for entry in os.listdir(p['releases_root'])
                if not entry.startswith('.') and not os.path.islink(os.path.join(p['releases_root'], entry))
                and os.path.isdir(os.path.join(p['releases_root'], entry)))
        except OSError:
            state['releases'] = []
    if p['user']:
        try:
            entry = pwd.getpwnam(p['user'])
            try:
                primary = grp.getgrgid(entry.pw_gid).gr_name
            except KeyError:
                primary = str(entry.pw_gid)
            state['user'] = {'exists': True, 'home': entry.pw_dir, 'shell': entry.pw_shell, 'group': primary}
        except KeyError:
            state['user'] = {'exists': False}
    if p['group']:
        try:
            grp.getgrnam(p['group'])
            state['group'] = {'exists': True}
        except KeyError:
            state['group'] = {'exists': False}
    if p['unit']:
        state['unit'] = unit_state(module, p['unit'])
    if p['ready_url']:
        ready, reason = readiness(p)
        state['ready'] = {'ok': ready, 'reason': reason}
    module.exit_json(changed=False, state=state)


if __name__ == '__main__':
    main()
