#!/usr/bin/env python3
"""Smoke-test the release mirror: run each mirrored program in a systemd test host.

    smoke_test.py [--image ilp-observability/debian:12] [PROGRAM ...]

For each program (default: every programs.yml entry whose archive is in the mirror; a program
named here whose archive is missing is a failure), in ONE test-host container: check the
archive against its checksum file, copy it in, unpack it, write the entry's `smoke.files` into
the unpacked folder, start `smoke.run` there as a transient systemd service, and poll
`smoke.url` from inside the container until the body contains `smoke.expect`, then each of
`smoke.checks` (url and expect) the same way (60 s at most in all).
The archives of the entries in `smoke.uses` (a bundle's Node.js) are checked and unpacked the
same way first, and the bin/ folder of each goes on the service's PATH.
Prints one line per program, then `N passed, M failed`; exits non-zero if any failed.
The container is always removed.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build as mirror  # noqa: E402  (MIRROR, ARCH, fmt: the same layout build.py writes)

POLL_SECONDS = 60
BASE = "/opt/ilp-mirror-smoke"


def sh(cmd: list[str], *, stdin: str | None = None, check: bool = True,
       timeout: float | None = None) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, input=stdin, text=True, capture_output=True, timeout=timeout, check=False)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(shlex.quote, cmd))}: exit {res.returncode}: "
                           f"{(res.stderr or res.stdout).strip()[-500:]}")
    return res


class Fail(Exception):
    pass


def archive_paths(spec: dict) -> tuple[Path, Path, str]:
    # The build host's arch (the smoke test runs the archives here), as upstream names it.
    ctx = mirror.fetch.context(spec, mirror.ARCH)
    outdir = mirror.MIRROR / mirror.fmt(spec["url_path"], ctx)
    arc = spec["archive"]
    return outdir / mirror.fmt(arc["name"], ctx), outdir / mirror.fmt(arc["checksums"], ctx), \
        arc["format"]


def verify_checksum(archive: Path, checksums: Path, spec: dict) -> None:
    if not checksums.exists():
        raise Fail(f"checksum file missing: {checksums}")
    algorithm = spec["archive"].get("algorithm", "sha256")
    digest = hashlib.new(algorithm, archive.read_bytes()).hexdigest()
    # Read the way the roles read it (the collection's release_digest filter).
    expected = mirror.fetch.digest_for(checksums.read_text(), archive.name, algorithm)
    if not expected:
        raise Fail(f"{archive.name} not listed in {checksums.name}")
    if expected != digest:
        raise Fail(f"{algorithm} mismatch: {checksums.name} says {expected}, archive is {digest}")


class Host:
    def __init__(self, image: str):
        self.name = f"ilp-mirror-smoke-{os.getpid()}"
        self.image = image
        self.started = False

    def start(self) -> None:
        sh(["docker", "run", "-d", "--name", self.name, "--cap-add", "SYS_ADMIN", "--cgroupns=host",
            "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
            "--network", "ilp-observability", self.image])
        self.started = True
        deadline = time.time() + 60
        state = ""
        while time.time() < deadline:
            state = self.exec(["systemctl", "is-system-running"], check=False).stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(1)
        raise RuntimeError(f"systemd in {self.name} did not come up (state: {state or 'unknown'})")

    def exec(self, cmd: list[str], *, stdin: str | None = None, check: bool = True,
             timeout: float | None = 120) -> subprocess.CompletedProcess:
        return sh(["docker", "exec", *(["-i"] if stdin is not None else []), self.name, *cmd],
                  stdin=stdin, check=check, timeout=timeout)

    def remove(self) -> None:
        if self.started:
            subprocess.run(["docker", "rm", "-f", "-v", self.name], capture_output=True, check=False)
            self.started = False


def unit_state(host: Host, unit: str) -> str:
    return host.exec(["systemctl", "is-active", unit], check=False).stdout.strip()


def journal_tail(host: Host, unit: str, lines: int = 25) -> str:
    res = host.exec(["journalctl", "-u", unit, "-n", str(lines), "--no-pager", "-o", "cat"],
                    check=False)
    return (res.stdout or res.stderr).rstrip()


def unpack(host: Host, name: str, spec: dict, dest: str) -> str:
    """Check a program's archive, unpack it in the host below dest; return its top folder (or
    the folder holding a zip's loose files)."""
    archive, checksums, fmt = archive_paths(spec)
    if not archive.exists():
        raise Fail(f"archive missing: {archive}")
    verify_checksum(archive, checksums, spec)
    host.exec(["mkdir", "-p", f"{dest}/x"])
    sh(["docker", "cp", str(archive), f"{host.name}:{dest}/{archive.name}"])
    if fmt == "tar.gz":
        host.exec(["tar", "-xzf", f"{dest}/{archive.name}", "-C", f"{dest}/x"])
    elif fmt == "tar.xz":
        # xz-utils is not in a minimal Debian: install it as a role would.
        host.exec(["sh", "-c", "command -v xz >/dev/null || { apt-get update -qq && "
                   "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xz-utils >/dev/null; }"],
                  timeout=300)
        host.exec(["tar", "-xJf", f"{dest}/{archive.name}", "-C", f"{dest}/x"])
    elif fmt == "zip":
        host.exec(["unzip", "-q", "-o", f"{dest}/{archive.name}", "-d", f"{dest}/x"])
    else:
        raise Fail(f"unknown archive format {fmt}")
    # The unpacked top folder, or the folder holding the zip's loose file(s).
    entries = host.exec(["find", f"{dest}/x", "-mindepth", "1", "-maxdepth", "1"]).stdout.split()
    workdir = f"{dest}/x"
    if len(entries) == 1 and host.exec(["test", "-d", entries[0]], check=False).returncode == 0:
        workdir = entries[0]
    return workdir


def poll(host: Host, unit: str, url: str, expect: str, deadline: float) -> None:
    """Poll url from inside the host until its body contains expect; Fail when the unit stops or
    the deadline passes."""
    last = "no answer"
    while True:
        res = host.exec(["curl", "-fsS", "--max-time", "5", url], check=False, timeout=30)
        if res.returncode == 0 and expect in res.stdout:
            return
        last = (f"curl exit {res.returncode}: {res.stderr.strip()}" if res.returncode
                else f"{expect!r} not in body: {res.stdout.strip()[:200]!r}")
        state = unit_state(host, unit)
        if state not in ("active", "activating", "reloading"):
            raise Fail(f"unit {unit} is {state}; last check of {url}: {last}\n{journal_tail(host, unit)}")
        if time.time() >= deadline:
            raise Fail(f"no success within {POLL_SECONDS}s; last check of {url}: {last}\n"
                       f"{journal_tail(host, unit)}")
        time.sleep(1)


def smoke(host: Host, name: str, spec: dict, programs: dict) -> str:
    """Run one program's smoke test; return the url on success, raise Fail otherwise."""
    test = spec.get("smoke")
    if not test:
        raise Fail("no smoke: entry in programs.yml")
    env = []
    if test.get("uses"):
        bins = []
        for used in test["uses"]:
            if used not in programs:
                raise Fail(f"smoke.uses names an unknown program: {used}")
            bins.append(unpack(host, used, programs[used], f"{BASE}/uses/{used}") + "/bin")
        env = [f"--setenv=PATH={':'.join(bins)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    workdir = unpack(host, name, spec, f"{BASE}/{name}")
    for rel, content in (test.get("files") or {}).items():
        host.exec(["sh", "-c", f"cat > {shlex.quote(workdir + '/' + rel)}"], stdin=content)
    unit = f"smoke-{name}"
    # A short stop timeout: a program that ignores SIGTERM (a Node.js app preloading
    # OpenTelemetry's auto-instrumentations-node/register, whose SIGTERM handler only shuts the
    # SDK down) is killed after 10 s, not systemd's default 90 s.
    host.exec(["systemd-run", "--unit", unit, f"--working-directory={workdir}",
               *env, "--property=TimeoutStopSec=10", "sh", "-c", test["run"]])
    deadline = time.time() + POLL_SECONDS
    try:
        # The main check, then the entry's further checks (`smoke.checks`: url + expect each).
        for check in [{"url": test["url"], "expect": test["expect"]}, *(test.get("checks") or [])]:
            poll(host, unit, check["url"], check["expect"], deadline)
        return test["url"]
    finally:
        # Free its ports for the next program.
        host.exec(["systemctl", "stop", unit], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("programs", nargs="*", help="programs to test (default: all built ones)")
    parser.add_argument("--image", default="ilp-observability/debian:12", help="test-host image")
    args = parser.parse_args()
    programs = mirror.load_programs()
    unknown = [p for p in args.programs if p not in programs]
    if unknown:
        print(f"unknown program(s): {', '.join(unknown)}; known: {', '.join(programs)}", file=sys.stderr)
        return 2
    # Entries without a smoke test (upstream-only ones: Grafana, Loki) are never started here.
    wanted = args.programs or [n for n, s in programs.items() if s.get("smoke") and archive_paths(s)[0].exists()]
    if not wanted:
        print(f"no program archive found under {mirror.MIRROR}", file=sys.stderr)
        print("0 passed, 0 failed")
        return 1

    # SIGTERM/SIGHUP unwind like Ctrl-C, so the container is removed.
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    passed = failed = 0
    host = Host(args.image)
    try:
        host.start()
        for name in wanted:
            spec = programs[name]
            t0 = time.time()
            url = (spec.get("smoke") or {}).get("url", "-")
            try:
                smoke(host, name, spec, programs)
                print(f"PASS {name} {spec['version']} {url} {time.time() - t0:.1f}", flush=True)
                passed += 1
            except (Fail, RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"FAIL {name} {spec['version']} {url} {time.time() - t0:.1f} {exc}", flush=True)
                failed += 1
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"test host error: {exc}", file=sys.stderr)
        failed += len(wanted) - passed - failed
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        failed += len(wanted) - passed - failed
    finally:
        host.remove()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
