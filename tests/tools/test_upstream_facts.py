"""The upstream facts (roles/service_lifecycle/files/upstream.yml) are the one source: the roles'
default versions, the lifecycle's URLs, the release mirror's names and fetch.py's downloads all
agree with them; the three facts the roles once had wrong each have a case here; the docs table
is current; `make upstream-check` passes against pages laid out as upstream's and fails, naming
the miss, where a page or line is missing."""
from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "plugins" / "filter"))
import upstream_release as facts_lib  # noqa: E402

FACTS = facts_lib.load_facts()
spec = importlib.util.spec_from_file_location("mirror_build_facts", TOP / "tools/release-mirror/build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)
PROGRAMS = build.load_programs()

# program -> (role, variable of the role's defaults that pins its version)
PINS = {
    "node_exporter": ("node_exporter", "node_exporter_version"),
    "blackbox_exporter": ("blackbox_exporter", "blackbox_exporter_version"),
    "prometheus": ("prometheus", "prometheus_version"),
    "alertmanager": ("alertmanager", "alertmanager_version"),
    "jaeger": ("jaeger", "jaeger_version"),
    "otelcol-contrib": ("otel_collector", "otel_collector_version"),
    "victorialogs": ("victorialogs", "victorialogs_version"),
    "node": ("connector", "connector_node_version"),
    "grafana": ("grafana", "grafana_version"),
    "loki": ("loki", "loki_version"),
    "victorialogs-datasource": ("grafana", "grafana_victorialogs_plugin_version"),
}


def role_defaults(role: str) -> dict:
    out = {}
    base = TOP / "roles" / role / "defaults"
    for path in [base / "main.yml", *sorted((base / "main").glob("*.yml"))]:
        if path.is_file():
            out.update(yaml.safe_load(path.read_text()) or {})
    return out


def test_every_program_has_facts_with_sources():
    assert set(FACTS) == set(PINS)
    for name, fact in FACTS.items():
        assert not [k for k in facts_lib.REQUIRED if k not in fact], name
        assert fact["sources"], f"{name}: every fact cites where it was read"


@pytest.mark.parametrize("program", sorted(PINS))
def test_the_role_pins_the_facts_version(program):
    role, variable = PINS[program]
    assert str(role_defaults(role)[variable]) == str(FACTS[program]["version"])
    spec_default = yaml.safe_load((TOP / "roles" / role / "meta/argument_specs.yml").read_text())
    options = spec_default["argument_specs"]["main"]["options"]
    assert str(options[variable]["default"]) == str(FACTS[program]["version"])


@pytest.mark.parametrize("program", sorted(p for p in PINS if p != "victorialogs-datasource"))
def test_the_role_takes_its_archive_from_the_facts(program):
    role, _variable = PINS[program]
    tasks = "".join(p.read_text() for p in (TOP / "roles" / role / "tasks").glob("*.yml"))
    assert f"service_lifecycle_upstream: {program}\n" in tasks
    # No role spells a release URL or checksum file of its own (comments may name them); the
    # connector's bundle is the mirror's own, not an upstream release.
    if role == "connector":
        return
    for text in (tasks, *(p.read_text() for p in (TOP / "roles" / role / "defaults").rglob("*.yml"))):
        code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
        for fact in ("releases/download", "sha256sums.txt", "SHA256SUMS", "sha256sum.txt", "_checksums.txt", "_checksums_zip"):
            assert fact not in code, f"roles/{role} spells {fact}"


@pytest.mark.parametrize("program", sorted(PINS))
@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_mirror_and_fetch_place_each_archive_where_the_roles_look(program, arch):
    rel = facts_lib.upstream_release(program, arch=arch, mirror="http://mirror:8080")
    names = build.fetch.names(PROGRAMS[program], arch)
    assert rel["url"] == f"http://mirror:8080/{names['url_path']}/{names['archive']}"
    assert rel["checksums_url"] == f"http://mirror:8080/{names['url_path']}/{names['checksums']}"
    assert PROGRAMS[program]["archive"]["algorithm"] == rel["algorithm"]
    assert build.fetch.context(PROGRAMS[program], arch)["arch"] == rel["arch"] or not rel["arch"]


def test_programs_yml_may_not_restate_a_fact(tmp_path):
    recipes = yaml.safe_load((TOP / "tools/release-mirror/programs.yml").read_text())
    recipes["jaeger"]["url_path"] = "jaegertracing/jaeger/releases/download/v{version}"
    path = tmp_path / "programs.yml"
    path.write_text(yaml.safe_dump(recipes))
    with pytest.raises(SystemExit, match="jaeger: programs.yml sets url_path, which the upstream facts"):
        build.fetch.load_programs(path)


# --- the three facts the roles had wrong ----------------------------------------------------------

@pytest.mark.parametrize("version, tag", [("2.12.0", "v1.75.0"), ("2.13.0", "v1.76.0"), ("2.14.0", "v2.14.0")])
def test_jaeger_up_to_2_13_is_on_its_v1_tag_release(version, tag):
    rel = facts_lib.upstream_release("jaeger", version)
    assert rel["url"] == f"https://github.com/jaegertracing/jaeger/releases/download/{tag}/jaeger-{version}-linux-amd64.tar.gz"
    assert rel["checksums_url"].endswith(f"/{tag}/jaeger-{version}.sha256sum.txt")


def test_otelcol_contrib_is_checked_against_its_digest_only_sha256():
    rel = facts_lib.upstream_release("otelcol-contrib", "0.160.0", "arm64")
    assert rel["checksums"] == "otelcol-contrib_0.160.0_linux_arm64.tar.gz.sha256"
    digest = hashlib.sha256(b"x").hexdigest()
    assert facts_lib.release_digest(digest, rel["archive"]) == digest  # no name, no newline


def test_the_victorialogs_plugin_is_checked_with_sha1_and_a_dist_path():
    rel = facts_lib.upstream_release("victorialogs-datasource", "0.34.0")
    assert (rel["algorithm"], rel["top"]) == ("sha1", "victoriametrics-logs-datasource")
    line = f"{hashlib.sha1(b'zip').hexdigest()}  dist/{rel['archive']}\n"
    assert facts_lib.release_digest(line, rel["archive"], "sha1") == hashlib.sha1(b"zip").hexdigest()
    assert facts_lib.release_digest(line, rel["archive"], "sha256") == "", "a SHA-1 digest is not a SHA-256 one"


def test_grafana_takes_the_build_id_of_the_pinned_release_or_the_one_given():
    assert facts_lib.upstream_release("grafana", arch="arm64")["url"] == (
        "https://dl.grafana.com/grafana/release/13.2.3/grafana_13.2.3_36482603486_linux_arm64.tar.gz")
    rel = facts_lib.upstream_release("grafana", "13.3.0", "amd64", mirror="file:///srv/releases", values={"build_id": "1"})
    assert rel["url"] == "file:///srv/releases/grafana/release/13.3.0/grafana_13.3.0_1_linux_amd64.tar.gz"
    with pytest.raises(facts_lib.UpstreamFactsError, match=r"\{build_id\}"):
        facts_lib.upstream_release("grafana", "13.3.0")


def test_node_names_amd64_x64_and_a_releases_folder_replaces_upstreams():
    rel = facts_lib.upstream_release("node", arch="amd64", releases_url="https://nodes.example/dist/")
    assert rel["url"] == "https://nodes.example/dist/v24.21.0/node-v24.21.0-linux-x64.tar.xz"
    assert rel["top"] == "node-v24.21.0-linux-x64"
    with pytest.raises(facts_lib.UpstreamFactsError, match="publishes no s390x archive"):
        facts_lib.upstream_release("node", arch="s390x")


# --- docs and make upstream-check ------------------------------------------------------------------

def test_the_docs_table_is_rendered_from_the_facts():
    out = subprocess.run([sys.executable, str(TOP / "tools/upstream_facts.py"), "docs"], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert (TOP / "docs/upstream-releases.md").read_text() == out, "run: python3 tools/upstream_facts.py docs --write"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def publish_like_upstream(root: Path) -> None:
    """Every pinned archive for amd64 and arm64 and its checksum file, written from the facts'
    names and line formats (the facts themselves are pinned by the cases above)."""
    for name in FACTS:
        lines: dict[str, list[str]] = {}
        for arch in ("amd64", "arm64"):
            rel = facts_lib.upstream_release(name, arch=arch)
            folder = root / rel["url_path"]
            folder.mkdir(parents=True, exist_ok=True)
            data = f"{name} {arch}".encode()
            (folder / rel["archive"]).write_bytes(data)
            digest = hashlib.new(rel["algorithm"], data).hexdigest()
            lines.setdefault(str(folder / rel["checksums"]), []).append(
                facts_lib.checksum_text(rel["checksum_line"], digest, rel["archive"]))
        for path, text in lines.items():
            Path(path).write_text("\n".join(dict.fromkeys(text)) + ("" if text[0].isalnum() and len(text[0]) in (40, 64) else "\n"))


@pytest.fixture(name="site")
def fixture_site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    publish_like_upstream(root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def upstream_check(base: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOP / "tools/upstream_facts.py"), "check", "--base", base, *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_upstream_check_passes_when_every_page_is_there(site):
    _root, base = site
    proc = upstream_check(base)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "| OK |" in line]
    assert len(rows) == 2 * len(FACTS)
    assert f"{2 * len(FACTS)} of {2 * len(FACTS)} OK" in proc.stdout


def test_upstream_check_names_a_missing_archive_and_a_checksum_line_that_is_not_there(site):
    root, base = site
    jaeger = facts_lib.upstream_release("jaeger", arch="arm64")
    (root / jaeger["url_path"] / jaeger["archive"]).unlink()
    prom = facts_lib.upstream_release("prometheus", arch="amd64")
    sums = root / prom["url_path"] / prom["checksums"]
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines() if "amd64" not in line))
    proc = upstream_check(base)
    assert proc.returncode == 1
    assert f"| jaeger | 2.12.0 | arm64 | {base}/{jaeger['url_path']}/{jaeger['archive']} | archive: HTTP 404 |" in proc.stdout
    assert "sha256sums.txt gives no sha256 digest for prometheus-3.16.0.linux-amd64.tar.gz" in proc.stdout
    assert "2 failed" in proc.stdout
