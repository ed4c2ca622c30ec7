# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Small read-only client for the Prometheus HTTP API, shared by the validation modules.

Only ``ansible.module_utils.urls`` is used for HTTP, so the modules run wherever Ansible runs.
Every error is raised as :class:`PrometheusAPIError` with a message that names the method, the
URL (without credentials), the HTTP status and a short body snippet, and never contains the
password or the bearer token.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
from urllib.parse import urlencode, urlsplit, urlunsplit

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

HTTP_AGENT = 'ilp.observability-prometheus-api'
BODY_SNIPPET_CHARS = 300
REDACTED = '********'


def prometheus_argument_spec():
    """Return a fresh copy of the connection options shared by every Prometheus module."""
    return dict(
        url=dict(type='str', required=True),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        client_cert=dict(type='path'),
        client_key=dict(type='path'),
        url_username=dict(type='str', aliases=['username']),
        url_password=dict(type='str', no_log=True, aliases=['password']),
        force_basic_auth=dict(type='bool', default=True),
        bearer_token=dict(type='str', no_log=True),
        request_timeout=dict(type='float', default=10.0),
        use_proxy=dict(type='bool', default=True),
    )


# Keyword arguments for AnsibleModule() that go with prometheus_argument_spec().
PROMETHEUS_MUTUALLY_EXCLUSIVE = [('bearer_token', 'url_username'), ('bearer_token', 'url_password')]
PROMETHEUS_REQUIRED_TOGETHER = [('url_username', 'url_password')]


def prometheus_module_kwargs(argument_spec=None):
    """AnsibleModule keyword arguments: the shared options plus ``argument_spec`` of the module."""
    spec = prometheus_argument_spec()
    spec.update(argument_spec or {})
    return dict(
        argument_spec=spec,
        mutually_exclusive=list(PROMETHEUS_MUTUALLY_EXCLUSIVE),
        required_together=list(PROMETHEUS_REQUIRED_TOGETHER),
    )


class PrometheusAPIError(Exception):
    """A request to the Prometheus API failed; ``str(error)`` is safe to show to the user."""

    def __init__(self, msg, url=None, status=None, body=None, retryable=False):
        super(PrometheusAPIError, self).__init__(msg)
        self.msg = msg
        self.url = url
        self.status = status
        self.body = body
        # True for failures that may go away on their own (connection refused, timeouts,
        # HTTP 5xx such as the 503 Prometheus answers while it starts): callers that wait retry.
        self.retryable = retryable

    def to_result(self):
        """Extra keys for fail_json()."""
        result = dict(url=self.url)
        if self.status is not None:
            result['status'] = self.status
        return result


def strip_userinfo(url):
    """Return ``url`` without ``user:password@`` in its network location."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if '@' not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit('@', 1)[1]))


def body_snippet(body, limit=BODY_SNIPPET_CHARS):
    """The start of a response body on one line, for error messages."""
    text = ' '.join(to_text(body or b'', errors='surrogate_or_replace').split())
    if len(text) > limit:
        text = text[:limit] + '...'
    return text


class PrometheusAPI(object):
    """GET JSON documents from one Prometheus server, configured by the shared options."""

    def __init__(self, params):
        self.params = params
        self.warnings = []  # API warnings from successful responses, for module.warn()
        self._secrets = [s for s in (params.get('url_password'), params.get('bearer_token')) if s]
        url = (params.get('url') or '').strip()
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise PrometheusAPIError('Invalid Prometheus url %r: %s' % (self.redact(strip_userinfo(url)), exc), url=None)
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise PrometheusAPIError(
                'Invalid Prometheus url %r: expected the base URL of the server such as http://127.0.0.1:9090'
                % self.redact(strip_userinfo(url)),
                url=self.redact(strip_userinfo(url)),
            )
        self.base_url = url.rstrip('/')

    def redact(self, text):
        """Replace every secret from the options in ``text``."""
        text = to_text(text, errors='surrogate_or_replace')
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def url_for(self, path, query=None):
        url = self.base_url + '/' + path.lstrip('/')
        if query:
            url += '?' + urlencode(query, doseq=True)
        return url

    def _headers(self):
        headers = {'Accept': 'application/json'}
        if self.params.get('bearer_token'):
            headers['Authorization'] = 'Bearer %s' % self.params['bearer_token']
        return headers

    def _error(self, msg, url, status=None, body=None, retryable=False):
        return PrometheusAPIError(self.redact(msg), url=self.redact(strip_userinfo(url)), status=status,
                                  body=self.redact(body_snippet(body)) if body is not None else None,
                                  retryable=retryable)

    def request(self, path, query=None):
        """GET ``path`` and return ``(status, body bytes, content type)``; raise on any failure."""
        p = self.params
        url = self.url_for(path, query)
        shown = strip_userinfo(url)
        timeout = p.get('request_timeout') or 10.0
        try:
            response = open_url(
                url,
                method='GET',
                headers=self._headers(),
                use_proxy=p.get('use_proxy', True),
                timeout=timeout,
                validate_certs=p.get('validate_certs', True),
                url_username=p.get('url_username'),
                url_password=p.get('url_password'),
                force_basic_auth=p.get('force_basic_auth', True),
                http_agent=HTTP_AGENT,
                client_cert=p.get('client_cert'),
                client_key=p.get('client_key'),
                ca_path=p.get('ca_path'),
                use_netrc=not p.get('bearer_token'),
            )
            body = response.read()
            status = getattr(response, 'status', None) or response.getcode()
            content_type = response.headers.get('Content-Type', '') if getattr(response, 'headers', None) else ''
        except urllib.error.HTTPError as exc:
            try:
                body = exc.read()
            except Exception:  # the error body is optional: some HTTPErrors carry no file object
                body = b''
            raise self._http_error(url, exc.code, exc.reason, body)
        except urllib.error.URLError as exc:
            raise self._error('Cannot connect to Prometheus: GET %s failed: %s' % (shown, to_text(exc.reason)), url,
                              retryable=not isinstance(exc.reason, ssl.SSLError))
        except UrlsConnectionError as exc:
            # SSLValidationError and ProxyError from ansible.module_utils.urls.
            raise self._error('Cannot connect to Prometheus: GET %s failed: %s' % (shown, to_text(exc)), url)
        except (socket.timeout, TimeoutError) as exc:
            raise self._error('Timed out after %ss waiting for Prometheus: GET %s (%s)' % (timeout, shown, to_text(exc)), url,
                              retryable=True)
        except (http.client.HTTPException, OSError) as exc:
            raise self._error('Connection to Prometheus failed: GET %s: %s: %s' % (shown, type(exc).__name__, to_text(exc)), url,
                              retryable=True)
        except ValueError as exc:
            raise self._error('Invalid Prometheus request URL %s: %s' % (shown, to_text(exc)), url)
        return status, body, content_type

    def _http_error(self, url, status, reason, body):
        shown = strip_userinfo(url)
        msg = 'GET %s failed with HTTP %s %s' % (shown, status, to_text(reason or ''))
        detail = None
        try:
            doc = json.loads(to_text(body, errors='surrogate_or_strict'))
            if isinstance(doc, dict) and doc.get('error'):
                detail = '%s: %s' % (doc.get('errorType', 'error'), doc['error'])
        except ValueError:
            pass
        if detail is None and body:
            detail = body_snippet(body)
        if detail:
            msg += ': %s' % body_snippet(detail)
        if status == 401:
            msg += ' (authentication required or rejected: check url_username/url_password or bearer_token)'
        elif status == 403:
            msg += ' (the credentials are not allowed to read this endpoint)'
        elif status == 404:
            msg += ' (is url the base URL of the Prometheus server, without /api/v1?)'
        return self._error(msg.rstrip(), url, status=status, body=body, retryable=status >= 500)

    def get_json(self, path, query=None):
        """GET ``path`` and return the decoded JSON document."""
        url = self.url_for(path, query)
        status, body, content_type = self.request(path, query)
        try:
            return json.loads(to_text(body, errors='surrogate_or_strict'))
        except (ValueError, UnicodeError) as exc:
            raise self._error(
                'GET %s returned HTTP %s with a body that is not valid JSON (%s%s): %r'
                % (strip_userinfo(url), status, to_text(exc), ', Content-Type %s' % content_type if content_type else '',
                   body_snippet(body) or '<empty>'),
                url, status=status, body=body)

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
