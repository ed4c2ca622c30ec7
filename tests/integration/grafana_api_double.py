# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A TEST DOUBLE of the Grafana HTTP API: it is not Grafana and contains no Grafana code.

Grafana is AGPL-licensed, so this project neither fetches, builds nor runs it in its tests.
This double is written from Grafana's public HTTP API documentation only; every emulated
behaviour cites the documentation section it follows (``DOC`` links below). It serves the
subset of the API that the collection's Grafana modules, and community.grafana's
grafana_dashboard (for tools/bench-grafana), use:

- ``GET /api/health``                                   DOC_OTHER "Health API"
- ``POST /api/dashboards/db``                           DOC_DASHBOARD "Create / Update dashboard"
- ``GET|DELETE /api/dashboards/uid/<uid>``              DOC_DASHBOARD "Get / Delete dashboard by uid"
- ``GET /api/dashboards/uid/<uid>/versions``            DOC_VERSIONS "Get all dashboard versions by dashboard UID"
- ``GET /api/search``                                   DOC_SEARCH "Search folders and dashboards"
- ``GET|POST /api/folders``, ``GET|DELETE /api/folders/<uid>``   DOC_FOLDER
- ``GET|POST /api/datasources``, ``DELETE /api/datasources/uid/<uid>``,
  ``GET /api/datasources/uid/<uid>/health``             DOC_DATASOURCE
- ``POST /api/admin/users``, ``DELETE /api/admin/users/<id>``   DOC_ADMIN "Global Users"
- ``PATCH /api/org/users/<id>``                         DOC_ORG "Updates the given user"
- ``GET /api/frontend/settings``                        DOC_OTHER "Frontend Settings API"
- ``POST /api/user/using/<org id>``                     DOC_USER "Switch user context for signed in user"
- ``GET /api/plugins/<id>/settings``                    SRC_PLUGIN_SETTINGS
- basic authentication and service account tokens       DOC_AUTH

Where Grafana 12/13 behaves otherwise than its documentation (or the documentation says
nothing), the double follows Grafana's source, cited by path (grafana/grafana, read as stored
text, never fetched or run) or the pull request that changed it:

- the search index lags writes (``search_lag_requests``, ``search_lag_seconds``): SRC_SEARCH_LAG;
- a dashboard's version is its generation: re-saving the same dashboard into the same folder
  does not bump it (SRC_GENERATION);
- a save message over 500 bytes is refused with 400 (SRC_MESSAGE);
- titles need not be unique: no 412 name-exists for a title (SRC_TITLES);
- a data source whose plugin is not installed answers its health check with 500
  ``plugin.unavailable`` (SRC_PLUGIN_UNAVAILABLE).

It listens on 127.0.0.1 on a free port, in a thread, keeps everything in memory and counts
every HTTP request it receives (``calls``). Run it on its own for manual tests with
``python3 tests/integration/grafana_api_double.py`` (it prints its URL and credentials).
"""

from __future__ import annotations

import base64
import copy
import datetime
import itertools
import json
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DOC_DASHBOARD = 'https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/'
DOC_VERSIONS = 'https://grafana.com/docs/grafana/latest/developers/http_api/dashboard_versions/'
DOC_SEARCH = 'https://grafana.com/docs/grafana/latest/developers/http_api/folder_dashboard_search/'
DOC_FOLDER = 'https://grafana.com/docs/grafana/latest/developers/http_api/folder/'
DOC_DATASOURCE = 'https://grafana.com/docs/grafana/latest/developers/http_api/data_source/'
DOC_OTHER = 'https://grafana.com/docs/grafana/latest/developers/http_api/other/'
DOC_USER = 'https://grafana.com/docs/grafana/latest/developers/http_api/user/'
DOC_ADMIN = 'https://grafana.com/docs/grafana/latest/developers/http_api/admin/'
DOC_ORG = 'https://grafana.com/docs/grafana/latest/developers/http_api/org/'
DOC_AUTH = 'https://grafana.com/docs/grafana/latest/developers/http_api/authentication/'
DOC_JSON_MODEL = 'https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/'
DOC_PROVISIONING = 'https://grafana.com/docs/grafana/latest/administration/provisioning/#dashboards'
# Grafana's source (grafana/grafana), read as stored text:
# pkg/services/dashboards/errors.go (dashboardaccess.DashboardErr in newer trees):
#   ErrDashboardMessageTooLong = {Reason: "message too long, max 500 characters", StatusCode: 400} (no status);
#   ErrDashboardVersionMismatch = {412, "version-mismatch", "The dashboard has been changed by someone else"}.
# pkg/services/dashboards/service/dashboard_service.go, ValidateBasicDashboardProperties:
#   `if message != "" && len(message) > 500 { return dashboards.ErrDashboardMessageTooLong }` (Go len: bytes).
# pkg/api/apierrors/dashboard.go, ToDashboardErrorResponse: a DashboardErr with a status answers
#   {"status", "message"}, one without answers {"message"}; an app plugin's dashboard answers
#   412 {"status": "plugin-dashboard", "message": "The dashboard belongs to plugin <name>."}.
SRC_MESSAGE = 'grafana/grafana pkg/services/dashboards/service/dashboard_service.go ValidateBasicDashboardProperties'
# grafana/grafana#90687 "Dashboards: Remove unique name constraints", release notice: "In Grafana 11.3,
# dashboards and folder names are no longer required to be unique."
SRC_TITLES = 'https://github.com/grafana/grafana/pull/90687'
# Under unified storage (Grafana 12/13) /api/search answers from a search index that is updated
# after the write returns, so a dashboard just written may be missing from search for a while
# (issue 17 of this project; unified storage keeps objects in its `resource` table and searches a
# separate index: grafana/grafana pkg/storage/unified/README.md). GET /api/dashboards/uid/<uid>
# reads the object itself and sees every write at once.
SRC_SEARCH_LAG = 'grafana/grafana pkg/storage/unified/README.md (object store vs. search index)'
# Under unified storage a dashboard is a Kubernetes-style object whose version is its
# metadata.generation, which only changes when the spec (the dashboard JSON) changes; moving it to
# another folder (an annotation) is treated as a change here, as the legacy API's folder move is.
SRC_GENERATION = 'Kubernetes API conventions, metadata.generation; issue 17 of this project'
# pkg/plugins/errors.go: errPluginUnavailableBase = errutil.Internal("plugin.unavailable",
# errutil.WithPublicMessage("Plugin unavailable")); errutil's public JSON is
# {"message", "messageId", "statusCode"}.
SRC_PLUGIN_UNAVAILABLE = 'grafana/grafana pkg/plugins/errors.go ErrPluginUnavailable'
# pkg/api/plugins.go, GetPluginSettingByID: 404 "Plugin not found, no installed plugin with that id".
SRC_PLUGIN_SETTINGS = 'grafana/grafana pkg/api/plugins.go GetPluginSettingByID'
# Plugins the double has installed (Grafana's core data sources plus TestData).
CORE_PLUGINS = ('prometheus', 'loki', 'jaeger', 'alertmanager', 'grafana-testdata-datasource')

# The schemaVersion this double "migrates" stored dashboards to when they are read.
SCHEMA_VERSION = 41
VERSION = '12.3.0-double'
ROLES = {'Viewer': 1, 'Editor': 2, 'Admin': 3}


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z')


def slugify(title):
    return re.sub(r'[^a-z0-9]+', '-', (title or '').lower()).strip('-')


class Reply(Exception):
    """Raised by a route to answer with ``status`` and the JSON ``doc``."""

    def __init__(self, status, doc):
        super(Reply, self).__init__(status)
        self.status = status
        self.doc = doc


class GrafanaAPIDouble(object):
    """In-memory stand-in for one Grafana organization, served over HTTP on 127.0.0.1."""

    is_double = True

    def __init__(self, admin_password='double-admin-password', versions_format='object', search_lag_requests=0,
                 search_lag_seconds=0.0):
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self.calls = []  # (method, path with query, authenticated login or None, HTTP status)
        # DOC_AUTH "Basic auth": users with their organization role.
        self.users = {'admin': dict(id=next(self._ids), password=admin_password, role='Admin')}
        # DOC_AUTH "Service account token": token -> service account login and role.
        self.tokens = {}
        self.folders = {}
        self.dashboards = {}
        self.versions = {}
        self.datasources = []
        self.datasource_health = {}
        self.plugins = set(CORE_PLUGINS)
        self.database_ok = True
        # SRC_SEARCH_LAG: /api/search answers from this index, which takes a write in only once
        # ``search_lag_requests`` further searches were answered and ``search_lag_seconds`` passed.
        self.search_lag_requests = search_lag_requests
        self.search_lag_seconds = search_lag_seconds
        self.search_index = {}
        self._index_queue = []  # [uid, snapshot or None (deleted), due search count, due time]
        self._search_count = 0
        # DOC_VERSIONS shows a plain list in older releases and {"continueToken", "versions"} in
        # the current one; both are served so that clients can be tested against each.
        self.versions_format = versions_format
        # Test hooks: callables run with (double, method, path) before a request is handled, to
        # stage a concurrent change (for example another user's save between a read and a write).
        self.hooks = []
        self.server = None
        self.thread = None

    # --- life cycle -------------------------------------------------------------------------------

    def start(self):
        handler = type('GrafanaAPIDoubleHandler', (_Handler,), dict(double=self))
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name='grafana-api-double', daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server.server_address[1]

    # --- set-up helpers for tests -----------------------------------------------------------------

    def add_user(self, login, password, role='Editor'):
        self.users[login] = dict(id=next(self._ids), password=password, role=role)
        return self.users[login]

    def add_token(self, token, login, role='Editor'):
        self.tokens[token] = dict(login=login, role=role)

    def add_datasource(self, name, ds_type, uid=None, health=('OK', 'Data source is working')):
        """``health`` is (status, message) of the health check; None: the plugin has no health check."""
        with self.lock:
            ds = dict(id=next(self._ids), orgId=1, uid=uid or slugify(name), name=name, type=ds_type, typeLogoUrl='',
                      access='proxy', url='http://127.0.0.1:1', user='', database='', basicAuth=False, isDefault=False,
                      jsonData={}, readOnly=False)
            self.datasources.append(ds)
            self.set_datasource_health(ds['uid'], *(health or (None, None)))
            return ds

    def set_datasource_health(self, uid, status, message):
        self.datasource_health[uid] = (status, message)

    def provision_dashboard(self, dashboard, folder_uid='', external_id='/etc/grafana/provisioning/dashboards/x.json'):
        """A dashboard provisioned from files (DOC_PROVISIONING): read-only through the API."""
        saved = self._save(dashboard, folder_uid, 'provisioning', 'provisioned', overwrite=True)
        saved.update(provisioned=True, provisionedExternalId=external_id)
        return saved

    def save_as(self, login, dashboard, folder_uid='', message='', overwrite=False):
        """Save ``dashboard`` as ``login`` the way POST /api/dashboards/db does (for hooks)."""
        with self.lock:
            return self._save(dashboard, folder_uid, login, message, overwrite=overwrite)

    def mark_plugin_dashboard(self, uid, plugin_id):
        """Mark a stored dashboard as imported from an app plugin (DOC_DASHBOARD, 412 plugin-dashboard)."""
        self.dashboards[uid]['pluginId'] = plugin_id

    def call_count(self, since=0):
        return len(self.calls) - since

    def calls_since(self, since=0):
        return ['%s %s' % (c[0], c[1]) for c in self.calls[since:]]

    # --- state ------------------------------------------------------------------------------------

    def _index(self, uid):
        """Queue the current state of dashboard ``uid`` (absent: deleted) for the search index."""
        stored = self.dashboards.get(uid)
        self._index_queue.append([uid, copy.deepcopy(stored) if stored is not None else None,
                                  self._search_count + self.search_lag_requests,
                                  time.monotonic() + self.search_lag_seconds])

    def _apply_index(self):
        now_ = time.monotonic()
        due = [e for e in self._index_queue if e[2] < self._search_count and e[3] <= now_]
        for entry in due:
            self._index_queue.remove(entry)
            if entry[1] is None:
                self.search_index.pop(entry[0], None)
            else:
                self.search_index[entry[0]] = entry[1]

    def folder_path(self, uid):
        titles = []
        while uid:
            folder = self.folders[uid]
            titles.insert(0, folder['title'])
            uid = folder.get('parentUid') or ''
        return '/'.join(titles)

    def _check_folder(self, folder_uid):
        if folder_uid and folder_uid not in self.folders:
            # DOC_DASHBOARD "Create / Update dashboard": 400 for missing or invalid fields.
            raise Reply(400, dict(message='folder not found', status='not-found'))

    def _save(self, dashboard, folder_uid, login, message, overwrite=False):
        """Create or update a dashboard as DOC_DASHBOARD "Create / Update dashboard" describes."""
        if not isinstance(dashboard, dict):
            raise Reply(400, dict(message='bad request data: dashboard must be an object'))
        title = dashboard.get('title')
        if not isinstance(title, str) or not title.strip():
            raise Reply(400, dict(message='Dashboard title cannot be empty', status='empty-name'))
        self._check_folder(folder_uid)
        uid = dashboard.get('uid') or uuid.uuid4().hex[:14]  # "uid = null will generate a new uid"
        if len(uid) > 40:  # "The uid can have a maximum length of 40 characters."
            raise Reply(400, dict(message='uid too long, max 40 characters', status='bad-uid'))
        existing = self.dashboards.get(uid)
        if existing is not None and existing.get('provisioned'):
            # DOC_PROVISIONING: a provisioned dashboard cannot be saved through the API or the UI.
            raise Reply(400, dict(message='Cannot save provisioned dashboard', status='provisioned'))
        if existing is not None and existing.get('pluginId') and not overwrite:
            # DOC_DASHBOARD 412: "The dashboard belongs to plugin <plugin title>, status=plugin-dashboard".
            raise Reply(412, dict(message='The dashboard belongs to plugin %s.' % existing['pluginId'], status='plugin-dashboard'))
        if existing is not None and not overwrite and dashboard.get('version') != existing['version']:
            # DOC_DASHBOARD 412: "The dashboard has been changed by someone else, status=version-mismatch".
            raise Reply(412, dict(message='The dashboard has been changed by someone else', status='version-mismatch'))
        if len((message or '').encode('utf-8')) > 500:
            # SRC_MESSAGE: 400 {"message": "message too long, max 500 characters"}, no status.
            raise Reply(400, dict(message='message too long, max 500 characters'))
        # SRC_TITLES: since Grafana 11.3 two dashboards of a folder may have the same title (no name-exists).
        stamp = now()
        if existing is not None and _spec(existing['data']) == _spec(dashboard) and existing['folderUid'] == (folder_uid or ''):
            # SRC_GENERATION: same spec, same folder: nothing changes, the version stays.
            return existing
        if existing is None:
            existing = dict(id=next(self._ids), uid=uid, version=0, created=stamp, createdBy=login, provisioned=False)
            self.dashboards[uid] = existing
        data = copy.deepcopy(dashboard)
        existing['version'] += 1
        data.update(id=existing['id'], uid=uid, version=existing['version'])
        existing.update(data=data, folderUid=folder_uid or '', updated=stamp, updatedBy=login)
        history = self.versions.setdefault(uid, [])
        history.append(dict(id=next(self._ids), dashboardId=existing['id'], uid=uid,
                            parentVersion=existing['version'] - 1, restoredFrom=0, version=existing['version'],
                            created=stamp, createdBy=login, message=message or '', data=copy.deepcopy(data)))
        self._index(uid)
        return existing

    @staticmethod
    def migrate(data):
        """What Grafana's schema migration does to an older dashboard when it is read.

        DOC_JSON_MODEL: ``schemaVersion`` is the version of the JSON model, which Grafana raises
        when it loads an older dashboard. The double bumps it, adds a field with its default
        (``fiscalYearStartMonth: 0``) and turns panel data source names into references
        (``"datasource": "x"`` -> ``{"uid": "x"}``), as the data source reference migration does.
        Stored dashboards are not changed: only the answer is.
        """
        if (data.get('schemaVersion') or 0) >= SCHEMA_VERSION:
            return data
        data = copy.deepcopy(data)
        data['schemaVersion'] = SCHEMA_VERSION
        data.setdefault('fiscalYearStartMonth', 0)
        for panel in data.get('panels') or []:
            if isinstance(panel, dict) and isinstance(panel.get('datasource'), str):
                panel['datasource'] = {'uid': panel['datasource']}
        return data

    def _dashboard_meta(self, stored):
        folder = self.folders.get(stored['folderUid'])
        slug = slugify(stored['data'].get('title'))
        # DOC_DASHBOARD "Get dashboard by uid": meta with url, folderUid (and the deprecated folderId),
        # version, created/updated and the users, provisioned.
        return dict(type='db', canSave=not stored['provisioned'], canEdit=True, canAdmin=True, canStar=True, canDelete=True,
                    slug=slug, url='/d/%s/%s' % (stored['uid'], slug), expires='0001-01-01T00:00:00Z',
                    created=stored['created'], updated=stored['updated'], createdBy=stored['createdBy'],
                    updatedBy=stored['updatedBy'], version=stored['version'], hasAcl=False, isFolder=False,
                    folderId=folder['id'] if folder else 0, folderUid=stored['folderUid'],
                    folderTitle=folder['title'] if folder else 'General',
                    folderUrl='/dashboards/f/%s/%s' % (folder['uid'], slugify(folder['title'])) if folder else '',
                    provisioned=stored['provisioned'], provisionedExternalId=stored.get('provisionedExternalId', ''),
                    isStarred=False)

    def _folder_doc(self, folder):
        doc = dict((k, folder[k]) for k in ('id', 'uid', 'title', 'createdBy', 'created', 'updatedBy', 'updated', 'version'))
        doc.update(url='/dashboards/f/%s/%s' % (folder['uid'], slugify(folder['title'])), hasAcl=False, canSave=True,
                   canEdit=True, canAdmin=True, canDelete=True)
        if folder.get('parentUid'):
            # DOC_FOLDER: nested folders answer parentUid and parents (root first).
            parents, uid = [], folder['parentUid']
            while uid:
                parent = self.folders[uid]
                parents.insert(0, dict(uid=parent['uid'], title=parent['title'], id=parent['id']))
                uid = parent.get('parentUid') or ''
            doc.update(parentUid=folder['parentUid'], parents=parents)
        return doc

    # --- request handling -------------------------------------------------------------------------

    def authenticate(self, headers):
        """The identity of the request (login, role), or None; DOC_AUTH."""
        header = headers.get('Authorization') or ''
        if header.startswith('Basic '):
            try:
                login, dummy, password = base64.b64decode(header[6:]).decode('utf-8').partition(':')
            except (ValueError, UnicodeDecodeError):
                return None
            user = self.users.get(login)
            if user is not None and user['password'] == password:
                return dict(login=login, role=user['role'])
            return None
        if header.startswith('Bearer '):
            token = self.tokens.get(header[7:].strip())
            if token is not None:
                return dict(token)
        return None

    def handle(self, method, raw_path, headers, body):
        """Answer one request: ``(status, doc)``."""
        parts = urlsplit(raw_path)
        path = parts.path.rstrip('/') or '/'
        query = parse_qs(parts.query)
        with self.lock:
            for hook in list(self.hooks):
                hook(self, method, path)
            try:
                if path == '/api/health' and method == 'GET':
                    return self._health()
                identity = self.authenticate(headers)
                if identity is None:
                    # DOC_AUTH: requests without valid basic credentials or token are refused with 401.
                    raise Reply(401, dict(message='Unauthorized', messageId='auth.unauthorized', statusCode=401))
                return self._route(method, path, query, body, identity)
            except Reply as reply:
                return reply.status, reply.doc

    def _need(self, identity, role, action):
        if ROLES[identity['role']] < ROLES[role]:
            # Role-based access: a Viewer may read but not write (DOC_DASHBOARD "Required permissions").
            raise Reply(403, dict(accessErrorId='ACE0000000000', title='Access denied',
                                  message="You'll need additional permissions to perform this action. Permissions needed: %s"
                                  % action))

    def _health(self):
        # DOC_OTHER "Health API": {"commit", "database", "version"}; 503 when the database check fails.
        doc = dict(commit='double', database='ok' if self.database_ok else 'failing', version=VERSION)
        return (200 if self.database_ok else 503), doc

    def _route(self, method, path, query, body, identity):
        login = identity['login']
        match = re.match(r'^/api/dashboards/uid/([^/]+)(/versions)?$', path)
        if path == '/api/dashboards/db' and method == 'POST':
            self._need(identity, 'Editor', 'dashboards:create, dashboards:write')
            doc = _json_body(body)
            folder_uid = doc.get('folderUid')
            if folder_uid is None and doc.get('folderId'):
                # DOC_DASHBOARD: "folderUid ... Overrides the folderId" (folderId is the deprecated numeric id).
                folder_uid = next((f['uid'] for f in self.folders.values() if f['id'] == doc['folderId']), None)
                if folder_uid is None:
                    raise Reply(400, dict(message='folder not found', status='not-found'))
            stored = self._save(doc.get('dashboard'), folder_uid or '', login, doc.get('message'),
                                overwrite=bool(doc.get('overwrite')))
            slug = slugify(stored['data'].get('title'))
            # DOC_DASHBOARD example response: {id, uid, url, status, version, slug}.
            return 200, dict(id=stored['id'], uid=stored['uid'], url='/d/%s/%s' % (stored['uid'], slug), status='success',
                             version=stored['version'], slug=slug, folderUid=stored['folderUid'])
        if match and match.group(2) and method == 'GET':
            return self._versions(match.group(1), query)
        if match and method == 'GET':
            stored = self.dashboards.get(match.group(1))
            if stored is None:
                raise Reply(404, dict(message='Dashboard not found', status='not-found'))
            return 200, dict(dashboard=self.migrate(stored['data']), meta=self._dashboard_meta(stored))
        if match and method == 'DELETE':
            self._need(identity, 'Editor', 'dashboards:delete')
            stored = self.dashboards.get(match.group(1))
            if stored is None:
                raise Reply(404, dict(message='Dashboard not found', status='not-found'))
            if stored['provisioned']:
                # DOC_PROVISIONING: provisioned dashboards cannot be deleted through the API.
                raise Reply(400, dict(message='provisioned dashboard cannot be deleted', status='provisioned'))
            del self.dashboards[stored['uid']]
            self.versions.pop(stored['uid'], None)
            self._index(stored['uid'])
            title = stored['data'].get('title')
            # DOC_DASHBOARD "Delete dashboard by uid": {title, message, id}.
            return 200, dict(title=title, message='Dashboard %s deleted' % title, id=stored['id'])
        if path == '/api/search' and method == 'GET':
            return self._search(query)
        if path == '/api/folders' and method == 'GET':
            return self._list_folders(query)
        if path == '/api/folders' and method == 'POST':
            self._need(identity, 'Editor', 'folders:create')
            return self._create_folder(_json_body(body), login)
        match = re.match(r'^/api/folders/([^/]+)$', path)
        if match and method == 'GET':
            folder = self.folders.get(match.group(1))
            if folder is None:
                raise Reply(404, dict(message='folder not found', status='not-found'))
            return 200, self._folder_doc(folder)
        if match and method == 'DELETE':
            self._need(identity, 'Editor', 'folders:delete')
            return self._delete_folder(match.group(1))
        if path == '/api/datasources' and method == 'POST':
            self._need(identity, 'Admin', 'datasources:create')
            return self._create_datasource(_json_body(body))
        match = re.match(r'^/api/datasources/uid/([^/]+)$', path)
        if match and method == 'DELETE':
            self._need(identity, 'Admin', 'datasources:delete')
            found = [d for d in self.datasources if d['uid'] == match.group(1)]
            if not found:
                raise Reply(404, dict(message='Data source not found'))
            self.datasources.remove(found[0])
            # DOC_DATASOURCE "Delete an existing data source by uid".
            return 200, dict(message='Data source deleted', id=found[0]['id'])
        if path == '/api/admin/users' and method == 'POST':
            return self._create_user(_json_body(body), identity)
        match = re.match(r'^/api/admin/users/(\d+)$', path)
        if match and method == 'DELETE':
            self._need(identity, 'Admin', 'users:delete')
            login = next((k for k, u in self.users.items() if u['id'] == int(match.group(1))), None)
            if login is None:
                raise Reply(404, dict(message='user not found'))
            del self.users[login]
            return 200, dict(message='User deleted')  # DOC_ADMIN "Delete global User"
        match = re.match(r'^/api/org/users/(\d+)$', path)
        if match and method == 'PATCH':
            self._need(identity, 'Admin', 'org.users:write')
            user = next((u for u in self.users.values() if u['id'] == int(match.group(1))), None)
            role = _json_body(body).get('role')
            if user is None or role not in ROLES:
                raise Reply(404 if user is None else 400, dict(message='user not found' if user is None else 'invalid role'))
            user['role'] = role
            return 200, dict(message='Organization user updated')  # DOC_ORG "Updates the given user"
        if path == '/api/datasources' and method == 'GET':
            # DOC_DATASOURCE "Get all data sources": a list, without paging.
            return 200, copy.deepcopy(self.datasources)
        match = re.match(r'^/api/datasources/uid/([^/]+)/health$', path)
        if match and method == 'GET':
            return self._datasource_health(match.group(1))
        match = re.match(r'^/api/plugins/([^/]+)/settings$', path)
        if match and method == 'GET':
            if match.group(1) not in self.plugins:
                # SRC_PLUGIN_SETTINGS
                raise Reply(404, dict(message='Plugin not found, no installed plugin with that id'))
            return 200, dict(id=match.group(1), type='datasource', enabled=True)
        if path == '/api/frontend/settings' and method == 'GET':
            # DOC_OTHER "Frontend Settings API": buildInfo.version (read by community.grafana).
            return 200, dict(buildInfo=dict(version=VERSION, commit='double', buildstamp=0), appSubUrl='', datasources={})
        match = re.match(r'^/api/user/using/(\d+)$', path)
        if match and method == 'POST':
            # DOC_USER "Switch user context": only organization 1 exists here.
            if match.group(1) != '1':
                raise Reply(401, dict(message='Not a valid organization'))
            return 200, dict(message='Active organization changed')
        raise Reply(404, dict(message='Not found'))

    def _versions(self, uid, query):
        # DOC_VERSIONS "Get all dashboard versions by dashboard UID": newest first, limit and start.
        if uid not in self.dashboards:
            raise Reply(404, dict(message='Dashboard not found', status='not-found'))
        limit = _int(query, 'limit', 1000) or 1000
        start = _int(query, 'start', 0)
        history = [dict((k, v) for k, v in entry.items() if k != 'data') for entry in reversed(self.versions.get(uid, []))]
        page = history[start:start + limit]
        if self.versions_format == 'list':
            return 200, page
        return 200, dict(continueToken='', versions=page)

    def _search(self, query):
        # DOC_SEARCH: query, tag, type (dash-folder or dash-db), dashboardUIDs, folderUIDs (the
        # root is "general"), deprecated folderIds, limit (default 1000, max 5000) and page (from 1).
        kind = (query.get('type') or [''])[0]
        text = (query.get('query') or [''])[0].lower()
        tags = set(query.get('tag') or [])
        uids = set(query.get('dashboardUIDs') or []) | set(query.get('dashboardUID') or [])
        folder_uids = set(query.get('folderUIDs') or [])
        folder_ids = set(query.get('folderIds') or [])
        limit = min(_int(query, 'limit', 1000) or 1000, 5000)
        page = max(_int(query, 'page', 1), 1)
        hits = []
        if kind in ('', 'dash-folder'):
            for folder in self.folders.values():
                if text and text not in folder['title'].lower() or uids or tags:
                    continue
                if folder_uids and (folder.get('parentUid') or 'general') not in folder_uids:
                    continue
                hits.append(dict(id=folder['id'], uid=folder['uid'], title=folder['title'], type='dash-folder',
                                 url='/dashboards/f/%s/%s' % (folder['uid'], slugify(folder['title'])), tags=[],
                                 isStarred=False, uri='db/%s' % slugify(folder['title'])))
        # SRC_SEARCH_LAG: dashboards come from the search index, which may lag the writes.
        self._search_count += 1
        self._apply_index()
        if kind in ('', 'dash-db'):
            for stored in self.search_index.values():
                data = stored['data']
                if uids and stored['uid'] not in uids:
                    continue
                if text and text not in (data.get('title') or '').lower():
                    continue
                if tags and not tags.issubset(set(data.get('tags') or [])):
                    continue
                if folder_uids and (stored['folderUid'] or 'general') not in folder_uids:
                    continue
                folder = self.folders.get(stored['folderUid'])
                if folder_ids and str(folder['id'] if folder else 0) not in folder_ids:
                    continue
                slug = slugify(data.get('title'))
                hit = dict(id=stored['id'], uid=stored['uid'], title=data.get('title'), type='dash-db',
                           url='/d/%s/%s' % (stored['uid'], slug), tags=list(data.get('tags') or []), isStarred=False,
                           uri='db/%s' % slug, slug='')
                if folder:
                    hit.update(folderId=folder['id'], folderUid=folder['uid'], folderTitle=folder['title'],
                               folderUrl='/dashboards/f/%s/%s' % (folder['uid'], slugify(folder['title'])))
                hits.append(hit)
        hits.sort(key=lambda h: ((h['type'] != 'dash-folder'), (h['title'] or '').lower(), h['uid']))
        return 200, hits[(page - 1) * limit:page * limit]

    def _list_folders(self, query):
        # DOC_FOLDER "Get all folders": immediate subfolders of parentUid (the root without it),
        # limit (default 1000) and page.
        parent = (query.get('parentUid') or [''])[0]
        limit = _int(query, 'limit', 1000) or 1000
        page = max(_int(query, 'page', 1), 1)
        children = sorted((f for f in self.folders.values() if (f.get('parentUid') or '') == parent),
                          key=lambda f: (f['title'].lower(), f['uid']))
        return 200, [dict(id=f['id'], uid=f['uid'], title=f['title']) for f in children[(page - 1) * limit:page * limit]]

    def _create_folder(self, doc, login):
        # DOC_FOLDER "Create folder": {uid, title, parentUid}; 409 when the folder already exists.
        title = doc.get('title')
        if not isinstance(title, str) or not title.strip():
            raise Reply(400, dict(message='folder title cannot be empty'))
        uid = doc.get('uid') or uuid.uuid4().hex[:14]
        parent = doc.get('parentUid') or ''
        if parent and parent not in self.folders:
            raise Reply(400, dict(message='parent folder not found'))
        if uid in self.folders:
            raise Reply(409, dict(message='a folder with the same uid already exists'))
        if any(f['title'] == title and (f.get('parentUid') or '') == parent for f in self.folders.values()):
            raise Reply(409, dict(message='a folder with the same name already exists in this folder'))
        stamp = now()
        folder = dict(id=next(self._ids), uid=uid, title=title, parentUid=parent, created=stamp, createdBy=login,
                      updated=stamp, updatedBy=login, version=1)
        self.folders[uid] = folder
        return 200, self._folder_doc(folder)

    def _delete_folder(self, uid):
        # DOC_FOLDER "Delete folder": deletes the folder with its dashboards (and its subfolders).
        if uid not in self.folders:
            raise Reply(404, dict(message='folder not found', status='not-found'))
        doomed = [uid]
        for candidate in doomed:
            doomed.extend(f['uid'] for f in self.folders.values() if f.get('parentUid') == candidate)
        for folder_uid in doomed:
            for dash_uid in [d['uid'] for d in self.dashboards.values() if d['folderUid'] == folder_uid]:
                del self.dashboards[dash_uid]
                self.versions.pop(dash_uid, None)
                self._index(dash_uid)
        folder = self.folders[uid]
        for folder_uid in doomed:
            self.folders.pop(folder_uid, None)
        return 200, dict(message='Folder deleted', id=folder['id'], title=folder['title'])

    def _create_datasource(self, doc):
        # DOC_DATASOURCE "Create a data source": {name, type, url, access, ...}; the answer holds
        # the data source; a name already used is refused (409).
        name, ds_type = doc.get('name'), doc.get('type')
        if not name or not ds_type:
            raise Reply(400, dict(message='name and type are required'))
        if any(d['name'] == name for d in self.datasources):
            raise Reply(409, dict(message='data source with the same name already exists'))
        ds = self.add_datasource(name, ds_type, uid=doc.get('uid') or uuid.uuid4().hex[:14], health=None)
        ds.update(url=doc.get('url') or '', access=doc.get('access') or 'proxy', jsonData=doc.get('jsonData') or {})
        self.datasource_health.pop(ds['uid'], None)  # health probed on request, see _datasource_health
        return 200, dict(datasource=ds, id=ds['id'], message='Datasource added', name=name)

    def _create_user(self, doc, identity):
        # DOC_ADMIN "Global Users": server admins create users; they join the organization with
        # the Viewer role (auto_assign_org_role's default) until PATCH /api/org/users/<id> changes it.
        self._need(identity, 'Admin', 'users:create')
        login = doc.get('login') or doc.get('email')
        if not login or not doc.get('password'):
            raise Reply(400, dict(message='login and password are required'))
        if login in self.users:
            raise Reply(412, dict(message='User with same login already exists'))
        user = self.add_user(login, doc['password'], 'Viewer')
        return 200, dict(id=user['id'], message='User created')

    @staticmethod
    def _probe(url):
        """What a Prometheus-like data source's health check finds at ``url`` (127.0.0.1 only)."""
        parts = urlsplit(url or '')
        if parts.hostname not in ('127.0.0.1', 'localhost') or not parts.port:
            return 'ERROR', 'the double only reaches 127.0.0.1, not %s' % (url or 'an empty URL')
        try:
            with socket.create_connection(('127.0.0.1', parts.port), timeout=1):
                return 'OK', 'Successfully queried the Prometheus API.'
        except OSError as exc:
            return 'ERROR', 'Post "%s/api/v1/query": dial tcp 127.0.0.1:%d: connect: %s' % (url.rstrip('/'), parts.port, exc)

    def _datasource_health(self, uid):
        # DOC_DATASOURCE "Check data source health": 200 {"status": "OK", "message"}; a failed check
        # answers 400 with status ERROR (Grafana >= 8.1, grafana/grafana#37895); "This is not
        # mandatory": a plugin without a backend health check answers 404 (grafana/grafana#65970).
        if not any(ds['uid'] == uid for ds in self.datasources):
            raise Reply(404, dict(message='Data source not found'))
        ds = next(d for d in self.datasources if d['uid'] == uid)
        if ds['type'] not in self.plugins:
            # SRC_PLUGIN_UNAVAILABLE: the data source's plugin is not installed (or failed to load).
            raise Reply(500, dict(message='Plugin unavailable', messageId='plugin.unavailable', statusCode=500))
        if uid in self.datasource_health:
            status, message = self.datasource_health[uid]
        elif ds['type'] == 'grafana-testdata-datasource':
            status, message = 'OK', 'Data source is working'
        else:  # created through the API: probe its URL as the plugin's health check would
            status, message = self._probe(ds.get('url'))
        if status is None:
            raise Reply(404, dict(message='Not found'))
        if status != 'OK':
            raise Reply(400, dict(status=status, message=message))
        return 200, dict(status='OK', message=message)


def _spec(data):
    """The dashboard JSON without the fields Grafana owns (id, version), to compare two saves."""
    return dict((k, v) for k, v in (data or {}).items() if k not in ('id', 'version'))


def _int(query, name, default):
    try:
        return int((query.get(name) or [default])[0])
    except (TypeError, ValueError):
        return default


def _json_body(body):
    try:
        doc = json.loads(body.decode('utf-8') or '{}')
    except (ValueError, UnicodeDecodeError):
        # DOC_DASHBOARD: 400 for invalid JSON.
        raise Reply(400, dict(message='bad request data'))
    if not isinstance(doc, dict):
        raise Reply(400, dict(message='bad request data'))
    return doc


class _Handler(BaseHTTPRequestHandler):
    double = None
    server_version = 'GrafanaAPIDouble/1'

    def _serve(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        status, doc = self.double.handle(self.command, self.path, self.headers, body)
        identity = self.double.authenticate(self.headers)
        with self.double.lock:
            self.double.calls.append((self.command, self.path, identity['login'] if identity else None, status))
        payload = json.dumps(doc).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


if __name__ == '__main__':
    api_double = GrafanaAPIDouble().start()
    api_double.add_token('double-token', 'sa-double', 'Admin')
    api_double.add_datasource('Prometheus', 'prometheus', uid='prometheus')
    print('Grafana API double (not Grafana) at %s: user admin / double-admin-password, token double-token' % api_double.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api_double.stop()
