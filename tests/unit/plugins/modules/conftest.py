# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Fixtures of the module unit tests: each test file names the module it tests in ``MODULE``."""

from __future__ import annotations

import pytest

from ansible_collections.ilp.observability.plugins.module_utils import http_api
from ansible_collections.ilp.observability.tests.unit.plugins import fakes


@pytest.fixture
def clock(request, monkeypatch):
    """A FakeClock in place of the ``time`` module of the shared check loop (http_api.run_check)."""
    return fakes.install_clock(monkeypatch, http_api)


@pytest.fixture
def run(request, monkeypatch, clock):
    """run(args, answers) -> (outcome, result, open_url stand-in); outcome is 'exit' or 'fail'."""
    return fakes.module_runner(monkeypatch, request.module.MODULE)
