"""Count task executions per host for tools/bench (enabled only by the bench).

Every task result a host gets counts once, whatever its outcome: ok, changed, skipped, failed
or unreachable, fact gathering and include_tasks/include_role included (each is a round of
Ansible's own work for that host). Loop items are counted apart, they are not extra executions.
At the end of the playbook the counts go to the JSON file named by BENCH_COUNT_FILE, with the
wall time each task took (from its start to the next task's start, as profile_tasks does).
"""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_count
type: aggregate
short_description: task executions per host, for tools/bench
description:
  - Counts every task result per host (ok, changed, skipped, failed, unreachable) and writes
    them with per-task wall times to the JSON file named by the BENCH_COUNT_FILE environment
    variable when the playbook ends.
requirements:
  - enabled in callbacks_enabled, with callback_plugins pointing at tools/bench/callback_plugins
"""

STATUSES = ("ok", "changed", "skipped", "failed", "unreachable")
INCLUDE_ACTIONS = frozenset(
    prefix + name
    for name in ("include_tasks", "include_role", "include")
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
)


class CallbackModule(CallbackBase):
    """Counts results per host and per task; writes them as JSON at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_count"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hosts: dict[str, dict[str, int]] = {}
        self.tasks: list[dict] = []
        self.by_uuid: dict[str, dict] = {}
        self.current: dict | None = None
        self.started = time.monotonic()

    # Task boundaries: per-task wall time, as profile_tasks measures it.
    def _task_start(self, task, handler=False):
        now = time.monotonic()
        if self.current is not None:
            self.current["seconds"] += now - self.current.pop("_since")
        entry = self.by_uuid.get(task._uuid)
        if entry is None:
            entry = {"name": task.get_name(), "action": task.action, "handler": handler,
                     "executions": 0, "seconds": 0.0}
            self.by_uuid[task._uuid] = entry
            self.tasks.append(entry)
        entry["_since"] = now
        self.current = entry

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, handler=True)

    # Results.
    def _count(self, result, status):
        host = result._host.get_name()
        counts = self.hosts.setdefault(host, dict.fromkeys(STATUSES + ("includes", "items"), 0))
        if status == "ok" and result._result.get("changed", False):
            status = "changed"
        counts[status] += 1
        if result._task.action in INCLUDE_ACTIONS:
            counts["includes"] += 1
        entry = self.by_uuid.get(result._task._uuid)
        if entry is not None:
            entry["executions"] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "unreachable")

    def _item(self, result):
        host = result._host.get_name()
        counts = self.hosts.setdefault(host, dict.fromkeys(STATUSES + ("includes", "items"), 0))
        counts["items"] += 1

    v2_runner_item_on_ok = v2_runner_item_on_failed = v2_runner_item_on_skipped = _item

    def v2_playbook_on_stats(self, stats):
        if self.current is not None and "_since" in self.current:
            self.current["seconds"] += time.monotonic() - self.current.pop("_since")
        for entry in self.tasks:
            entry.pop("_since", None)
            entry["seconds"] = round(entry["seconds"], 3)
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        path = os.environ.get("BENCH_COUNT_FILE")
        if not path:
            return
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"hosts": self.hosts, "recap": recap, "tasks": self.tasks,
                       "seconds": round(time.monotonic() - self.started, 3)}, out, indent=1)
