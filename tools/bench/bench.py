#!/usr/bin/env python3
"""Cost per host of a no-op run: `make bench` (not part of `make test`).

Starts N systemd containers (ilp-bench-1..N, the project's test-host image on the project
network, the flags tools/lab/run.sh uses), converges a playbook on all of them from the local
release mirror (docker connection, pipelining on), then times no-op runs at each host count
(3 and 10 by default, interleaved so a change of machine load hits both alike) and prints the
median seconds, the seconds per extra host and the task executions per host. When the lab hosts
exist (tools/lab/run.sh has run), it also times a no-op site.yml against inventories/lab the way
run.sh runs it. The containers are removed at the end, also on failure or Ctrl-C, and the
whole bench stops by itself after BENCH_MAX_SECONDS.

Settings (environment):
  BENCH_COLLECTION   checkout to measure (default: this one), e.g. a `git worktree` of an older
                     commit; linked as ansible_collections/ilp/observability in a temp folder
  BENCH_SIZES        host counts to time (default "3 10")
  BENCH_RUNS         timed no-op runs per host count (default 3; the median is reported)
  BENCH_LAB          auto (default: when the ilp-lab-* hosts run) or 0 (skip the lab)
  BENCH_LAB_RUNS     timed no-op site.yml runs on the lab (default BENCH_RUNS)
  BENCH_PLAYBOOK     playbook to run (default ilp.observability.node_exporter)
  BENCH_RELEASE      Debian release of the bench hosts (default 12)
  BENCH_FORKS        ansible-playbook --forks (default: Ansible's own, 5)
  BENCH_MAX_SECONDS  time budget of the whole bench (default 900); runs that do not fit are
                     skipped and the JSON says so
  BENCH_OUTPUT       JSON result (default $ILP_CACHE_DIR/bench.json); the playbook logs go to
                     the folder next to it with the suffix .logs
  ILP_MIRROR_URL, ILP_CACHE_DIR, ILP_TEST_NETWORK, ILP_TEST_IMAGE as everywhere else.
"""
from __future__ import annotations

import datetime
import fcntl
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LAB_HOSTS = ("ilp-lab-monitoring", "ilp-lab-connector-1", "ilp-lab-connector-2")
PREFIX = "ilp-bench-"
# The venv's ansible-playbook when this runs on its python, whatever PATH says.
ANSIBLE_PLAYBOOK = next((str(p) for p in [Path(sys.executable).parent / "ansible-playbook"] if p.is_file()),
                        "ansible-playbook")


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop and clean up like Ctrl-C."""


class OutOfTime(Exception):
    """BENCH_MAX_SECONDS is spent: stop measuring, report what was measured."""


# ---------------------------------------------------------------------------------------------
# Pure helpers (tested in tests/tools/test_bench.py).

LOAD_RE = re.compile(r"load averages?:\s*([0-9]+[.,][0-9]+)[,\s]+([0-9]+[.,][0-9]+)[,\s]+([0-9]+[.,][0-9]+)")


def parse_load(uptime: str) -> dict:
    """The three load averages of an `uptime` line (either decimal mark), with the raw line."""
    match = LOAD_RE.search(uptime)
    if not match:
        return {"uptime": uptime.strip(), "1m": None, "5m": None, "15m": None}
    one, five, fifteen = (float(v.replace(",", ".")) for v in match.groups())
    return {"uptime": uptime.strip(), "1m": one, "5m": five, "15m": fifteen}


def summarize_counts(counts: dict) -> dict:
    """Per-host task executions (every result: ok, changed, skipped, failed, unreachable) from
    the bench_count callback's file, and the totals of changed and failed over all hosts."""
    hosts = counts.get("hosts", {})
    per_host = {host: sum(c.get(k, 0) for k in ("ok", "changed", "skipped", "failed", "unreachable"))
                for host, c in sorted(hosts.items())}
    values = list(per_host.values()) or [0]
    return {
        "executions_per_host": per_host,
        "executions_min": min(values),
        "executions_max": max(values),
        "executions_mean": round(sum(values) / len(values), 2) if per_host else 0,
        "includes_per_host": max((c.get("includes", 0) for c in hosts.values()), default=0),
        "changed": sum(c.get("changed", 0) for c in hosts.values()),
        "failed": sum(c.get("failed", 0) + c.get("unreachable", 0) for c in hosts.values()),
        "skipped": sum(c.get("skipped", 0) for c in hosts.values()),
        "hosts": len(per_host),
    }


def per_extra_host(medians: dict[int, float]) -> float | None:
    """Seconds each host adds: the slope between the smallest and the largest host count."""
    sizes = sorted(n for n, t in medians.items() if t is not None)
    if len(sizes) < 2:
        return None
    low, high = sizes[0], sizes[-1]
    return round((medians[high] - medians[low]) / (high - low), 2)


def executions_label(summary: dict | None) -> str:
    """`32` when every host ran as many tasks, `30-41` otherwise, `-` when nothing was counted."""
    low, high = (summary or {}).get("executions_min"), (summary or {}).get("executions_max")
    if low is None or high is None:
        return "-"
    return str(low) if low == high else f"{low}-{high}"


def group_summary(runs: list[dict]) -> dict:
    """Median, min and max seconds of the runs that finished, and their counts."""
    done = [r for r in runs if r.get("rc") == 0 and r.get("seconds") is not None]
    seconds = [r["seconds"] for r in done]
    counts = [r["counts"] for r in done if r.get("counts")]
    return {
        "runs": len(done),
        "median_seconds": round(statistics.median(seconds), 2) if seconds else None,
        "min_seconds": round(min(seconds), 2) if seconds else None,
        "max_seconds": round(max(seconds), 2) if seconds else None,
        "executions_min": min((c["executions_min"] for c in counts), default=None),
        "executions_max": max((c["executions_max"] for c in counts), default=None),
        "executions_per_host": counts[-1]["executions_per_host"] if counts else {},
        "changed": max((c["changed"] for c in counts), default=None),
        "failed": sum(1 for r in runs if r.get("rc") != 0),
    }


def format_table(result: dict) -> str:
    """The human summary: one line per measurement, then the slope and the machine's load."""
    rows = [("measurement", "hosts", "runs", "median s", "min s", "max s", "tasks/host", "changed")]

    def row(label, hosts, summary):
        def num(v):
            return "-" if v is None else f"{v:.1f}"
        tasks = executions_label(summary)
        changed = "-" if summary.get("changed") is None else str(summary["changed"])
        rows.append((label, str(hosts), str(summary.get("runs", 0)), num(summary.get("median_seconds")),
                     num(summary.get("min_seconds")), num(summary.get("max_seconds")), tasks, changed))

    name = result["settings"]["playbook"].rsplit(".", 1)[-1]
    for size, summary in sorted(result.get("sizes", {}).items(), key=lambda kv: int(kv[0])):
        row(f"no-op {name}", size, summary)
    lab = result.get("lab", {})
    if lab.get("summary"):
        row("no-op lab site.yml", len(LAB_HOSTS), lab["summary"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    slope = result.get("seconds_per_extra_host")
    sizes = sorted(int(s) for s in result.get("sizes", {}))
    if slope is not None:
        lines.append(f"seconds per extra host: {slope:.2f}  ((t{sizes[-1]} - t{sizes[0]}) / {sizes[-1] - sizes[0]})")
    if lab.get("skipped"):
        lines.append(f"lab: skipped, {lab['skipped']}")
    loads = result.get("machine", {})
    if loads.get("load_start"):
        def fmt(load):
            return "/".join("?" if load.get(k) is None else f"{load[k]:.2f}" for k in ("1m", "5m", "15m"))
        end = loads.get("load_end") or {}
        lines.append(f"load 1/5/15 min: {fmt(loads['load_start'])} at start, {fmt(end) if end else '?'} at end"
                     f" ({loads.get('cpus', '?')} CPUs)")
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The bench.

def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def load_now() -> dict:
    try:
        out = subprocess.run(["uptime"], capture_output=True, text=True, check=False,
                             env={**os.environ, "LC_ALL": "C"}).stdout
    except OSError:
        out = ""
    if not LOAD_RE.search(out):
        out = "load average: " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    load = parse_load(out)
    load["at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return load


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def running_containers() -> int:
    out = docker("ps", "-q", check=False).stdout
    return len(out.split())


def git_info(path: Path) -> dict:
    def git(*args):
        r = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, check=False)
        return r.stdout.strip() if r.returncode == 0 else None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"path": str(path), "commit": git("rev-parse", "HEAD"),
            "subject": git("log", "-1", "--format=%s"), "dirty": bool(status) if status is not None else None}


class Bench:
    def __init__(self):
        env = os.environ
        self.cache = Path(env.get("ILP_CACHE_DIR") or Path.home() / ".cache/ilp-observability")
        self.collection = Path(env.get("BENCH_COLLECTION") or TOP).resolve()
        self.sizes = sorted({int(s) for s in (env.get("BENCH_SIZES") or "3 10").split()})
        self.runs = int(env.get("BENCH_RUNS") or 3)
        self.lab_mode = env.get("BENCH_LAB") or "auto"
        self.lab_runs = int(env.get("BENCH_LAB_RUNS") or self.runs)
        self.playbook = env.get("BENCH_PLAYBOOK") or "ilp.observability.node_exporter"
        self.release = env.get("BENCH_RELEASE") or "12"
        self.forks = env.get("BENCH_FORKS") or ""
        self.budget = float(env.get("BENCH_MAX_SECONDS") or 900)
        self.output = Path(env.get("BENCH_OUTPUT") or self.cache / "bench.json")
        self.logs = self.output.with_suffix(".logs")
        self.mirror = env.get("ILP_MIRROR_URL") or "http://127.0.0.1:18080"
        self.network = env.get("ILP_TEST_NETWORK") or "ilp-observability"
        self.image = f"{env.get('ILP_TEST_IMAGE') or 'ilp-observability/debian'}:{self.release}"
        self.names = [f"{PREFIX}{i}" for i in range(1, max(self.sizes) + 1)]
        self.start = time.monotonic()
        self.deadline = self.start + self.budget
        self.tmp = Path(tempfile.mkdtemp(prefix="ilp-bench."))
        self.child: subprocess.Popen | None = None
        self.run_number = 0
        self.result: dict = {
            "version": 1,
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "collection": git_info(self.collection),
            "settings": {"playbook": self.playbook, "sizes": self.sizes, "runs": self.runs,
                         "lab": self.lab_mode, "lab_runs": self.lab_runs, "image": self.image,
                         "network": self.network, "forks": int(self.forks) if self.forks else None,
                         "mirror": self.mirror, "max_seconds": self.budget,
                         "connection": "community.docker.docker", "pipelining": True},
            "machine": {"cpus": os.cpu_count(), "load_start": load_now()},
            "sizes": {}, "lab": {}, "notes": [], "complete": False,
        }

    # -- set-up ---------------------------------------------------------------------------------
    def check(self) -> None:
        galaxy = self.collection / "galaxy.yml"
        text = galaxy.read_text() if galaxy.is_file() else ""
        if not (re.search(r"^namespace:\s*ilp\s*$", text, re.M) and re.search(r"^name:\s*observability\s*$", text, re.M)):
            raise SystemExit(f"bench: {self.collection} is not a checkout of ilp.observability (no galaxy.yml for it)")
        if self.runs < 1 or not self.sizes or min(self.sizes) < 1:
            raise SystemExit("bench: BENCH_RUNS and BENCH_SIZES must be positive")
        if docker("image", "inspect", self.image, check=False).returncode != 0:
            raise SystemExit(f"bench: no image {self.image}; run `make hosts` (tools/test-hosts/build-images.sh)")
        link = self.tmp / "collections/ansible_collections/ilp/observability"
        link.parent.mkdir(parents=True)
        link.symlink_to(self.collection)
        self.logs.mkdir(parents=True, exist_ok=True)
        for old in self.logs.glob("*.log"):
            old.unlink()

    def start_hosts(self) -> None:
        log(f"starting {len(self.names)} hosts ({self.image}): {self.names[0]}..{self.names[-1]}")
        for name in self.names:
            docker("rm", "-f", name, check=False)
            docker("run", "-d", "--name", name, "--hostname", name, "--network", self.network,
                   "--label", "ilp.bench=1",
                   "--cap-add", "SYS_ADMIN", "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                   "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", self.image)
        for name in self.names:
            for _ in range(60):
                state = docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    break
                time.sleep(1)
            else:
                raise SystemExit(f"bench: systemd in {name} did not come up (state {state or 'unknown'})")

    def remove_hosts(self) -> None:
        names = [n for n in self.names if docker("inspect", n, check=False).returncode == 0]
        if names:
            log(f"removing {len(names)} bench hosts")
            docker("rm", "-f", *names, check=False)

    def inventory(self, size: int) -> Path:
        path = self.tmp / f"hosts-{size}.yml"
        inventory = {"all": {
            "vars": {
                "ansible_connection": "community.docker.docker",
                "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_become": False,
                "ilp_observability_release_mirror": self.mirror,
                "ilp_observability_download_dir": str(self.tmp / "downloads"),
                # As the lab: node_exporter behind basic auth (the web config and a bcrypt hash).
                "node_exporter_basic_auth_users": {"prometheus": "bench-scrape-password"},
            },
            "hosts": {name: None for name in self.names[:size]},
        }}
        path.write_text(json.dumps(inventory, indent=1))  # JSON is YAML
        return path

    # -- one ansible-playbook run --------------------------------------------------------------
    def play(self, label: str, hosts: int, args: list[str], cwd: Path, env_extra: dict | None = None,
             timeout: float | None = None) -> dict:
        self.run_number += 1
        stem = f"{self.run_number:02d}-{label}"
        counts_file = self.tmp / f"{stem}.counts.json"
        log_file = self.logs / f"{stem}.log"
        env = {**os.environ,
               "ANSIBLE_COLLECTIONS_PATH": str(self.tmp / "collections"),
               "ANSIBLE_PIPELINING": "true",
               "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
               "ANSIBLE_CALLBACKS_ENABLED": "bench_count",
               "ANSIBLE_FORCE_COLOR": "false", "ANSIBLE_NOCOLOR": "true",
               "ANSIBLE_RETRY_FILES_ENABLED": "false",
               "BENCH_COUNT_FILE": str(counts_file),
               **(env_extra or {})}
        cmd = [ANSIBLE_PLAYBOOK, *args]
        if self.forks:
            cmd += ["--forks", self.forks]
        remaining = self.deadline - time.monotonic()
        if remaining < 10:
            raise OutOfTime(f"time budget (BENCH_MAX_SECONDS={self.budget:.0f}) spent before {label}")
        limit = min(timeout or remaining, remaining)
        record: dict = {"label": label, "hosts": hosts, "load_before": load_now(),
                        "containers_running_before": running_containers(), "log": str(log_file)}
        log(f"{label}: {hosts} hosts ...")
        began = time.monotonic()
        with open(log_file, "w", encoding="utf-8") as out:
            out.write(f"# cwd {cwd}\n# {' '.join(cmd)}\n")
            out.flush()
            self.child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
            try:
                rc = self.child.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                self.kill_child()
                rc = None
                record["timeout"] = True
            finally:
                self.child = None
        seconds = time.monotonic() - began
        record.update({"seconds": round(seconds, 2), "rc": rc, "load_after": load_now(),
                       "containers_running_after": running_containers()})
        if counts_file.is_file():
            raw = json.loads(counts_file.read_text())
            record["counts"] = summarize_counts(raw)
            record["tasks"] = raw.get("tasks", [])
        counts = record.get("counts") or {}
        log(f"{label}: {seconds:.1f} s, rc {rc}, tasks/host {executions_label(counts)},"
            f" changed {counts.get('changed', '?')}, load {record['load_after']['1m']}")
        if rc != 0:
            tail = log_file.read_text().splitlines()[-25:]
            log(f"{label} failed (rc {rc}), end of {log_file}:\n" + "\n".join(tail))
        return record

    def kill_child(self) -> None:
        child = self.child
        if child is not None and child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
                child.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def fits(self, expected: float) -> bool:
        return time.monotonic() + expected <= self.deadline

    # -- the measurements ----------------------------------------------------------------------
    def bench_hosts(self) -> None:
        largest = max(self.sizes)
        converge = self.play(f"converge-{largest}", largest, [self.playbook, "-i", str(self.inventory(largest))],
                             cwd=self.tmp)
        converge.pop("tasks", None)
        self.result["converge"] = converge
        if converge["rc"] != 0:
            raise SystemExit(f"bench: converging {largest} hosts failed, see {converge['log']}")
        runs: dict[int, list[dict]] = {n: [] for n in self.sizes}
        try:
            self.time_sizes(runs)
        finally:
            self.summarize_sizes(runs)

    def time_sizes(self, runs: dict[int, list[dict]]) -> None:
        """Rounds of one no-op run per host count, interleaved, within the time budget."""
        last: dict[int, float] = {}
        for round_ in range(self.runs):
            for size in self.sizes:
                # The first round always runs; later ones only when they fit in the budget.
                expected = last.get(size, 0) * 1.2
                if round_ > 0 and not self.fits(expected + self.lab_reserve()):
                    self.note(f"time budget: {size} hosts timed {len(runs[size])} times, not {self.runs}")
                    continue
                record = self.play(f"noop-{size}", size, [self.playbook, "-i", str(self.inventory(size))],
                                   cwd=self.tmp)
                record["round"] = round_ + 1
                if record.get("seconds") is not None:
                    last[size] = record["seconds"]
                runs[size].append(record)

    def summarize_sizes(self, runs: dict[int, list[dict]]) -> None:
        for size in self.sizes:
            summary = group_summary(runs[size])
            summary["tasks"] = next((r.get("tasks") for r in reversed(runs[size]) if r.get("tasks")), [])
            for record in runs[size]:
                record.pop("tasks", None)
            summary["run_records"] = runs[size]
            self.result["sizes"][str(size)] = summary
        medians = {n: self.result["sizes"][str(n)]["median_seconds"] for n in self.sizes}
        self.result["seconds_per_extra_host"] = per_extra_host(medians)

    def lab_reserve(self) -> float:
        """Seconds kept for the lab when it will be measured (about one no-op site.yml run)."""
        return 60.0 if self.lab_mode != "0" and self.lab_reason() is None else 0.0

    def lab_reason(self) -> str | None:
        """Why the lab cannot be measured now, or None."""
        if self.lab_mode == "0":
            return "BENCH_LAB=0"
        missing = [h for h in LAB_HOSTS
                   if docker("inspect", "-f", "{{.State.Running}}", h, check=False).stdout.strip() != "true"]
        if missing:
            return f"no running lab hosts ({', '.join(missing)}); tools/lab/run.sh (make lab) creates them"
        if not (self.collection / "inventories/lab/hosts.yml").is_file():
            return f"{self.collection} has no inventories/lab"
        busy = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False).stdout
        if any("ansible-playbook" in line and "inventories/lab" in line for line in busy.splitlines()):
            return "another ansible-playbook run against inventories/lab is in progress"
        return None

    def bench_lab(self) -> None:
        reason = self.lab_reason()
        if reason:
            self.result["lab"] = {"skipped": reason}
            log(f"lab: skipped, {reason}")
            return
        # As tools/lab/run.sh: the site playbook from the collection, inventories/lab, pipelining,
        # profile_tasks; the collection is the linked checkout instead of the built tarball.
        env = {"ANSIBLE_CALLBACKS_ENABLED": "bench_count,ansible.posix.profile_tasks"}
        args = ["ilp.observability.site", "-i", "inventories/lab"]
        runs: list[dict] = []
        warmup: list[dict] = []
        try:
            # The first run converges the lab to this checkout; it counts as timed when it changed nothing.
            for attempt in range(self.lab_runs + 1):
                if len(runs) >= self.lab_runs:
                    break
                expected = (runs[-1]["seconds"] if runs else 60.0) * 1.2
                if attempt > 0 and not self.fits(expected):
                    self.note(f"time budget: the lab timed {len(runs)} times, not {self.lab_runs}")
                    break
                record = self.play("lab-site", len(LAB_HOSTS), args, cwd=self.collection, env_extra=env)
                if record["rc"] != 0:
                    runs.append(record)
                    break
                if attempt == 0 and (record.get("counts") or {}).get("changed"):
                    record.pop("tasks", None)
                    warmup.append(record)
                    continue
                runs.append(record)
        finally:
            self.summarize_lab(runs, warmup)

    def summarize_lab(self, runs: list[dict], warmup: list[dict]) -> None:
        summary = group_summary(runs)
        summary["tasks"] = next((r.get("tasks") for r in reversed(runs) if r.get("tasks")), [])
        for record in runs:
            record.pop("tasks", None)
        self.result["lab"] = {"summary": summary, "run_records": runs, "warmup": warmup[0] if warmup else None}

    def note(self, text: str) -> None:
        if text not in self.result["notes"]:
            self.result["notes"].append(text)
            log(text)

    def finish(self) -> None:
        self.result["machine"]["load_end"] = load_now()
        self.result["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.result["duration_seconds"] = round(time.monotonic() - self.start, 1)
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.output.write_text(json.dumps(self.result, indent=1) + "\n")
        collection = self.result["collection"]
        print(f"\nilp.observability bench: {collection['path']} at {(collection['commit'] or '?')[:10]}"
              f"{' (uncommitted changes)' if collection.get('dirty') else ''}, {self.image},"
              f" forks {self.forks or 'default'}, {self.result['duration_seconds']:.0f} s in all")
        print(format_table(self.result))
        print(f"JSON: {self.output}  logs: {self.logs}/")

    def cleanup(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.kill_child()
        self.remove_hosts()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run(self) -> int:
        try:
            self.check()
            self.start_hosts()
            self.bench_hosts()
            self.remove_hosts()  # idle containers out of the way before the lab is timed
            self.bench_lab()
            self.result["complete"] = not self.result["notes"]
        except KeyboardInterrupt:
            self.note("interrupted")
            return_code = 130
        except OutOfTime as err:
            self.note(str(err))
            return_code = 1
        except subprocess.CalledProcessError as err:
            self.note(f"{' '.join(err.cmd[:3])} failed: {(err.stderr or '').strip()}")
            return_code = 1
        except Interrupted:
            self.note("terminated")
            return_code = 143
        except SystemExit as err:
            self.note(str(err.code))
            return_code = 1
        else:
            return_code = 0
        finally:
            self.cleanup()
        self.finish()
        bad = [s for s, summary in self.result["sizes"].items() if summary.get("changed") or summary.get("failed")]
        lab = self.result["lab"].get("summary") or {}
        if lab.get("changed") or lab.get("failed"):
            bad.append("lab")
        if return_code == 0 and bad:
            print(f"bench: runs that were not clean no-ops: {', '.join(bad)}", file=sys.stderr)
            return_code = 1
        return return_code


def main() -> int:
    def terminate(signum, _frame):
        raise Interrupted(signum)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    cache = Path(os.environ.get("ILP_CACHE_DIR") or Path.home() / ".cache/ilp-observability")
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "bench.lock", "w", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"bench: another bench is running (lock {cache / 'bench.lock'})", file=sys.stderr)
            return 1
        return Bench().run()


if __name__ == "__main__":
    sys.exit(main())
