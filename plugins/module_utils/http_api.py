# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Small JSON-over-HTTP client shared by every module of the collection, and what its modules share.

Only ``ansible.module_utils.urls`` is used for HTTP, so the modules run wherever Ansible runs.
Every error is raised as :class:`HTTPAPIError` (or the subclass of the product) with a message
that names the method, the URL (without credentials), the HTTP status and a short body snippet,
and never contains the password or the bearer token. The client counts the requests it sends,
so that modules can report how many HTTP calls a run took.

It also holds what the modules share around the client: their options and AnsibleModule keyword
arguments (:func:`module_kwargs`, documented by the ``http_api`` doc fragment), and the run of a
check module (:func:`run_check`): ``ok``, ``problems`` and ``http_calls`` in every result, and
one way of waiting (``wait_timeout``, ``wait_interval``).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import urllib.error
from urllib.parse import urlencode, urlsplit, urlunsplit

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import Request, make_context

BODY_SNIPPET_CHARS = 300
REDACTED = '********'


class HTTPAPIError(Exception):
    """A request to an HTTP API failed; ``str(error)`` is safe to show to the user."""

    def __init__(self, msg, url=None, status=None, body=None, retryable=False, doc=None):
        super(HTTPAPIError, self).__init__(msg)
        self.msg = msg
        self.url = url
        self.status = status
        self.body = body
        # True for failures that may go away on their own (connection refused, timeouts,
        # HTTP 5xx such as the 503 a server answers while it starts): callers that wait retry.
        self.retryable = retryable
        # The decoded JSON error document of the answer, when it had one.
        self.doc = doc

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


def open_url(url, method='GET', context=None, **kwargs):
    """``ansible.module_utils.urls.open_url`` with an SSL ``context`` made once per client.

    open_url builds a new SSL context, loading the CA certificates again, for every request
    (about a tenth of a second each); a client that sends hundreds of requests makes one with
    make_context() from the same options and passes it here.
    """
    return Request().open(method, url, context=context, **kwargs)


def connection_argument_spec():
    """The connection options every HTTP API module shares (doc fragment ``http_api``), as a fresh dict."""
    return dict(
        url=dict(type='str', required=True),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        client_cert=dict(type='path'),
        client_key=dict(type='path'),
        url_username=dict(type='str', aliases=['username']),
        url_password=dict(type='str', no_log=True, aliases=['password']),
        bearer_token=dict(type='str', no_log=True, aliases=['token']),
        force_basic_auth=dict(type='bool', default=True),
        request_timeout=dict(type='float', default=10.0),
        use_proxy=dict(type='bool', default=True),
    )


def check_argument_spec():
    """The options every check module shares (doc fragment ``http_api.check``), as a fresh dict."""
    return dict(
        wait_timeout=dict(type='int', default=0),
        wait_interval=dict(type='float', default=5.0),
        fail_on_problems=dict(type='bool', default=True),
    )


def module_kwargs(argument_spec=None, check=False, mutually_exclusive=None, required_together=None, required_one_of=None):
    """AnsibleModule keyword arguments of an HTTP API module.

    The shared connection options (:func:`connection_argument_spec`), with ``check`` those of a
    check module (:func:`check_argument_spec`), then the module's own ``argument_spec``; the
    token excludes basic authentication, whose user and password go together.
    """
    spec = connection_argument_spec()
    if check:
        spec.update(check_argument_spec())
    spec.update(argument_spec or {})
    kwargs = dict(
        argument_spec=spec,
        mutually_exclusive=[('bearer_token', 'url_username'), ('bearer_token', 'url_password')] + list(mutually_exclusive or []),
        required_together=[('url_username', 'url_password')] + list(required_together or []),
        supports_check_mode=True,
    )
    if required_one_of:
        kwargs['required_one_of'] = list(required_one_of)
    return kwargs


def problem(kind, subject, message, **extra):
    """One problem of a check module: what kind, about what, and a sentence naming both."""
    return dict(extra, kind=kind, subject=subject, message=message)


def run_check(module, check, clients):
    """Run ``check()`` until it finds no problem or ``wait_timeout`` passes, then end the module.

    ``check()`` returns ``(problems, result, warnings, summary)``: the problems found (see
    :func:`problem`), the module's own result keys, warnings to show, and the message of a run
    without problems. It is asked again every ``wait_interval`` seconds while it finds problems
    or its requests fail in a way that may go away (connection refused, timeouts, HTTP 5xx);
    other request errors (authentication, 4xx) end the module at once. The result always holds
    ``ok``, ``problems`` and ``http_calls`` (every request of ``clients``, all attempts), plus
    ``elapsed`` (seconds spent). With problems left the module fails naming each of them, or,
    with ``fail_on_problems=false``, warns and returns them; a request that still fails fails
    the module, with the error as a problem of kind ``request_failed``.
    """
    p = module.params
    wait_timeout, wait_interval = p['wait_timeout'], p['wait_interval']
    if wait_timeout < 0:
        module.fail_json(msg='wait_timeout must be 0 or more, got %s' % wait_timeout, ok=False, problems=[], http_calls=0)
    if wait_interval <= 0:
        module.fail_json(msg='wait_interval must be more than 0, got %s' % wait_interval, ok=False, problems=[], http_calls=0)

    def calls():
        return sum(client.calls for client in clients if client is not None)

    start = time.monotonic()
    deadline = start + wait_timeout
    while True:
        try:
            problems, result, warnings, summary = check()
            error = None
        except HTTPAPIError as exc:
            error = exc
        now = time.monotonic()
        if error is None and (not problems or now >= deadline):
            break
        if error is not None and (not error.retryable or now >= deadline):
            waited = ' (gave up after wait_timeout=%ss)' % wait_timeout if error.retryable and wait_timeout else ''
            failed = dict(changed=False, ok=False, http_calls=calls(), elapsed=round(now - start, 3),
                          problems=[problem('request_failed', error.url, error.msg)])
            failed.update(error.to_result())
            module.fail_json(msg=error.msg + waited, **failed)
        time.sleep(min(wait_interval, deadline - now))

    for warning in dict.fromkeys(warnings):
        module.warn(warning)
    result = dict(result, changed=False, ok=not problems, problems=problems, http_calls=calls(), elapsed=round(now - start, 3))
    if not problems:
        module.exit_json(msg=summary, **result)
    waited = ' (after waiting %ss)' % wait_timeout if wait_timeout else ''
    msg = '%s%s: %s' % (summary, waited, '; '.join(item['message'] for item in problems))
    if p['fail_on_problems']:
        module.fail_json(msg=msg, **result)
    module.warn(msg)
    module.exit_json(msg=msg, **result)


def fail_on_request_error(module, exc, **result):
    """Fail with a request error raised before any check ran (its message names no secret)."""
    result.update(changed=False, ok=False, problems=[problem('request_failed', exc.url, exc.msg)])
    result.setdefault('http_calls', 0)
    result.update(exc.to_result())
    module.fail_json(msg=exc.msg, **result)


class HTTPAPIClient(object):
    """Send JSON requests to one server, configured by the shared connection options.

    Subclasses set the product name used in messages, the name of the token option and the
    hints added to HTTP error messages.
    """

    PRODUCT = 'the server'
    HTTP_AGENT = 'ilp.observability'
    EXAMPLE_URL = 'http://127.0.0.1:8080'
    TOKEN_OPTION = 'bearer_token'
    error_class = HTTPAPIError

    def __init__(self, params):
        self.params = params
        self.calls = 0  # HTTP requests sent, answered or not
        self._context = None  # the SSL context of every request, made at the first one
        self.calls_by_method = {}
        token = params.get(self.TOKEN_OPTION)
        self._secrets = [s for s in (params.get('url_password'), token) if s]
        url = (params.get('url') or '').strip()
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise self.error_class('Invalid %s url %r: %s' % (self.PRODUCT, self.redact(strip_userinfo(url)), exc), url=None)
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise self.error_class(
                'Invalid %s url %r: expected the base URL of the server such as %s'
                % (self.PRODUCT, self.redact(strip_userinfo(url)), self.EXAMPLE_URL),
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

    def _headers(self, has_body=False):
        headers = {'Accept': 'application/json'}
        if has_body:
            headers['Content-Type'] = 'application/json'
        token = self.params.get(self.TOKEN_OPTION)
        if token:
            headers['Authorization'] = 'Bearer %s' % token
        return headers

    def _error(self, msg, url, status=None, body=None, retryable=False, doc=None):
        return self.error_class(self.redact(msg), url=self.redact(strip_userinfo(url)), status=status,
                                body=self.redact(body_snippet(body)) if body is not None else None,
                                retryable=retryable, doc=doc)

    def request(self, path, query=None, method='GET', body=None, ok_statuses=()):
        """Send one request and return ``(status, body bytes, content type)``; raise on any failure.

        ``body`` is sent as JSON. An HTTP error status listed in ``ok_statuses`` is returned
        like a success instead of raised.
        """
        p = self.params
        url = self.url_for(path, query)
        shown = strip_userinfo(url)
        timeout = p.get('request_timeout') or 10.0
        data = None
        if body is not None:
            data = json.dumps(body, sort_keys=True).encode('utf-8')
        self.calls += 1
        self.calls_by_method[method] = self.calls_by_method.get(method, 0) + 1
        try:
            if self._context is None:
                # What open_url would make for each request, from the same options.
                self._context = make_context(cafile=p.get('ca_path'), validate_certs=p.get('validate_certs', True),
                                             client_cert=p.get('client_cert'), client_key=p.get('client_key'))
            response = open_url(
                url,
                method=method,
                data=data,
                headers=self._headers(has_body=data is not None),
                use_proxy=p.get('use_proxy', True),
                timeout=timeout,
                validate_certs=p.get('validate_certs', True),
                url_username=p.get('url_username'),
                url_password=p.get('url_password'),
                force_basic_auth=p.get('force_basic_auth', True),
                http_agent=self.HTTP_AGENT,
                client_cert=p.get('client_cert'),
                client_key=p.get('client_key'),
                ca_path=p.get('ca_path'),
                use_netrc=not p.get(self.TOKEN_OPTION),
                follow_redirects='urllib2',
                context=self._context,
            )
            answer = response.read()
            status = getattr(response, 'status', None) or response.getcode()
            content_type = response.headers.get('Content-Type', '') if getattr(response, 'headers', None) else ''
        except urllib.error.HTTPError as exc:
            try:
                answer = exc.read()
            except Exception:  # the error body is optional: some HTTPErrors carry no file object
                answer = b''
            if exc.code in ok_statuses:
                headers = getattr(exc, 'headers', None)
                return exc.code, answer, headers.get('Content-Type', '') if headers is not None else ''
            raise self._http_error(method, url, exc.code, exc.reason, answer)
        except urllib.error.URLError as exc:
            raise self._error('Cannot connect to %s: %s %s failed: %s' % (self.PRODUCT, method, shown, to_text(exc.reason)), url,
                              retryable=not isinstance(exc.reason, ssl.SSLError))
        except UrlsConnectionError as exc:
            # SSLValidationError and ProxyError from ansible.module_utils.urls.
            raise self._error('Cannot connect to %s: %s %s failed: %s' % (self.PRODUCT, method, shown, to_text(exc)), url)
        except (socket.timeout, TimeoutError) as exc:
            raise self._error('Timed out after %ss waiting for %s: %s %s (%s)' % (timeout, self.PRODUCT, method, shown, to_text(exc)),
                              url, retryable=True)
        except (http.client.HTTPException, OSError) as exc:
            raise self._error('Connection to %s failed: %s %s: %s: %s' % (self.PRODUCT, method, shown, type(exc).__name__, to_text(exc)),
                              url, retryable=True)
        except ValueError as exc:
            raise self._error('Invalid %s request URL %s: %s' % (self.PRODUCT, shown, to_text(exc)), url)
        return status, answer, content_type

    @staticmethod
    def decode_error_document(body):
        """The JSON document of an error answer, or None."""
        try:
            return json.loads(to_text(body, errors='surrogate_or_strict'))
        except (ValueError, UnicodeError):
            return None

    def error_detail(self, doc):
        """A one-line description of the JSON error document of an answer, or None."""
        if isinstance(doc, dict):
            for key in ('error', 'message'):
                if doc.get(key):
                    return str(doc[key])
        return None

    def status_hint(self, method, status, doc):
        """A hint appended to the message of an HTTP error, or ''."""
        if status == 401:
            return ' (authentication required or rejected: check url_username/url_password or %s)' % self.TOKEN_OPTION
        if status == 403:
            return ' (the credentials are not allowed to %s this endpoint)' % ('read' if method == 'GET' else 'change')
        return ''

    def _http_error(self, method, url, status, reason, body):
        shown = strip_userinfo(url)
        msg = '%s %s failed with HTTP %s %s' % (method, shown, status, to_text(reason or ''))
        doc = self.decode_error_document(body)
        detail = self.error_detail(doc)
        if detail is None and body:
            detail = body_snippet(body)
        if detail:
            msg = msg.rstrip() + ': %s' % body_snippet(detail)
        msg = msg.rstrip() + self.status_hint(method, status, doc)
        return self._error(msg.rstrip(), url, status=status, body=body, retryable=status >= 500,
                           doc=doc if isinstance(doc, dict) else None)

    def decode_json(self, method, url, status, body, content_type):
        try:
            return json.loads(to_text(body, errors='surrogate_or_strict'))
        except (ValueError, UnicodeError) as exc:
            raise self._error(
                '%s %s returned HTTP %s with a body that is not valid JSON (%s%s): %r'
                % (method, strip_userinfo(url), status, to_text(exc), ', Content-Type %s' % content_type if content_type else '',
                   body_snippet(body) or '<empty>'),
                url, status=status, body=body)

    def get_json(self, path, query=None):
        """GET ``path`` and return the decoded JSON document."""
        return self.request_json(path, query)[1]

    def request_json(self, path, query=None, method='GET', body=None, ok_statuses=()):
        """Send one request and return ``(status, decoded JSON document)``."""
        url = self.url_for(path, query)
        status, answer, content_type = self.request(path, query, method=method, body=body, ok_statuses=ok_statuses)
        return status, self.decode_json(method, url, status, answer, content_type)
