# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Small read-only client for the Prometheus HTTP API, shared by the validation modules.

It is the shared HTTP client of :mod:`http_api` (``ansible.module_utils.urls`` only) with the
Prometheus conventions: the ``bearer_token`` option, ``{"status": "success", "data": ...}``
answers and ``errorType``/``error`` error documents. Every error is raised as
:class:`PrometheusAPIError` with a message that names the method, the URL (without
credentials), the HTTP status and a short body snippet, and never contains the password or
the bearer token.
"""

from __future__ import annotations

import json

from ansible_collections.ilp.observability.plugins.module_utils.http_api import (
    HTTPAPIClient,
    HTTPAPIError,
    body_snippet,
    strip_userinfo,
)

HTTP_AGENT = 'ilp.observability-prometheus-api'


class PrometheusAPIError(HTTPAPIError):
    """A request to the Prometheus API failed; ``str(error)`` is safe to show to the user."""


class PrometheusAPI(HTTPAPIClient):
    """GET JSON documents from one Prometheus server, configured by the shared options."""

    PRODUCT = 'Prometheus'
    HTTP_AGENT = HTTP_AGENT
    EXAMPLE_URL = 'http://127.0.0.1:9090'
    error_class = PrometheusAPIError

    def __init__(self, params):
        super(PrometheusAPI, self).__init__(params)
        self.warnings = []  # API warnings from successful responses, for module.warn()

    def error_detail(self, doc):
        if isinstance(doc, dict) and doc.get('error'):
            return '%s: %s' % (doc.get('errorType', 'error'), doc['error'])
        return None

    def status_hint(self, method, status, doc):
        if status == 401:
            return ' (authentication required or rejected: check url_username/url_password or bearer_token)'
        if status == 403:
            return ' (the credentials are not allowed to read this endpoint)'
        if status == 404:
            return ' (is url the base URL of the Prometheus server, without /api/v1?)'
        return ''

    def get_data(self, path, query=None):
        """GET an ``/api/v1`` endpoint and return its ``data`` after checking ``status: success``."""
        url = self.url_for(path, query)
        doc = self.get_json(path, query)
        if not isinstance(doc, dict) or 'status' not in doc:
            raise self._error('GET %s did not return a Prometheus API response (no "status" key): %s'
                              % (strip_userinfo(url), body_snippet(json.dumps(doc))), url)
        if doc.get('status') != 'success':
            raise self._error('GET %s returned status %r: %s: %s'
                              % (strip_userinfo(url), doc.get('status'), doc.get('errorType', 'error'),
                                 doc.get('error', '<no error message>')), url)
        for warning in doc.get('warnings') or []:
            self.warnings.append('Prometheus API warning from %s: %s' % (strip_userinfo(url), warning))
        return doc.get('data')
