# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Client for the Grafana HTTP API, shared by grafana_dashboard and grafana_check.

It is the shared HTTP client of :mod:`http_api` (``ansible.module_utils.urls`` only) with the
Grafana conventions: basic authentication or a service account token (``bearer_token``), the
``X-Grafana-Org-Id`` header, ``{"message": ..., "status": ...}`` error documents, and the
endpoints of the documented HTTP API (https://grafana.com/docs/grafana/latest/developers/http_api/):
dashboards by uid, folders by uid (never numeric ids), search with paging, dashboard versions,
data sources and their health, and ``/api/health``.
"""

from __future__ import annotations

from ansible_collections.ilp.observability.plugins.module_utils.http_api import (
    HTTPAPIClient,
    HTTPAPIError,
)

HTTP_AGENT = 'ilp.observability-grafana-api'
# Page sizes: search answers at most 5000 hits a page (default 1000), folders 1000 by default.
SEARCH_PAGE_SIZE = 1000
FOLDER_PAGE_SIZE = 1000
# Enough pages for 1,000,000 dashboards: a bound against a server that never stops paging.
MAX_PAGES = 1000
UIDS_PER_SEARCH = 100


# The options of the Grafana modules besides the shared ones (doc fragment ``grafana_api``).
GRAFANA_OPTIONS = dict(org_id=dict(type='int'))


class GrafanaAPIError(HTTPAPIError):
    """A request to the Grafana API failed; ``str(error)`` is safe to show to the user.

    ``grafana_status`` is the ``status`` of Grafana's error document, for example
    ``version-mismatch`` or ``plugin-dashboard`` of a 412 answer; ``message_id`` its
    ``messageId`` (Grafana's errutil errors, for example ``plugin.unavailable``).
    """

    @property
    def grafana_status(self):
        return (self.doc or {}).get('status') if isinstance(self.doc, dict) else None

    @property
    def message_id(self):
        return (self.doc or {}).get('messageId') if isinstance(self.doc, dict) else None


class GrafanaAPI(HTTPAPIClient):
    """One Grafana server (one organization), configured by the shared options."""

    PRODUCT = 'Grafana'
    HTTP_AGENT = HTTP_AGENT
    EXAMPLE_URL = 'http://127.0.0.1:3000'
    error_class = GrafanaAPIError

    def _headers(self, has_body=False):
        headers = super(GrafanaAPI, self)._headers(has_body)
        if self.params.get('org_id'):
            headers['X-Grafana-Org-Id'] = str(self.params['org_id'])
        return headers

    def error_detail(self, doc):
        if isinstance(doc, dict) and doc.get('message'):
            detail = str(doc['message'])
            if doc.get('status'):
                detail += ' (status %s)' % doc['status']
            return detail
        return None

    def status_hint(self, method, status, doc):
        if status == 401:
            return (' (authentication required or rejected: check url_username/url_password or bearer_token;'
                    ' a service account token is sent as "Authorization: Bearer <token>")')
        if status == 403:
            if method == 'GET':
                return ' (the user or service account is not allowed to read this)'
            return (' (the user or service account is not allowed to change this: it needs the Editor or Admin role,'
                    ' or the matching dashboards:/folders: permissions)')
        return ''

    # --- health ---------------------------------------------------------------------------------

    def health(self):
        """``(HTTP status, document)`` of ``GET /api/health`` (200, or 503 when the database fails)."""
        return self.request_json('/api/health', ok_statuses=(503,))

    # --- search and dashboards ------------------------------------------------------------------

    def search(self, query=None, page_size=SEARCH_PAGE_SIZE):
        """Every hit of ``GET /api/search`` with ``query``, following the pages."""
        hits = []
        for page in range(1, MAX_PAGES + 1):
            params = list((query or {}).items()) if isinstance(query, dict) else list(query or [])
            params += [('limit', page_size), ('page', page)]
            doc = self.get_json('/api/search', params)
            if not isinstance(doc, list):
                raise self._error('GET /api/search did not return a list of hits', self.url_for('/api/search'))
            hits.extend(doc)
            if len(doc) < page_size:
                break
        return hits

    def search_dashboards(self, folder_uids=None, dashboard_uids=None):
        """Every dashboard the credentials can see (``type=dash-db``), optionally filtered.

        ``dashboard_uids`` are asked in chunks so that URLs stay short.
        """
        base = [('type', 'dash-db')]
        for uid in folder_uids or []:
            base.append(('folderUIDs', uid))
        if dashboard_uids is None:
            return self.search(base)
        hits = []
        uids = list(dashboard_uids)
        for start in range(0, len(uids), UIDS_PER_SEARCH):
            hits.extend(self.search(base + [('dashboardUIDs', uid) for uid in uids[start:start + UIDS_PER_SEARCH]]))
        return hits

    def get_dashboard(self, uid):
        """``{dashboard, meta}`` of the dashboard ``uid``, or None when there is none."""
        status, doc = self.request_json('/api/dashboards/uid/%s' % uid, ok_statuses=(404,))
        if status == 404:
            return None
        return doc

    def dashboard_versions(self, uid, limit=1):
        """The newest ``limit`` versions of dashboard ``uid``, newest first.

        Grafana answers a list, or ``{"versions": [...], "continueToken": ...}`` in newer releases.
        """
        doc = self.get_json('/api/dashboards/uid/%s/versions' % uid, dict(limit=limit))
        if isinstance(doc, dict):
            doc = doc.get('versions') or []
        versions = [v for v in doc or [] if isinstance(v, dict)]
        return sorted(versions, key=lambda v: v.get('version') or 0, reverse=True)

    def save_dashboard(self, dashboard, folder_uid, message, overwrite=False):
        """``POST /api/dashboards/db``; returns ``{id, uid, url, status, version, slug}``."""
        body = dict(dashboard=dashboard, folderUid=folder_uid or '', message=message, overwrite=bool(overwrite))
        return self.request_json('/api/dashboards/db', method='POST', body=body)[1]

    def delete_dashboard(self, uid):
        return self.request_json('/api/dashboards/uid/%s' % uid, method='DELETE')[1]

    # --- folders --------------------------------------------------------------------------------

    def list_folders(self, parent_uid=None):
        """The folders directly under ``parent_uid`` (the root when None), following the pages."""
        folders = []
        for page in range(1, MAX_PAGES + 1):
            query = [('limit', FOLDER_PAGE_SIZE), ('page', page)]
            if parent_uid:
                query.insert(0, ('parentUid', parent_uid))
            doc = self.get_json('/api/folders', query)
            if not isinstance(doc, list):
                raise self._error('GET /api/folders did not return a list of folders', self.url_for('/api/folders'))
            folders.extend(doc)
            if len(doc) < FOLDER_PAGE_SIZE:
                break
        return folders

    def get_folder(self, uid):
        status, doc = self.request_json('/api/folders/%s' % uid, ok_statuses=(404,))
        return None if status == 404 else doc

    def create_folder(self, uid, title, parent_uid=None):
        """``POST /api/folders``; returns ``(status, document)``, status 409 when it exists."""
        body = dict(uid=uid, title=title)
        if parent_uid:
            body['parentUid'] = parent_uid
        return self.request_json('/api/folders', method='POST', body=body, ok_statuses=(409,))

    # --- data sources ---------------------------------------------------------------------------

    def plugin_installed(self, plugin_id):
        """Whether ``GET /api/plugins/<id>/settings`` finds the plugin (404: "Plugin not found, no
        installed plugin with that id", grafana/grafana pkg/api/plugins.go GetPluginSettingByID)."""
        status, dummy = self.request_json('/api/plugins/%s/settings' % plugin_id, ok_statuses=(404,))
        return status != 404

    def datasources(self):
        doc = self.get_json('/api/datasources')
        if not isinstance(doc, list):
            raise self._error('GET /api/datasources did not return a list', self.url_for('/api/datasources'))
        return doc

    def datasource_health(self, uid):
        """``(HTTP status, document)`` of ``GET /api/datasources/uid/<uid>/health``.

        Grafana answers 200 ``{"status": "OK"}`` when healthy and 400 ``{"status": "ERROR"}``
        when the check failed; 404, 500 and 501 when the plugin has no backend health check.
        """
        status, answer, content_type = self.request('/api/datasources/uid/%s/health' % uid, ok_statuses=(400, 404, 500, 501))
        doc = self.decode_error_document(answer)
        if status == 200 and not isinstance(doc, dict):
            doc = self.decode_json('GET', self.url_for('/api/datasources/uid/%s/health' % uid), status, answer, content_type)
        return status, doc if isinstance(doc, dict) else {}
