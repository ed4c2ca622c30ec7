#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.

from __future__ import annotations

DOCUMENTATION = r"""
module: grafana_dashboard
short_description: Push Grafana dashboards from JSON, idempotently, without overwriting edits made in Grafana
version_added: 0.1.0
description:
  - Push one dashboard (O(dashboard)), one JSON file or a folder of C(*.json) files (O(path)),
    or several of them (O(paths)) into one Grafana folder, through Grafana's HTTP API.
  - A dashboard is only written when it differs from what Grafana holds, compared after both
    sides are normalised the same way (see the notes), so pushing the same set again reports
    no change and writes nothing.
  - One listing (C(GET /api/search?type=dash-db), paged) finds which dashboards exist; every
    dashboard of the set is then read by uid (C(GET /api/dashboards/uid/<uid>)), also those the
    listing did not name, since under Grafana 12/13's unified storage the search index lags the
    writes (a dashboard saved a moment ago may be missing from it); only the ones that differ
    are written (C(POST /api/dashboards/db)).
  - Every save carries the message V(ilp.observability sha256:<digest>) in Grafana's version
    history, the digest of the normalised dashboard and its folder; Grafana refuses messages
    over 500 bytes, so O(commit_message) is shortened to fit and the marker is always kept
    whole. When a dashboard differs
    and the current version in Grafana was not saved by this module (someone edited it in the
    UI, or another tool saved it), the module fails, names who saved it and when, and writes
    nothing, unless O(overwrite=true).
  - The target folder is given by its path of titles (O(folder)), nested folders are created
    when missing, or by its uid (O(folder_uid)). Dashboards are saved with C(folderUid), never
    with the deprecated numeric C(folderId).
  - With O(prune=true), dashboards of the target folder that the set does not contain are deleted.
  - Dashboards provisioned from files (C(meta.provisioned)) are reported as skipped, never written.
author:
  - ilp.observability maintainers (!UNKNOWN)
options:
  dashboard:
    description:
      - One dashboard as a dictionary, the JSON model of the dashboard (what Grafana shows
        under C(Settings > JSON Model)).
      - Mutually exclusive with O(path) and O(paths).
    type: dict
  path:
    description:
      - A dashboard JSON file, or a directory whose C(*.json) files (not its subdirectories)
        are dashboards, one per file.
      - 'A file may also hold the export format C({"dashboard": {...}, "meta": {...}}).'
      - Mutually exclusive with O(dashboard) and O(paths).
    type: path
  paths:
    description:
      - Several files or directories, each as for O(path).
      - Mutually exclusive with O(dashboard) and O(path).
    type: list
    elements: path
  folder:
    description:
      - Path of the target folder by titles, separated by C(/), for example V(ILP/Connectors).
      - Folders along the path that do not exist are created (C(POST /api/folders) with
        C(parentUid)), with the uid V(ilp-<title>-<hash of the path>) so that every Grafana
        gets the same folder uids. Nested folders need Grafana 11 or later.
      - Empty (the default) is the root (C(General)) folder.
      - Mutually exclusive with O(folder_uid).
    type: str
    default: ''
  folder_uid:
    description:
      - Uid of an existing target folder, instead of O(folder).
    type: str
  overwrite:
    description:
      - Replace dashboards that were changed in Grafana since this module last pushed them
        (or that it never pushed), instead of failing.
      - The save is then sent with C(overwrite=true), which also overrides Grafana's own
        version check.
    type: bool
    default: false
  prune:
    description:
      - Delete the dashboards directly in the target folder (not in its subfolders) whose uid
        is not in the set pushed. Provisioned dashboards are skipped.
      - Refused for the root folder, where every dashboard of the organization without a
        folder would be deleted.
    type: bool
    default: false
  commit_message:
    description:
      - Text of the version history message of every save; the module appends its marker
        V([ilp.observability sha256:<digest>]).
      - Grafana refuses a message longer than 500 bytes; a longer text is cut (at a character
        boundary, ending in C(...)) so that the message with its marker fits.
    type: str
    default: Pushed by ilp.observability.grafana_dashboard
extends_documentation_fragment:
  - ilp.observability.http_api
  - ilp.observability.grafana_api
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Only reads; reports what would be created, updated and deleted.
  diff_mode:
    support: full
    details: A unified diff of the normalised JSON of each dashboard that is (or would be) written or deleted.
  platform:
    platforms: posix
  action_group:
    support: full
    membership:
      - ilp.observability.observability
notes:
  - "Normalisation, applied the same way to the dashboard given and to the one Grafana answers:
    the top-level keys C(id), C(version) and C(iteration) are dropped (Grafana owns them);
    C(schemaVersion) is dropped (Grafana migrates it on read and on save); the top-level keys
    Grafana fills with its defaults are dropped when they hold that default (C(editable: true),
    C(graphTooltip: 0), C(fiscalYearStartMonth: 0), C(liveNow: false), C(refresh: false),
    C(preload: false), C(style: dark)); the built-in C(Annotations & Alerts) entry of
    C(annotations.list) (C(builtIn: 1)) is dropped; at every level, keys whose value is null,
    an empty string, an empty list or an empty object are dropped; keys are sorted."
  - When Grafana still answers a dashboard that differs from the one given after this
    normalisation (a migration on read the list above does not undo), but the newest version
    in Grafana's history was saved by this module with the digest of the dashboard given, the
    dashboard is reported unchanged, because what Grafana holds is what the module pushed. This
    costs one C(GET /api/dashboards/uid/<uid>/versions) for such a dashboard.
  - Every dashboard needs a C(uid) (at most 40 letters, digits, C(-) and C(_)), the stable
    identity of the dashboard between pushes and between Grafana servers; the title may change.
  - Folder titles that contain C(/) cannot be given in O(folder); use O(folder_uid).
seealso:
  - module: ilp.observability.grafana_check
  - name: Grafana dashboard HTTP API
    description: The C(/api/dashboards) endpoints this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/
  - name: Grafana folder HTTP API
    description: The C(/api/folders) endpoints this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/folder/
  - name: Grafana dashboard versions HTTP API
    description: The version history the module reads to find edits made in Grafana.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/dashboard_versions/
"""

EXAMPLES = r"""
- name: Push the connector dashboards into ILP/Connectors, creating the folders
  ilp.observability.grafana_dashboard:
    url: http://127.0.0.1:3000
    bearer_token: "{{ vault_grafana_token }}"
    path: "{{ playbook_dir }}/dashboards/connectors"
    folder: ILP/Connectors

- name: Push files from two places, deleting the folder's other dashboards
  ilp.observability.grafana_dashboard:
    url: https://grafana.example.com
    url_username: ansible
    url_password: "{{ vault_grafana_password }}"
    paths:
      - files/dashboards/ilp-overview.json
      - files/dashboards/hosts
    folder: ILP
    prune: true

- name: Push one dashboard given inline
  ilp.observability.grafana_dashboard:
    url: http://127.0.0.1:3000
    bearer_token: "{{ vault_grafana_token }}"
    folder_uid: ilp-ops
    dashboard:
      uid: ilp-packets
      title: ILP packets
      panels: []

- name: Replace dashboards edited in the Grafana UI since the last push
  ilp.observability.grafana_dashboard:
    url: http://127.0.0.1:3000
    bearer_token: "{{ vault_grafana_token }}"
    path: files/dashboards
    folder: ILP
    overwrite: true
"""

RETURN = r"""
dashboards:
  description: One entry per dashboard of the set, then one per dashboard pruned.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: Uid of the dashboard.
      type: str
      sample: ilp-connectors
    title:
      description: Title of the dashboard.
      type: str
      sample: ILP connectors
    folder:
      description: Path of the target folder by titles, empty for the root folder.
      type: str
      sample: ILP/Connectors
    folder_uid:
      description: Uid of the target folder, empty for the root folder.
      type: str
      sample: ilp-connectors-4f1c2a9b
    action:
      description:
        - C(created), C(updated), C(unchanged), C(deleted) or C(skipped) (a provisioned
          dashboard). In check mode, what would be done.
      type: str
      sample: unchanged
    version:
      description: Version of the dashboard in Grafana after the run; null when deleted or not yet created.
      type: int
      sample: 4
    source:
      description: File the dashboard comes from, or C(dashboard) for O(dashboard); null for pruned dashboards.
      type: str
      sample: /srv/dashboards/connectors/ilp-connectors.json
    reason:
      description: Why the dashboard was skipped or why it is reported unchanged although Grafana's JSON differs.
      type: str
      returned: when there is one
      sample: provisioned from files by Grafana (meta.provisioned)
counts:
  description: Number of dashboards per action.
  returned: always
  type: dict
  sample: {created: 0, updated: 1, unchanged: 199, deleted: 0, skipped: 0}
folders:
  description:
    - The folders along the target path (C(title), C(uid), C(parent_uid)), with C(created) true
      for the ones the module created (or would create in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{title: ILP, uid: ilp-ilp-1a2b3c4d, parent_uid: '', created: false},
           {title: Connectors, uid: ilp-connectors-4f1c2a9b, parent_uid: ilp-ilp-1a2b3c4d, created: true}]
http_calls:
  description: Number of HTTP requests the module sent to Grafana.
  returned: always
  type: int
  sample: 202
http_calls_by_method:
  description: HTTP requests per method.
  returned: always
  type: dict
  sample: {GET: 201, POST: 1}
"""

import copy
import glob
import hashlib
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.ilp.observability.plugins.module_utils.grafana_api import (
    GRAFANA_OPTIONS,
    GrafanaAPI,
    GrafanaAPIError,
)
from ansible_collections.ilp.observability.plugins.module_utils.http_api import module_kwargs

MARKER = 'ilp.observability sha256:'
# Grafana refuses a save message longer than 500 bytes (Go len) with 400 "message too long, max 500
# characters": grafana/grafana pkg/services/dashboards/service/dashboard_service.go,
# ValidateBasicDashboardProperties, and ErrDashboardMessageTooLong in its dashboard errors.
MAX_MESSAGE_BYTES = 500
MARKER_RE = re.compile(r'ilp\.observability sha256:([0-9a-f]{64})')
UID_RE = re.compile(r'^[A-Za-z0-9_-]{1,40}$')
ACTIONS = ('created', 'updated', 'unchanged', 'deleted', 'skipped')

# Top-level keys Grafana owns or migrates: never compared.
IGNORED_KEYS = ('id', 'version', 'iteration', 'schemaVersion')
# Top-level keys Grafana fills in with these defaults: dropped when they hold the default.
GRAFANA_DEFAULTS = {
    'editable': True,
    'graphTooltip': 0,
    'fiscalYearStartMonth': 0,
    'liveNow': False,
    'refresh': False,
    'preload': False,
    'style': 'dark',
}


# --- normalisation -------------------------------------------------------------------------------

def _is_empty(value):
    return value is None or value == '' or value == [] or value == {}


def _strip_empty(value):
    """Drop null, '' , [] and {} values of dict keys, at every level."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _strip_empty(item)
            if not _is_empty(item):
                out[key] = item
        return out
    if isinstance(value, list):
        return [_strip_empty(item) for item in value]
    return value


def _is_builtin_annotation(item):
    return isinstance(item, dict) and item.get('builtIn') in (1, True)


def normalize_dashboard(dashboard):
    """The dashboard as compared: see the notes of the module documentation."""
    doc = copy.deepcopy(dashboard if isinstance(dashboard, dict) else {})
    for key in IGNORED_KEYS:
        doc.pop(key, None)
    for key, default in GRAFANA_DEFAULTS.items():
        if key in doc and doc[key] == default and type(doc[key]) is type(default):
            del doc[key]
    annotations = doc.get('annotations')
    if isinstance(annotations, dict) and isinstance(annotations.get('list'), list):
        annotations['list'] = [a for a in annotations['list'] if not _is_builtin_annotation(a)]
    return _strip_empty(doc)


def canonical_json(value):
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, separators=(',', ': '))


def digest_of(normalized, folder_uid):
    text = json.dumps(dict(dashboard=normalized, folderUid=folder_uid or ''), sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def save_message(commit_message, digest):
    """``<commit_message> [<marker>]``, at most MAX_MESSAGE_BYTES UTF-8 bytes; the marker is kept whole."""
    marker = MARKER + digest
    if not commit_message:
        return marker
    room = MAX_MESSAGE_BYTES - len((' [%s]' % marker).encode('utf-8'))
    text = commit_message
    if len(text.encode('utf-8')) > room:
        cut = text.encode('utf-8')[:room - 3].decode('utf-8', 'ignore')
        text = cut.rstrip() + '...'
    return '%s [%s]' % (text, marker)


def marker_digest(message):
    match = MARKER_RE.search(message or '')
    return match.group(1) if match else None


# --- loading -------------------------------------------------------------------------------------

class Entry(object):
    """One dashboard of the set."""

    def __init__(self, dashboard, source):
        self.dashboard = dashboard
        self.source = source
        self.uid = dashboard.get('uid')
        self.title = dashboard.get('title')
        self.normalized = normalize_dashboard(dashboard)
        self.digest = None


def _json_error(source, exc):
    return '%s: invalid JSON at line %d column %d (character %d): %s' % (source, exc.lineno, exc.colno, exc.pos, exc.msg)


def load_file(path):
    """The dashboard of the JSON file ``path``; raises ValueError with a clear message."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise ValueError('%s: cannot read the file: %s' % (path, to_text(exc)))
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        raise ValueError('%s: not UTF-8 text (byte %d): %s' % (path, exc.start, exc.reason))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(_json_error(path, exc))
    return unwrap(doc, path)


def unwrap(doc, source):
    if not isinstance(doc, dict):
        raise ValueError('%s: a dashboard is a JSON object, got %s' % (source, type(doc).__name__))
    inner = doc.get('dashboard')
    if isinstance(inner, dict) and 'panels' not in doc and 'title' not in doc:
        doc = inner  # the export format {"dashboard": {...}, "meta": {...}}
    return doc


def collect_files(path):
    """The dashboard files of ``path``: the file itself or the *.json files of a directory."""
    if os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(glob.escape(path), '*.json')))
        files = [f for f in files if os.path.isfile(f)]
        if not files:
            raise ValueError('%s: no *.json file in this directory' % path)
        return files
    if not os.path.exists(path):
        raise ValueError('%s: no such file or directory' % path)
    return [path]


def load_entries(params):
    """The dashboards of the set and the list of problems found while reading them."""
    problems, entries = [], []
    sources = []
    if params.get('dashboard') is not None:
        sources.append(('dashboard', None))
    for path in ([params['path']] if params.get('path') else []) + list(params.get('paths') or []):
        try:
            sources.extend((f, f) for f in collect_files(path))
        except ValueError as exc:
            problems.append(str(exc))
    for source, path in sources:
        try:
            doc = load_file(path) if path else unwrap(params['dashboard'], 'dashboard')
        except ValueError as exc:
            problems.append(str(exc))
            continue
        uid = doc.get('uid')
        if uid is None or uid == '':
            problems.append('%s: the dashboard has no "uid": give every dashboard a uid (at most 40 letters, digits, - and _), '
                            'its identity between pushes' % source)
            continue
        if not isinstance(uid, str) or not UID_RE.match(uid):
            problems.append('%s: invalid uid %r: at most 40 letters, digits, - and _' % (source, uid))
            continue
        if not isinstance(doc.get('title'), str) or not doc['title'].strip():
            problems.append('%s: the dashboard %s has no "title"' % (source, uid))
            continue
        entries.append(Entry(doc, source))
    seen = {}
    for entry in entries:
        if entry.uid in seen:
            problems.append('uid %s is used by two dashboards: %s and %s' % (entry.uid, seen[entry.uid], entry.source))
        seen.setdefault(entry.uid, entry.source)
    if not entries and not problems:
        problems.append('no dashboard given')
    return entries, problems


# --- folders -------------------------------------------------------------------------------------

def folder_titles(folder):
    return [part.strip() for part in (folder or '').split('/') if part.strip()]


def derived_folder_uid(titles):
    """The uid the module gives a folder it creates: stable for the path of titles."""
    digest = hashlib.sha256('/'.join(titles).encode('utf-8')).hexdigest()[:8]
    slug = re.sub(r'[^a-z0-9]+', '-', titles[-1].lower()).strip('-')[:26] or 'folder'
    return 'ilp-%s-%s' % (slug, digest)


def resolve_folder(api, params):
    """``(target uid, path, folders)`` where folders lists each level, those missing with created=True."""
    if params.get('folder_uid'):
        uid = params['folder_uid']
        doc = api.get_folder(uid)
        if doc is None:
            raise FolderError('folder_uid %s: there is no folder with this uid in Grafana' % uid)
        titles = [p.get('title', '') for p in doc.get('parents') or []] + [doc.get('title', uid)]
        return uid, '/'.join(titles), [dict(title=doc.get('title', uid), uid=uid, created=False, parent_uid=doc.get('parentUid') or '')]
    titles = folder_titles(params.get('folder'))
    folders = []
    parent = None
    missing = False
    for depth, title in enumerate(titles):
        found = None
        if not missing:
            for item in api.list_folders(parent):
                if item.get('title') == title and item.get('parentUid', parent) in (parent, None, ''):
                    found = item
                    break
        if found is not None:
            folders.append(dict(title=title, uid=found['uid'], created=False, parent_uid=parent or ''))
            parent = found['uid']
        else:
            missing = True
            uid = derived_folder_uid(titles[:depth + 1])
            folders.append(dict(title=title, uid=uid, created=True, parent_uid=parent or ''))
            parent = uid
    return parent or '', '/'.join(titles), folders


class FolderError(Exception):
    pass


def create_folders(api, folders):
    for item in folders:
        if not item['created']:
            continue
        status, doc = api.create_folder(item['uid'], item['title'], item.get('parent_uid'))
        if status == 409:
            existing = api.get_folder(item['uid'])
            if existing is None or existing.get('title') != item['title']:
                raise FolderError('cannot create folder %r (uid %s) under %s: Grafana answered 409 (%s)'
                                  % (item['title'], item['uid'], item.get('parent_uid') or 'the root',
                                     (doc or {}).get('message', 'it already exists')))
            item['created'] = False
        elif item.get('parent_uid') and isinstance(doc, dict) and doc.get('parentUid', item['parent_uid']) != item['parent_uid']:
            raise FolderError('Grafana created folder %r at the root instead of under %s: nested folders are not enabled '
                              'in this Grafana (Grafana 11 or later has them)' % (item['title'], item['parent_uid']))


# --- plan and push -------------------------------------------------------------------------------

def _when(meta):
    who = meta.get('updatedBy') or 'an unknown user'
    when = meta.get('updated') or 'an unknown time'
    return who, when


def plan(api, entries, target_uid, params):
    """Read Grafana and decide an action per dashboard; returns (items, conflicts, listing)."""
    listing = dict((hit.get('uid'), hit) for hit in api.search_dashboards() if hit.get('uid'))
    items, conflicts = [], []
    for entry in entries:
        entry.digest = digest_of(entry.normalized, target_uid)
        item = dict(entry=entry, action=None, current=None, meta={}, overwrite=False, reason=None)
        items.append(item)
        # Read it by uid even when search did not list it: under unified storage (Grafana 12/13)
        # the search index lags the writes, and a dashboard saved moments ago would otherwise be
        # POSTed as new, without its version, and refused with 412 version-mismatch.
        current = api.get_dashboard(entry.uid)
        if current is None:
            item['action'] = 'created'
            continue
        meta = current.get('meta') or {}
        item.update(current=current.get('dashboard') or {}, meta=meta)
        if meta.get('provisioned'):
            item.update(action='skipped', reason='provisioned from files by Grafana (meta.provisioned)%s: not written'
                        % (' from %s' % meta['provisionedExternalId'] if meta.get('provisionedExternalId') else ''))
            continue
        current_folder = meta.get('folderUid') or ''
        if normalize_dashboard(item['current']) == entry.normalized and current_folder == target_uid:
            item['action'] = 'unchanged'
            continue
        latest, history_error = None, None
        try:
            versions = api.dashboard_versions(entry.uid, limit=1)
            latest = versions[0] if versions else None
        except GrafanaAPIError as exc:
            history_error = exc.msg
        ours = None
        if latest is not None and latest.get('version') == meta.get('version'):
            ours = marker_digest(latest.get('message'))
        if ours is not None and ours == entry.digest and current_folder == target_uid:
            item.update(action='unchanged', reason='Grafana answers a migrated form of the dashboard this module pushed '
                        '(version %s)' % meta.get('version'))
        elif ours is not None and ours != entry.digest:
            item['action'] = 'updated'
        elif params['overwrite']:
            item.update(action='updated', overwrite=True)
        else:
            who, when = _when(meta)
            detail = 'saved by %s at %s (version %s' % (who, when, meta.get('version'))
            if latest is not None and latest.get('message'):
                detail += ', message %r' % latest['message']
            detail += ')'
            if ours is not None:
                detail += ', moved out of folder %s' % (target_uid or 'General')
            elif history_error:
                detail += '; its version history could not be read: %s' % history_error
            elif latest is None or marker_digest(latest.get('message')) is None:
                detail += ', not by this module'
            conflicts.append("'%s' (uid %s) was changed in Grafana since this module pushed it: %s"
                             % (entry.title, entry.uid, detail))
            item['action'] = 'conflict'
    return items, conflicts, listing


def prune_candidates(api, listing, entries, target_uid):
    wanted = set(e.uid for e in entries)
    return [hit for uid, hit in sorted(listing.items())
            if uid not in wanted and (hit.get('folderUid') or '') == target_uid]


def explain_412(exc, entry, folder_path):
    """The 412 answers Grafana gives a dashboard save today (grafana/grafana
    pkg/api/apierrors/dashboard.go ToDashboardErrorResponse, and the dashboard errors):
    version-mismatch ("The dashboard has been changed by someone else") and plugin-dashboard
    ("The dashboard belongs to plugin <name>.")."""
    status = exc.grafana_status
    if status == 'version-mismatch':
        why = ('someone saved it in Grafana between the module reading it and writing it (412 version-mismatch); '
               'run again to see who, or set overwrite: true')
    elif status == 'plugin-dashboard':
        why = ('it belongs to a Grafana plugin (412 plugin-dashboard), which Grafana does not let the API overwrite; '
               'set overwrite: true to replace it anyway, or give the dashboard another uid')
    else:
        # Grafana 11.3 and later raise no 412 for a title (titles need not be unique,
        # grafana/grafana#90687); another status is named as Grafana gave it.
        why = 'Grafana refused it with 412 Precondition Failed (status %s)' % (status or 'unknown')
    return "cannot save '%s' (uid %s): %s. %s" % (entry.title, entry.uid, why, exc.msg)


def main():
    module = AnsibleModule(
        **module_kwargs(
            dict(
                GRAFANA_OPTIONS,
                dashboard=dict(type='dict'),
                path=dict(type='path'),
                paths=dict(type='list', elements='path'),
                folder=dict(type='str', default=''),
                folder_uid=dict(type='str'),
                overwrite=dict(type='bool', default=False),
                prune=dict(type='bool', default=False),
                commit_message=dict(type='str', default='Pushed by ilp.observability.grafana_dashboard'),
            ),
            mutually_exclusive=[('dashboard', 'path', 'paths'), ('folder', 'folder_uid')],
            required_one_of=[('dashboard', 'path', 'paths')],
        )
    )
    p = module.params
    result = dict(changed=False, dashboards=[], counts=dict((a, 0) for a in ACTIONS), folders=[], http_calls=0,
                  http_calls_by_method={})

    entries, problems = load_entries(p)
    if problems:
        module.fail_json(msg='Cannot read the dashboards (nothing was sent to Grafana): %s' % '; '.join(problems),
                         problems=problems, **result)
    if p['prune'] and not p.get('folder_uid') and not folder_titles(p['folder']):
        module.fail_json(msg='prune: true needs folder or folder_uid: the module does not prune the root folder, '
                         'where every dashboard without a folder would be deleted', **result)

    api = None
    try:
        api = GrafanaAPI(p)
        target_uid, folder_path, folders = resolve_folder(api, p)
        result['folders'] = folders
        items, conflicts, listing = plan(api, entries, target_uid, p)
        if conflicts:
            result.update(http_calls=api.calls, http_calls_by_method=dict(api.calls_by_method), conflicts=conflicts)
            module.fail_json(msg='%d dashboard(s) were changed in Grafana since this module last pushed them, nothing was '
                             'written: %s. Set overwrite: true to replace them with the dashboards given.'
                             % (len(conflicts), '; '.join(conflicts)), **result)
        pruned = prune_candidates(api, listing, entries, target_uid) if p['prune'] else []
        pruned_current = {}
        for hit in pruned:
            current = api.get_dashboard(hit['uid'])
            if current is not None:
                pruned_current[hit['uid']] = current
    except (GrafanaAPIError, FolderError) as exc:
        module.fail_json(msg=getattr(exc, 'msg', str(exc)), http_calls=api.calls if api else 0,
                         **dict((k, v) for k, v in result.items() if k != 'http_calls'))

    diffs = []
    out = result['dashboards']
    try:
        if not module.check_mode:
            create_folders(api, folders)
        for item in items:
            entry, action = item['entry'], item['action']
            row = dict(uid=entry.uid, title=entry.title, folder=folder_path, folder_uid=target_uid, action=action,
                       version=item['meta'].get('version'), source=entry.source)
            if item['reason']:
                row['reason'] = item['reason']
            if action in ('created', 'updated'):
                before = None
                if item['current'] is not None:
                    before = dict(dashboard=normalize_dashboard(item['current']), folderUid=item['meta'].get('folderUid') or '')
                diffs.append(dict(before_header='grafana: %s (version %s)' % (entry.uid, item['meta'].get('version'))
                                  if before else 'grafana: %s (absent)' % entry.uid,
                                  after_header=entry.source,
                                  before=canonical_json(before) + '\n' if before else '',
                                  after=canonical_json(dict(dashboard=entry.normalized, folderUid=target_uid)) + '\n'))
                if not module.check_mode:
                    body = copy.deepcopy(entry.dashboard)
                    body['uid'] = entry.uid
                    if item['current'] is not None:
                        body['id'] = item['current'].get('id')
                        body['version'] = item['meta'].get('version')
                    else:
                        body['id'] = None
                        body.pop('version', None)
                    message = save_message(p['commit_message'], entry.digest)
                    try:
                        saved = api.save_dashboard(body, target_uid, message, overwrite=item['overwrite'])
                    except GrafanaAPIError as exc:
                        if exc.status == 412:
                            raise WriteError(explain_412(exc, entry, folder_path))
                        raise WriteError("cannot save '%s' (uid %s): %s" % (entry.title, entry.uid, exc.msg))
                    row['version'] = saved.get('version', row['version'])
                else:
                    row['version'] = row['version'] if action == 'updated' else None
            out.append(row)
            result['counts'][action] += 1
        for hit in pruned:
            current = pruned_current.get(hit['uid'])
            if current is None:
                continue
            meta = current.get('meta') or {}
            row = dict(uid=hit['uid'], title=hit.get('title'), folder=folder_path, folder_uid=target_uid, action='deleted',
                       version=None, source=None)
            if meta.get('provisioned'):
                row.update(action='skipped', version=meta.get('version'),
                           reason='provisioned from files by Grafana (meta.provisioned): not deleted')
            else:
                diffs.append(dict(before_header='grafana: %s (version %s)' % (hit['uid'], meta.get('version')),
                                  after_header='deleted (prune)',
                                  before=canonical_json(dict(dashboard=normalize_dashboard(current.get('dashboard')),
                                                             folderUid=meta.get('folderUid') or '')) + '\n',
                                  after=''))
                if not module.check_mode:
                    try:
                        api.delete_dashboard(hit['uid'])
                    except GrafanaAPIError as exc:
                        raise WriteError("cannot delete '%s' (uid %s): %s" % (hit.get('title'), hit['uid'], exc.msg))
            out.append(row)
            result['counts'][row['action']] += 1
    except (WriteError, FolderError, GrafanaAPIError) as exc:
        done = sum(1 for row in out if row['action'] in ('created', 'updated', 'deleted'))
        result.update(changed=done > 0 or any(f['created'] for f in folders), http_calls=api.calls,
                      http_calls_by_method=dict(api.calls_by_method))
        module.fail_json(msg='%s (%d dashboard(s) were written before this failure)' % (getattr(exc, 'msg', str(exc)), done),
                         **result)

    counts = result['counts']
    result['changed'] = bool(counts['created'] or counts['updated'] or counts['deleted'] or any(f['created'] for f in folders))
    result.update(http_calls=api.calls, http_calls_by_method=dict(api.calls_by_method))
    if module._diff and diffs:
        result['diff'] = diffs
    for item in out:
        if item['action'] == 'skipped':
            module.warn("dashboard '%s' (uid %s) skipped: %s" % (item['title'], item['uid'], item.get('reason')))
    verb = 'would be ' if module.check_mode else ''
    summary = ', '.join('%d %s%s' % (counts[a], verb if a != 'unchanged' else '', a) for a in ACTIONS if counts[a])
    module.exit_json(msg='%d dashboard(s): %s' % (len(out), summary), **result)


class WriteError(Exception):
    def __init__(self, msg):
        super(WriteError, self).__init__(msg)
        self.msg = msg


if __name__ == '__main__':
    main()
