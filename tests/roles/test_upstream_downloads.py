"""The lifecycle's download step against a loopback double of the upstream release pages.

The double serves ONLY the files upstream publishes, at the paths and in the formats upstream's
own release scripts produce (each case cites them), written here by hand rather than from the
collection's facts: a role that asks for another path or cannot read the checksum file fails.
Runs the real `_download.yml` (get_url, the checksum file, ilp.observability.release_digest) with
ansible-playbook on localhost; it only writes into a temporary download folder."""
from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
PLAYBOOK = TOP / "tests" / "roles" / "download-release.yml"


def tarball(name: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = f"#!/bin/sh\necho {name}\n".encode()
        info = tarfile.TarInfo(f"{name}/bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Quiet(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):  # noqa: D401 - keep pytest output clean
        Quiet.requests.append(self.path)


@pytest.fixture(name="site")
def fixture_site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    Quiet.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def publish(root: Path, path: str, data: bytes | str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode() if isinstance(data, str) else data)


def download(tmp_path, mirror: str, program: str, version: str, **extra):
    downloads = tmp_path / "downloads"
    extra_vars = tmp_path / "vars.json"
    extra_vars.write_text(json.dumps(dict({
        "service_lifecycle_name": program, "service_lifecycle_version": version,
        "service_lifecycle_upstream": program, "ilp_observability_release_mirror": mirror,
        "service_lifecycle_download_dir": str(downloads)}, **extra)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([shutil.which("ansible-playbook") or "ansible-playbook", str(PLAYBOOK), "-e", f"@{extra_vars}"],
                          capture_output=True, text=True, env=env, timeout=180, check=False)
    return proc.returncode, proc.stdout + proc.stderr, downloads


def test_jaeger_2_12_comes_from_the_v1_tag_release(tmp_path, site):
    # jaegertracing/jaeger@v1.75.0 (= v2.12.0): the release workflow uploads the v2 archives to the
    # GitHub release of the v1 tag; scripts/build/package-deploy.sh writes
    # jaeger-<v2 version>.sha256sum.txt with `shasum -b -a 256` lines ("<digest> *<file>").
    root, url = site
    archive = tarball("jaeger-2.12.0-linux-amd64")
    folder = "jaegertracing/jaeger/releases/download/v1.75.0"
    publish(root, f"{folder}/jaeger-2.12.0-linux-amd64.tar.gz", archive)
    publish(root, f"{folder}/jaeger-2.12.0.sha256sum.txt",
            f"{'1' * 64} *jaeger-1.75.0-linux-amd64.tar.gz\n"
            f"{hashlib.sha256(archive).hexdigest()} *jaeger-2.12.0-linux-amd64.tar.gz\n"
            f"{'2' * 64} *jaeger-2.12.0-linux-arm64.tar.gz\n")
    rc, out, downloads = download(tmp_path, url, "jaeger", "2.12.0")
    assert rc == 0, out[-3000:]
    assert (downloads / "jaeger/2.12.0/jaeger-2.12.0-linux-amd64.tar.gz").read_bytes() == archive
    assert not [r for r in Quiet.requests if "/v2.12.0/" in r], Quiet.requests


def test_otelcol_contrib_is_verified_by_its_digest_only_sha256_file(tmp_path, site):
    # open-telemetry/opentelemetry-collector-releases: the otelcol-contrib goreleaser config has
    # `checksum: split: true` since 0.158.0, one <archive>.sha256 per archive holding the digest
    # alone; the combined opentelemetry-collector-releases_otelcol-contrib_checksums.txt is gone.
    root, url = site
    archive = tarball("otelcol-contrib")
    folder = "open-telemetry/opentelemetry-collector-releases/releases/download/v0.160.0"
    publish(root, f"{folder}/otelcol-contrib_0.160.0_linux_amd64.tar.gz", archive)
    publish(root, f"{folder}/otelcol-contrib_0.160.0_linux_amd64.tar.gz.sha256", hashlib.sha256(archive).hexdigest() + "\n")
    rc, out, downloads = download(tmp_path, url, "otelcol-contrib", "0.160.0")
    assert rc == 0, out[-3000:]
    assert (downloads / "otelcol-contrib/0.160.0/otelcol-contrib_0.160.0_linux_amd64.tar.gz").read_bytes() == archive


def test_the_victorialogs_plugin_is_verified_by_its_sha1_line_with_a_folder(tmp_path, site):
    # VictoriaMetrics/victorialogs-datasource Makefile: the release zip's checksum is written with
    # `sha1sum` from the repository root, so _checksums_zip.txt holds "<40 hex>  dist/<zip>".
    root, url = site
    archive = b"PK\x05\x06" + b"\x00" * 18  # an empty zip
    folder = "VictoriaMetrics/victorialogs-datasource/releases/download/v0.34.0"
    publish(root, f"{folder}/victoriametrics-logs-datasource-v0.34.0.zip", archive)
    publish(root, f"{folder}/victoriametrics-logs-datasource-v0.34.0_checksums_zip.txt",
            f"{hashlib.sha1(archive).hexdigest()}  dist/victoriametrics-logs-datasource-v0.34.0.zip\n")
    rc, out, downloads = download(tmp_path, url, "victorialogs-datasource", "0.34.0")
    assert rc == 0, out[-3000:]
    assert (downloads / "victorialogs-datasource/0.34.0/victoriametrics-logs-datasource-v0.34.0.zip").read_bytes() == archive


def test_a_checksum_file_that_does_not_name_the_archive_stops_with_its_lines(tmp_path, site):
    root, url = site
    folder = "prometheus/node_exporter/releases/download/v1.12.1"
    publish(root, f"{folder}/node_exporter-1.12.1.linux-amd64.tar.gz", tarball("node_exporter"))
    publish(root, f"{folder}/sha256sums.txt", f"{'3' * 64}  node_exporter-1.12.1.linux-arm64.tar.gz\n")
    rc, out, downloads = download(tmp_path, url, "node_exporter", "1.12.1")
    assert rc != 0
    assert "gives no sha256 digest for node_exporter-1.12.1.linux-amd64.tar.gz" in out, out[-3000:]
    assert "node_exporter-1.12.1.linux-arm64.tar.gz" in out  # the file's own lines are shown
    assert not (downloads / "node_exporter/1.12.1/node_exporter-1.12.1.linux-amd64.tar.gz").exists()


def test_an_archive_that_does_not_match_its_checksum_is_refused(tmp_path, site):
    # promu's sha256sums.txt: "<digest>  <archive>" lines of every archive of the release.
    root, url = site
    folder = "prometheus/node_exporter/releases/download/v1.12.1"
    publish(root, f"{folder}/node_exporter-1.12.1.linux-amd64.tar.gz", tarball("tampered"))
    publish(root, f"{folder}/sha256sums.txt",
            f"{hashlib.sha256(tarball('node_exporter')).hexdigest()}  node_exporter-1.12.1.linux-amd64.tar.gz\n")
    rc, out, downloads = download(tmp_path, url, "node_exporter", "1.12.1")
    assert rc != 0
    assert "did not match" in out, out[-3000:]
    assert not (downloads / "node_exporter/1.12.1/node_exporter-1.12.1.linux-amd64.tar.gz").exists()
