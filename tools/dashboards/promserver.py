"""A throwaway Prometheus for checking dashboard queries: the release mirror's archive (the
version the prometheus role pins), unpacked into a temporary folder and started on 127.0.0.1
with an empty TSDB of its own. Used by tests/tools/test_dashboards.py and record_fixtures.py.

    with ThrowawayPrometheus() as prom:      # raises ArchiveMissing when the archive is absent
        prom.url                             # http://127.0.0.1:<port>
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
DEFAULT_VERSION = "3.16.0"


class ArchiveMissing(RuntimeError):
    pass


def pinned_version() -> str:
    """prometheus_version of the prometheus role's defaults (as tools/ci/rules-test.sh reads it)."""
    defaults = TOP / "roles" / "prometheus" / "defaults" / "main" / "main.yml"
    if defaults.is_file():
        match = re.search(r'^prometheus_version:\s*["\']?([0-9][0-9A-Za-z.+-]*)', defaults.read_text(), re.M)
        if match:
            return match.group(1)
    return DEFAULT_VERSION


def archive_path(version: str | None = None) -> Path:
    version = version or pinned_version()
    return (CACHE / "mirror" / "prometheus" / "prometheus" / "releases" / "download" / f"v{version}"
            / f"prometheus-{version}.linux-amd64.tar.gz")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPrometheus:
    """Prometheus on 127.0.0.1 with its own empty TSDB; config is the text of prometheus.yml
    (default: no scrape jobs), rule_files are copied next to it and loaded; port: default a free one
    (pass one to put this server's own address in its config)."""

    def __init__(self, config: str | None = None, rule_files=(), version: str | None = None, extra_args=(),
                 port: int | None = None):
        self.archive = archive_path(version)
        if not self.archive.is_file():
            raise ArchiveMissing(f"Prometheus archive not in the release mirror cache: {self.archive}")
        self.config = config
        self.rule_files = [Path(p) for p in rule_files]
        self.extra_args = list(extra_args)
        self.workdir = None
        self.proc = None
        self.port = port
        self.url = None

    def _unpack(self) -> Path:
        binary = self.workdir / "prometheus"
        with tarfile.open(self.archive) as archive:
            for member in archive.getmembers():
                if member.name.endswith("/prometheus") and member.isfile():
                    with archive.extractfile(member) as src, open(binary, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    binary.chmod(0o755)
                    return binary
        raise ArchiveMissing(f"no prometheus binary in {self.archive}")

    def start(self) -> "ThrowawayPrometheus":
        self.workdir = Path(tempfile.mkdtemp(prefix="ilp-dashboards-prom-"))
        binary = self._unpack()
        rules = []
        for index, path in enumerate(self.rule_files):
            dest = self.workdir / f"rules-{index}-{path.name}"
            shutil.copyfile(path, dest)
            rules.append(dest.name)
        config = self.config
        if config is None:
            config = "global:\n  scrape_interval: 15s\n"
        if rules:
            config += "rule_files:\n" + "".join(f"  - {name}\n" for name in rules)
        (self.workdir / "prometheus.yml").write_text(config)
        self.port = self.port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(self.workdir / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [str(binary), "--config.file=prometheus.yml", f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn", *self.extra_args],
            cwd=str(self.workdir), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Prometheus exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("Prometheus not ready within 60s")

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "prometheus.log"
        if not path.is_file():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> "ThrowawayPrometheus":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
