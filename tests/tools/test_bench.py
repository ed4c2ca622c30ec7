"""tools/bench: the figures `make bench` prints are computed right, and its callback counts every
task result per host (fact gathering, skipped tasks, includes; loop items apart)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench", TOP / "tools/bench/bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize(("line", "loads"), [
    (" 23:13:15 up 2 min,  0 user,  load average: 2.43, 0.73, 0.26", (2.43, 0.73, 0.26)),
    ("10:01  up 3 days, 4:02, 2 users, load averages: 1.50 1.20 0.90", (1.5, 1.2, 0.9)),
    (" 09:00:00 up 1 day,  1 user,  load average: 12,05, 3,10, 0,99", (12.05, 3.1, 0.99)),
])
def test_parse_load(line, loads):
    load = bench.parse_load(line)
    assert (load["1m"], load["5m"], load["15m"]) == loads
    assert load["uptime"] == line.strip()


def test_parse_load_unreadable():
    assert bench.parse_load("no load here")["1m"] is None


def test_summarize_counts():
    counts = {"hosts": {
        "b": {"ok": 20, "changed": 0, "skipped": 10, "failed": 0, "unreachable": 0, "includes": 5, "items": 7},
        "a": {"ok": 19, "changed": 1, "skipped": 10, "failed": 1, "unreachable": 0, "includes": 5, "items": 7},
        "c": {"ok": 25, "changed": 0, "skipped": 10, "failed": 0, "unreachable": 0, "includes": 6, "items": 0},
    }}
    summary = bench.summarize_counts(counts)
    assert summary["executions_per_host"] == {"a": 31, "b": 30, "c": 35}
    assert list(summary["executions_per_host"]) == ["a", "b", "c"]
    assert (summary["executions_min"], summary["executions_max"], summary["executions_mean"]) == (30, 35, 32.0)
    assert (summary["changed"], summary["failed"], summary["skipped"], summary["hosts"]) == (1, 1, 30, 3)
    assert summary["includes_per_host"] == 6
    assert bench.executions_label(summary) == "30-35"
    assert bench.executions_label({"executions_min": 32, "executions_max": 32}) == "32"
    assert bench.executions_label(None) == "-"
    assert bench.summarize_counts({})["hosts"] == 0


def test_per_extra_host():
    assert bench.per_extra_host({3: 13.2, 10: 41.2}) == 4.0
    assert bench.per_extra_host({10: 41.2, 3: 13.2, 5: 99.0}) == 4.0  # smallest and largest count
    assert bench.per_extra_host({3: 13.2, 10: None}) is None
    assert bench.per_extra_host({3: 13.2}) is None


def run(seconds, rc=0, changed=0, low=32, high=32):
    return {"seconds": seconds, "rc": rc,
            "counts": {"executions_min": low, "executions_max": high, "changed": changed,
                       "executions_per_host": {"h": high}}}


def test_group_summary_median_of_finished_runs():
    summary = bench.group_summary([run(14.0), run(12.0, changed=1), run(13.0), run(99.0, rc=2)])
    assert (summary["median_seconds"], summary["min_seconds"], summary["max_seconds"]) == (13.0, 12.0, 14.0)
    assert (summary["runs"], summary["failed"], summary["changed"]) == (3, 1, 1)
    assert bench.group_summary([])["median_seconds"] is None


def test_format_table():
    result = {
        "settings": {"playbook": "ilp.observability.node_exporter"},
        "sizes": {"10": bench.group_summary([run(41.0), run(42.0), run(40.0)]),
                  "3": bench.group_summary([run(13.0), run(13.4), run(12.8)])},
        "seconds_per_extra_host": 4.0,
        "lab": {"skipped": "no running lab hosts"},
        "machine": {"cpus": 2, "load_start": bench.parse_load("load average: 1.00, 2.00, 3.00"),
                    "load_end": bench.parse_load("load average: 4.00, 5.00, 6.00")},
        "notes": [],
    }
    lines = bench.format_table(result).splitlines()
    assert lines[0].split() == ["measurement", "hosts", "runs", "median", "s", "min", "s", "max", "s",
                                "tasks/host", "changed"]
    assert lines[1].split() == ["no-op", "node_exporter", "3", "3", "13.0", "12.8", "13.4", "32", "0"]
    assert lines[2].split() == ["no-op", "node_exporter", "10", "3", "41.0", "40.0", "42.0", "32", "0"]
    assert lines[3] == "seconds per extra host: 4.00  ((t10 - t3) / 7)"
    assert lines[4] == "lab: skipped, no running lab hosts"
    assert lines[5] == "load 1/5/15 min: 1.00/2.00/3.00 at start, 4.00/5.00/6.00 at end (2 CPUs)"


PLAYBOOK = """
- name: Counted
  hosts: all
  gather_facts: true
  tasks:
    - name: Ok
      ansible.builtin.debug:
        msg: hi
    - name: Skipped
      ansible.builtin.debug:
        msg: never
      when: false
    - name: Changed
      ansible.builtin.command: "true"
    - name: A loop is one execution
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop: [1, 2, 3]
    - name: Include
      ansible.builtin.include_tasks: included.yml
    - name: Failed but ignored
      ansible.builtin.command: "false"
      ignore_errors: true
      changed_when: false
"""


@pytest.mark.skipif(not shutil.which("ansible-playbook"), reason="needs ansible-playbook (make venv)")
def test_callback_counts_every_result(tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "included.yml").write_text("- name: Included\n  ansible.builtin.debug:\n    msg: in\n")
    counts_file = tmp_path / "counts.json"
    env = {**os.environ, "ANSIBLE_CALLBACK_PLUGINS": str(TOP / "tools/bench/callback_plugins"),
           "ANSIBLE_CALLBACKS_ENABLED": "bench_count", "BENCH_COUNT_FILE": str(counts_file),
           "ANSIBLE_NOCOLOR": "true"}
    subprocess.run(["ansible-playbook", "-i", "one,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
                    "play.yml"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    counts = json.loads(counts_file.read_text())
    # facts, ok, changed, loop, include, included, ignored failure: 5 ok, 1 changed, 1 skipped, 1 failed
    assert counts["hosts"]["one"] == {"ok": 5, "changed": 1, "skipped": 1, "failed": 1, "unreachable": 0,
                                      "includes": 1, "items": 3}
    assert bench.summarize_counts(counts)["executions_per_host"] == {"one": 8}
    names = [t["name"] for t in counts["tasks"]]
    assert names[0] == "Gathering Facts" and "Included" in names
    assert all(t["executions"] == 1 for t in counts["tasks"])
    assert counts["recap"]["one"]["changed"] == 1


def fake_play(records):
    """A stand-in for Bench.play that returns the given records in turn and notes the calls."""
    calls = []

    def play(label, hosts, args, cwd, env_extra=None, timeout=None):
        calls.append((label, hosts, args, env_extra))
        seconds, changed = records[len(calls) - 1]
        return {"label": label, "seconds": seconds, "rc": 0, "tasks": [{"name": "t"}],
                "counts": {"executions_min": 40, "executions_max": 60, "changed": changed,
                           "executions_per_host": {"h": 60}}}
    return play, calls


@pytest.mark.parametrize(("records", "timed", "warmup"), [
    # The lab was converged by another checkout: the first run changes it and is not timed.
    ([(90.0, 12), (30.0, 0), (31.0, 0), (29.0, 0)], [30.0, 31.0, 29.0], 90.0),
    # Already converged by this checkout: the first run is a no-op and counts.
    ([(30.0, 0), (31.0, 0), (29.0, 0), (99.0, 0)], [30.0, 31.0, 29.0], None),
])
def test_lab_runs(monkeypatch, tmp_path, records, timed, warmup):
    monkeypatch.setenv("ILP_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("BENCH_RUNS", "3")
    runner = bench.Bench()
    try:
        play, calls = fake_play(records)
        monkeypatch.setattr(runner, "play", play)
        monkeypatch.setattr(runner, "lab_reason", lambda: None)
        runner.bench_lab()
    finally:
        shutil.rmtree(runner.tmp)
    lab = runner.result["lab"]
    assert [r["seconds"] for r in lab["run_records"]] == timed
    assert (lab["warmup"] or {}).get("seconds") == warmup
    assert lab["summary"]["median_seconds"] == 30.0 and lab["summary"]["changed"] == 0
    assert lab["summary"]["tasks"] == [{"name": "t"}]
    assert all("tasks" not in r for r in lab["run_records"])
    assert calls[0][2] == ["ilp.observability.site", "-i", "inventories/lab"]
    assert "ansible.posix.profile_tasks" in calls[0][3]["ANSIBLE_CALLBACKS_ENABLED"]
