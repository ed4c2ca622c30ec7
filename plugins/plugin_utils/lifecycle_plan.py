# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.
"""The service lifecycle's folders and files with their defaults filled in: written once.

The defaults of an entry (owner, group, mode, writable, vars) are those the role's argument
spec documents (roles/service_lifecycle/meta/argument_specs.yml, the sub-options of
service_lifecycle_directories, _config_files, _support_files and _secret_files); this module reads
them from there. An entry's group without a default is the service's group. Both sides of the
lifecycle use these entries: the drift action (plugins/action/lifecycle_drift.py) compares the
host with them, and the apply path (roles/service_lifecycle/tasks/_run.yml, through the
ilp.observability.lifecycle_entries filter) writes them; neither has defaults of its own.
"""

from __future__ import annotations

import os

import yaml

# The role's argument spec, found from this file's place in the collection (plugins/plugin_utils/ -> root).
SPEC_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         'roles', 'service_lifecycle', 'meta', 'argument_specs.yml')
# Kind of entry -> the lifecycle input that lists them.
KINDS = {
    'directories': 'service_lifecycle_directories',
    'config_files': 'service_lifecycle_config_files',
    'support_files': 'service_lifecycle_support_files',
    'secret_files': 'service_lifecycle_secret_files',
}
_CACHE = {}


class LifecyclePlanError(ValueError):
    """An entry that cannot be planned; the message names it (never a secret's content)."""


def defaults(kind, spec_file=None):
    """Option name -> default (None when the spec gives none) of one kind of entry, from the spec."""
    if kind not in KINDS:
        raise LifecyclePlanError('unknown kind of lifecycle entry %r (one of %s)' % (kind, ', '.join(sorted(KINDS))))
    path = spec_file or SPEC_FILE
    if path not in _CACHE:
        with open(path, 'rb') as handle:
            specs = yaml.safe_load(handle)['argument_specs']
        # The service entry point lists every kind (the options are shared by YAML anchors).
        options = specs['service']['options']
        _CACHE[path] = {name: {opt: body.get('default') for opt, body in options[option]['options'].items()}
                        for name, option in KINDS.items()}
    return dict(_CACHE[path][kind])


def mode(value):
    """A mode as four octal digits ('750', '0750', 0o750 given as 488 -> '0750')."""
    if isinstance(value, int) and not isinstance(value, bool):
        return '%04o' % value
    try:
        return '%04o' % int(str(value), 8)
    except ValueError:
        raise LifecyclePlanError('mode %r is not an octal number' % (value,))


def entries(items, kind, group, spec_file=None):
    """The entries of one kind with every option the spec gives a default filled in.

    A value given replaces the default; None or an empty string counts as not given. ``group``
    (the service's group) is the group of entries whose spec has no default group. Keys the spec
    does not know (``validate``, ``content``) are kept as given.
    """
    base = defaults(kind, spec_file)
    planned = []
    for item in items or []:
        if not isinstance(item, dict):
            raise LifecyclePlanError('a %s entry must be a dict, got %r' % (kind, type(item).__name__))
        entry = dict(base)
        for key, value in item.items():
            if value is None or (value == '' and key in base):
                continue
            entry[key] = value
        if 'group' in entry and entry['group'] in (None, ''):
            entry['group'] = group
        if entry.get('mode') is not None:
            entry['mode'] = mode(entry['mode'])
        if 'writable' in entry:
            entry['writable'] = bool(entry['writable'])
        planned.append(entry)
    return planned
