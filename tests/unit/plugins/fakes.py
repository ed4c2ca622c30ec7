# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Test doubles shared by the unit tests of the module_utils and modules (Prometheus and Grafana).

Import them as ``ansible_collections.ilp.observability.tests.unit.plugins.fakes``: the collection
loader of ``ansible-test units`` resolves that name without ``__init__.py`` files.
"""

from __future__ import annotations

import io
import json
import urllib.error
from email.message import Message

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.ilp.observability.plugins.module_utils import http_api


class FakeResponse(object):
    """What open_url returns: ``body`` is sent as is when it is bytes, else as JSON."""

    def __init__(self, body, status=200, content_type='application/json'):
        self._body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.status = status
        self.headers = {'Content-Type': content_type}

    def read(self):
        return self._body

    def getcode(self):
        return self.status


def http_error(url, code, reason, body=b''):
    """The HTTPError open_url raises for an HTTP error status."""
    headers = Message()
    headers['Content-Type'] = 'text/plain; charset=utf-8'
    return urllib.error.HTTPError(url, code, reason, headers, io.BytesIO(body))


class FakeOpenUrl(object):
    """Stand-in for open_url: answers are used in turn, the last one repeats; records every call.

    An exception answer is raised, a dict or bytes answer is sent in a :class:`FakeResponse`, any
    other answer (a :class:`FakeResponse`) is returned as is.
    """

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, url, **kwargs):
        self.calls.append(dict(kwargs, url=url))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, (dict, bytes)):
            return FakeResponse(answer)
        return answer


class RoutedOpenUrl(object):
    """Stand-in for open_url that answers by method and path (without the query).

    ``routes`` maps ``(method, path)`` to an answer or to a list of answers used in turn (the
    last one repeats); answers are as for :class:`FakeOpenUrl`, and a callable answer is called
    with the call record. Unrouted requests answer HTTP 404. Every call is recorded, with the
    decoded JSON body in ``json``.
    """

    def __init__(self, base_url, routes):
        self.base_url = base_url.rstrip('/')
        self.routes = dict((k, list(v) if isinstance(v, list) else [v]) for k, v in routes.items())
        self.calls = []

    def __call__(self, url, **kwargs):
        path, dummy, query = url[len(self.base_url):].partition('?')
        data = kwargs.get('data')
        call = dict(kwargs, url=url, path=path, query=query, json=json.loads(data) if data else None)
        self.calls.append(call)
        key = (kwargs.get('method', 'GET'), path)
        if key not in self.routes:
            raise http_error(url, 404, 'Not Found', b'{"message": "Not found"}')
        answers = self.routes[key]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if callable(answer) and not isinstance(answer, BaseException):
            answer = answer(call)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, (dict, list, bytes)):
            return FakeResponse(answer)
        return answer

    def requests(self, method=None):
        """``METHOD path`` of every call, or of the calls with ``method``."""
        return ['%s %s' % (c.get('method', 'GET'), c['path']) for c in self.calls if method in (None, c.get('method', 'GET'))]


class WithPrometheus(RoutedOpenUrl):  # installed as it is by install_open_url
    """Two :class:`RoutedOpenUrl`: the checked service's (``service``) and Prometheus' (``prom``),
    for the check modules that also ask Prometheus (``prometheus_url``)."""

    def __init__(self, base_url, routes, prometheus_url, prometheus_routes=None):  # pylint: disable=super-init-not-called
        self.service = RoutedOpenUrl(base_url, routes)
        self.prom = RoutedOpenUrl(prometheus_url, prometheus_routes or {})

    def __call__(self, url, **kwargs):
        return (self.prom if url.startswith(self.prom.base_url) else self.service)(url, **kwargs)


def install_open_url(monkeypatch, *answers):
    """Replace open_url of the shared HTTP client with a :class:`FakeOpenUrl` and return it.

    A single :class:`RoutedOpenUrl` answer is installed as it is.
    """
    fake = answers[0] if len(answers) == 1 and isinstance(answers[0], RoutedOpenUrl) else FakeOpenUrl(*answers)
    monkeypatch.setattr(http_api, 'open_url', fake)
    fake.contexts = []

    def make_context(**kwargs):  # no certificate files are read in unit tests
        fake.contexts.append(kwargs)
        return 'ssl-context-%d' % len(fake.contexts)
    monkeypatch.setattr(http_api, 'make_context', make_context)
    return fake


class FakeClock(object):
    """Stand-in for the ``time`` module of a module: sleeping only moves the clock on."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def install_clock(monkeypatch, module):
    """Replace ``module.time`` with a :class:`FakeClock` and return it."""
    fake = FakeClock()
    monkeypatch.setattr(module, 'time', fake)
    return fake


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


def exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise ExitJson(kwargs)


def fail_json(self, msg, **kwargs):
    kwargs.update(failed=True, msg=msg)
    raise FailJson(kwargs)


def module_runner(monkeypatch, module):
    """run(args, answers) -> (outcome, result, open_url stand-in); outcome is 'exit' or 'fail'.

    Runs ``module.main()`` with ``args`` while open_url gives ``answers`` in turn; the warnings of
    the module are in ``result['_warnings']``.
    """
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, w: warnings.append(w))

    def runner(args, answers):
        fake = install_open_url(monkeypatch, *answers)
        outcome, result = None, None
        with patch_module_args(args):
            try:
                module.main()
            except ExitJson as e:
                outcome, result = 'exit', e.args[0]
            except FailJson as e:
                outcome, result = 'fail', e.args[0]
        assert outcome is not None, 'the module neither exited nor failed'
        result['_warnings'] = list(warnings)
        return outcome, result, fake
    return runner


def messages(result):
    """The messages of a check module's ``problems``, after checking that each has the shared shape
    (``kind``, ``subject``, ``message``) and that ``ok`` and ``http_calls`` agree with them."""
    problems = result['problems']
    for item in problems:
        assert isinstance(item, dict) and {'kind', 'subject', 'message'} <= set(item), item
        assert isinstance(item['kind'], str) and item['kind'] and isinstance(item['message'], str), item
    assert result['ok'] is (not problems)
    assert isinstance(result['http_calls'], int)
    return [item['message'] for item in problems]


def kinds(result):
    """``(kind, subject)`` of each of a check module's ``problems``."""
    messages(result)
    return [(item['kind'], item['subject']) for item in result['problems']]
