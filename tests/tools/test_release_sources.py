"""Where the release mirror's programs come from (tools/release-mirror/fetch.py, called by build.py):
ILP_RELEASES=upstream against a loopback HTTP double of the upstream release pages (never the real
GitHub, nodejs.org or dl.grafana.com), ILP_RELEASE_DIR (a pre-seeded folder), the default build,
index.json, the missing-program lines, and what the lab and `make test` do with the index.

The double serves a folder laid out like the upstream URL paths. Its archives are copies of the
real mirror's (~/.cache/ilp-observability/mirror, only read) where that mirror has them, else
small stand-ins; Grafana's, Loki's and the plugin's are always stand-ins (a few random bytes with
an upstream-format checksum file): this project never fetches or runs AGPL code.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
MIRROR_TOOLS = TOP / "tools/release-mirror"
BUILD_PY = MIRROR_TOOLS / "build.py"
REAL_MIRROR = Path.home() / ".cache" / "ilp-observability" / "mirror"
ARCH = "amd64"


def load(name: str, path: Path):
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


build = load("mirror_build_sources", BUILD_PY)
fetch = sys.modules["fetch"]
PROGRAMS = build.load_programs()  # programs.yml completed with the upstream facts
index_env = load("mirror_index_env", MIRROR_TOOLS / "index_env.py")
optional_groups = load("lab_optional_groups", TOP / "tools/lab/optional_groups.py")


def names(program: str) -> dict:
    return fetch.names(PROGRAMS[program], ARCH)


def checksum_text(program: str, archive_name: str, digest: str) -> str:
    """A checksum file in the upstream format of the program's release."""
    # Written by hand from the upstream release scripts (not from the facts), each cited there:
    if program == "jaeger":
        return f"{'0' * 64} *jaeger-1.75.0-linux-amd64.tar.gz\n{digest} *{archive_name}\n"  # shasum -b lines
    if program in ("grafana", "otelcol-contrib"):
        return digest if program == "otelcol-contrib" else f"{digest}\n"  # <archive>.sha256, the digest alone
    if program == "victorialogs-datasource":
        return f"{digest}  dist/{archive_name}\n"  # sha1sum dist/<zip>
    # sha256sum lines, with other assets of the release around it, as release-wide files have.
    return f"{'0' * 64}  other-asset.tar.gz\n{digest}  {archive_name}\n{'1' * 64}  another.zip\n"


def seed(folder: Path, programs: list[str]) -> dict:
    """Lay out archives and checksum files like the upstream pages under folder: copies of the
    real mirror's files when it has them (never AGPL ones: it has none), else stand-ins. Returns
    each program's archive digest."""
    digests = {}
    for program in programs:
        parts = names(program)
        dest = folder / parts["url_path"]
        dest.mkdir(parents=True, exist_ok=True)
        real = REAL_MIRROR / parts["url_path"]
        if (real / parts["archive"]).is_file() and (real / parts["checksums"]).is_file():
            shutil.copyfile(real / parts["archive"], dest / parts["archive"])
            shutil.copyfile(real / parts["checksums"], dest / parts["checksums"])
        else:
            (dest / parts["archive"]).write_bytes(f"stand-in archive of {program}\n".encode() + os.urandom(64))
            algorithm = PROGRAMS[program]["archive"]["algorithm"]
            digest = hashlib.new(algorithm, (dest / parts["archive"]).read_bytes()).hexdigest()
            (dest / parts["checksums"]).write_text(checksum_text(program, parts["archive"], digest))
        digests[program] = hashlib.sha256((dest / parts["archive"]).read_bytes()).hexdigest()
    return digests


class Double:
    """A loopback HTTP server of a folder, recording the paths asked for."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: list[str] = []
        requests = self.requests

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):  # pylint: disable=arguments-differ
                requests.append(self.path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def double(tmp_path):
    server = Double(tmp_path / "upstream")
    yield server
    server.close()


def run_build(cache: Path, programs: list[str], **env) -> subprocess.CompletedProcess:
    """build.py as make runs it, with a cache of its own under tmp_path (never the real one)."""
    full = {k: v for k, v in os.environ.items() if k not in ("ILP_RELEASES", "ILP_RELEASE_DIR",
                                                             "ILP_RELEASES_UPSTREAM_BASE")}
    full.update(ILP_CACHE_DIR=str(cache), **env)
    return subprocess.run([sys.executable, str(BUILD_PY), *programs], env=full, capture_output=True,
                          text=True, timeout=300, check=False)


def mirror_files(cache: Path) -> list[str]:
    root = cache / "mirror"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


UPSTREAM = ["node_exporter", "victorialogs", "node", "grafana", "loki", "victorialogs-datasource"]


def test_upstream_mode_fills_the_mirror_from_the_upstream_pages(tmp_path, double):
    digests = seed(double.root, UPSTREAM)
    cache = tmp_path / "cache"
    res = run_build(cache, UPSTREAM, ILP_RELEASES="upstream", ILP_RELEASES_UPSTREAM_BASE=double.url)
    assert res.returncode == 0, res.stderr
    assert "missing" not in res.stdout
    # Each archive and its checksum file, from its upstream URL path; nothing else.
    wanted = sorted(f"/{names(p)['url_path']}/{names(p)[kind]}" for p in UPSTREAM for kind in ("archive", "checksums"))
    assert sorted(double.requests) == wanted
    for program in UPSTREAM:
        parts = names(program)
        placed = cache / "mirror" / parts["url_path"] / parts["archive"]
        assert hashlib.sha256(placed.read_bytes()).hexdigest() == digests[program]
        assert (placed.parent / parts["checksums"]).read_bytes() == (double.root / parts["url_path"] / parts["checksums"]).read_bytes()
        assert not list(placed.parent.glob(".built-*")), "nothing was built"
    index = json.loads((cache / "mirror" / "index.json").read_text())
    assert index["releases"] == "upstream" and index["missing"] == {}
    assert index["programs"]["grafana"] == {
        "version": "13.2.3", "source": "upstream",
        "archive": "grafana/release/13.2.3/grafana_13.2.3_36482603486_linux_amd64.tar.gz"}
    assert index["programs"]["node"]["archive"] == "dist/v24.21.0/node-v24.21.0-linux-x64.tar.xz"
    assert {p["source"] for p in index["programs"].values()} == {"upstream"}

    # A second run reuses the kept downloads while they match: no request at all.
    double.requests.clear()
    res = run_build(cache, UPSTREAM, ILP_RELEASES="upstream", ILP_RELEASES_UPSTREAM_BASE=double.url)
    assert res.returncode == 0, res.stderr
    assert double.requests == []
    assert "kept from an earlier download" in res.stderr

    # A kept download that no longer matches is fetched again.
    kept = cache / "release-downloads" / names("loki")["url_path"] / names("loki")["archive"]
    kept.write_bytes(b"damaged")
    res = run_build(cache, ["loki"], ILP_RELEASES="upstream", ILP_RELEASES_UPSTREAM_BASE=double.url)
    assert res.returncode == 0, res.stderr
    assert sorted(double.requests) == sorted(f"/{names('loki')['url_path']}/{names('loki')[k]}" for k in ("archive", "checksums"))
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == digests["loki"]


def test_upstream_archive_with_a_bad_checksum_is_refused_and_nothing_is_written(tmp_path, double):
    seed(double.root, ["node_exporter", "grafana"])
    parts = names("grafana")
    (double.root / parts["url_path"] / parts["archive"]).write_bytes(b"tampered on the way")
    cache = tmp_path / "cache"
    res = run_build(cache, ["node_exporter", "grafana"], ILP_RELEASES="upstream",
                    ILP_RELEASES_UPSTREAM_BASE=double.url)
    assert res.returncode != 0
    message = res.stderr.strip().splitlines()[-1]
    assert message.startswith(f"grafana: {parts['archive']} from {double.url}/{parts['url_path']} does not match "
                              f"its checksum file {parts['checksums']}")
    assert "refused, nothing was written to the mirror" in message
    assert not any("grafana" in f for f in mirror_files(cache)), mirror_files(cache)
    assert not (cache / "mirror" / "index.json").exists(), "no index from a failed run"
    assert not list((cache / "release-downloads").rglob("grafana_*")), "the bad download is not kept"


def test_upstream_that_does_not_answer_says_what_to_do(tmp_path):
    res = run_build(tmp_path / "cache", ["node_exporter"], ILP_RELEASES="upstream",
                    ILP_RELEASES_UPSTREAM_BASE="http://127.0.0.1:9")
    assert res.returncode != 0
    assert "could not download http://127.0.0.1:9/prometheus/node_exporter/releases/download/v1.12.1/" in res.stderr
    assert "unset it to build from the Go modules" in res.stderr
    assert mirror_files(tmp_path / "cache") == []


def test_an_unknown_releases_value_is_refused(tmp_path):
    res = run_build(tmp_path / "cache", ["node_exporter"], ILP_RELEASES="github")
    assert res.returncode != 0 and "ILP_RELEASES=github: not one of build, upstream" in res.stderr


@pytest.fixture
def fake_builds(monkeypatch, tmp_path):
    """build.main() in this process with its own cache; build.build records the programs it was
    asked to build and writes a stand-in archive with its stamp instead of compiling."""
    cache = tmp_path / "cache"
    monkeypatch.setattr(build, "CACHE", cache)
    monkeypatch.setattr(build, "MIRROR", cache / "mirror")
    for var in ("ILP_RELEASES", "ILP_RELEASE_DIR", "ILP_RELEASES_UPSTREAM_BASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(build, "PLACED", {})
    built = []

    def fake_build(name, spec, force=False, arch=ARCH):  # pylint: disable=unused-argument
        assert spec.get("source") != "upstream-only"
        fetch.Mirror(cache, arch).restore_built(name, spec)
        built.append(name if arch == ARCH else f"{name}-{arch}")
        parts = fetch.names(spec, arch)
        outdir = cache / "mirror" / parts["url_path"]
        outdir.mkdir(parents=True, exist_ok=True)
        data = f"built {name}".encode() + (b"" if arch == ARCH else f" {arch}".encode())
        (outdir / parts["archive"]).write_bytes(data)
        # As build.pack writes it: a checksum file other arches share keeps their lines.
        build.write_checksums(outdir / parts["checksums"], f"{hashlib.sha256(data).hexdigest()}  {parts['archive']}\n",
                              fetch.shared_checksum_archives(spec, arch))
        result = {"program": name, "version": str(spec["version"]), "arch": arch,
                  "archive": f"{parts['url_path']}/{parts['archive']}"}
        (outdir / f".built-{name}-{arch}").write_text(json.dumps(result))
        return result

    monkeypatch.setattr(build, "build", fake_build)

    def main(programs):
        monkeypatch.setattr(sys, "argv", ["build.py", *programs])
        return build.main()

    return cache, built, main


def test_folder_mode_takes_what_the_folder_holds_and_builds_the_rest(tmp_path, monkeypatch, capsys, fake_builds):
    cache, built, main = fake_builds
    folder = tmp_path / "releases"
    digests = seed(folder, ["node_exporter", "victorialogs", "loki"])
    monkeypatch.setenv("ILP_RELEASE_DIR", str(folder))
    assert main(["node_exporter", "prometheus", "victorialogs", "grafana", "loki"]) == 0
    assert built == ["prometheus"], "only what the folder lacks is built"
    out = capsys.readouterr().out.splitlines()
    assert out == ["release mirror: grafana 13.2.3 missing: AGPL-3.0, not built here; "
                   "set ILP_RELEASES=upstream or put its archive in ILP_RELEASE_DIR"]
    index = json.loads((cache / "mirror" / "index.json").read_text())
    assert index["release_dir"] == str(folder.resolve()) and index["releases"] == "build"
    assert {n: p["source"] for n, p in index["programs"].items()} == {
        "node_exporter": "folder", "prometheus": "built", "victorialogs": "folder", "loki": "folder"}
    assert list(index["programs"]) == ["node_exporter", "prometheus", "victorialogs", "loki"], "in the order asked"
    assert index["missing"] == {"grafana": "AGPL-3.0, not built here; set ILP_RELEASES=upstream or put its archive in ILP_RELEASE_DIR"}
    for program in ("node_exporter", "victorialogs", "loki"):
        archive = cache / "mirror" / index["programs"][program]["archive"]
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == digests[program]
    assert index["programs"]["prometheus"]["archive"] == \
        "prometheus/prometheus/releases/download/v3.16.0/prometheus-3.16.0.linux-amd64.tar.gz"


def test_folder_archive_without_or_against_its_checksum_file_is_refused(tmp_path, monkeypatch, fake_builds):
    cache, built, main = fake_builds
    folder = tmp_path / "releases"
    seed(folder, ["node_exporter"])
    parts = names("node_exporter")
    monkeypatch.setenv("ILP_RELEASE_DIR", str(folder))
    (folder / parts["url_path"] / parts["archive"]).write_bytes(b"not the release")
    with pytest.raises(SystemExit, match=r"node_exporter: node_exporter-1\.12\.1\.linux-amd64\.tar\.gz from ILP_RELEASE_DIR "
                                         r".* does not match its checksum file sha256sums\.txt .*nothing was written"):
        main(["node_exporter"])
    (folder / parts["url_path"] / parts["checksums"]).unlink()
    with pytest.raises(SystemExit, match="has no checksum file sha256sums.txt beside it in ILP_RELEASE_DIR"):
        main(["node_exporter"])
    assert mirror_files(cache) == [] and built == []


def test_default_mode_builds_as_before_and_lists_the_upstream_only_programs(capsys, fake_builds):
    cache, built, main = fake_builds
    assert main(["node_exporter", "ilp-connector", "grafana", "loki", "victorialogs-datasource"]) == 0
    assert built == ["node_exporter", "ilp-connector"]
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" missing: ")[0] for line in lines] == [
        "release mirror: grafana 13.2.3", "release mirror: loki 3.7.8", "release mirror: victorialogs-datasource 0.34.0"]
    assert all(line.endswith("set ILP_RELEASES=upstream or put its archive in ILP_RELEASE_DIR") for line in lines)
    index = json.loads((cache / "mirror" / "index.json").read_text())
    assert {n: p["source"] for n, p in index["programs"].items()} == {"node_exporter": "built", "ilp-connector": "built"}
    assert sorted(index["missing"]) == ["grafana", "loki", "victorialogs-datasource"]
    assert json.loads((cache / "mirror" / "build-report.json").read_text()).keys() == {"node_exporter", "ilp-connector"}


def test_upstream_mode_always_builds_the_connector_bundle(tmp_path, monkeypatch, fake_builds, double):
    cache, built, main = fake_builds
    seed(double.root, ["node"])
    monkeypatch.setenv("ILP_RELEASES", "upstream")
    monkeypatch.setenv("ILP_RELEASES_UPSTREAM_BASE", double.url)
    assert main(["node", "ilp-connector"]) == 0
    assert built == ["ilp-connector"]
    assert build.PLACED["node"]["source"] == "upstream", "the bundle is installed with the downloaded Node.js"
    index = json.loads((cache / "mirror" / "index.json").read_text())
    assert {n: p["source"] for n, p in index["programs"].items()} == {"node": "upstream", "ilp-connector": "built"}


def test_a_built_archive_is_kept_aside_and_comes_back_without_a_rebuild(tmp_path, monkeypatch, fake_builds):
    cache, built, main = fake_builds
    assert main(["node_exporter"]) == 0
    parts = names("node_exporter")
    here = cache / "mirror" / parts["url_path"]
    built_bytes = (here / parts["archive"]).read_bytes()
    folder = tmp_path / "releases"
    seed(folder, ["node_exporter"])
    monkeypatch.setenv("ILP_RELEASE_DIR", str(folder))
    assert main(["node_exporter"]) == 0
    aside = cache / "mirror-built" / parts["url_path"]
    assert (aside / parts["archive"]).read_bytes() == built_bytes and (aside / f".built-node_exporter-{ARCH}").exists()
    assert (here / parts["archive"]).read_bytes() == (folder / parts["url_path"] / parts["archive"]).read_bytes()
    assert (here / f".fetched-node_exporter-{ARCH}").exists() and not (here / f".built-node_exporter-{ARCH}").exists()
    monkeypatch.delenv("ILP_RELEASE_DIR")
    assert main(["node_exporter"]) == 0
    assert (here / parts["archive"]).read_bytes() == built_bytes
    assert not (here / f".fetched-node_exporter-{ARCH}").exists() and not (aside / parts["archive"]).exists()


def test_an_upstream_only_copy_kept_in_the_mirror_serves_later_default_runs(tmp_path, monkeypatch, fake_builds):
    cache, built, main = fake_builds
    folder = tmp_path / "releases"
    seed(folder, ["grafana"])
    monkeypatch.setenv("ILP_RELEASE_DIR", str(folder))
    assert main(["grafana"]) == 0
    monkeypatch.delenv("ILP_RELEASE_DIR")
    assert main(["grafana"]) == 0
    index = json.loads((cache / "mirror" / "index.json").read_text())
    assert index["programs"]["grafana"]["source"] == "folder" and index["missing"] == {} and built == []
    # Damaged: no longer trusted, missing again.
    (cache / "mirror" / index["programs"]["grafana"]["archive"]).write_bytes(b"damaged")
    assert main(["grafana"]) == 0
    assert "grafana" in json.loads((cache / "mirror" / "index.json").read_text())["missing"]


@pytest.mark.parametrize("text, digest", [
    (f"{'a' * 64}  node_exporter-1.12.1.linux-amd64.tar.gz\n{'b' * 64}  x.tar.gz\n", "a" * 64),
    (f"{'b' * 64}  x.tar.gz\n{'A' * 64} *dist/node_exporter-1.12.1.linux-amd64.tar.gz\n", "a" * 64),
    (f"SHA256 (node_exporter-1.12.1.linux-amd64.tar.gz) = {'c' * 64}\n", "c" * 64),
    (f"{'d' * 64}\n", "d" * 64),
    (f"{'d' * 64}  other.tar.gz\n{'e' * 64}  another.tar.gz\n", ""),
    ("not a checksum file\n", ""),
])
def test_digest_for_reads_the_upstream_checksum_formats(text, digest):
    assert fetch.digest_for(text, "node_exporter-1.12.1.linux-amd64.tar.gz") == digest


def test_every_entry_names_its_upstream_page_but_the_connector_bundle():
    for name, entry in PROGRAMS.items():
        if entry.get("source") == "npm-install":
            assert "upstream" not in entry, f"{name} has no upstream archive: it is always built"
        else:
            assert entry["upstream"] in ("https://github.com", "https://nodejs.org", "https://dl.grafana.com"), name


def test_upstream_only_entries_match_what_the_roles_download():
    # The mirror and the roles read the same facts: the grafana and loki roles and the
    # VictoriaLogs plugin name only the facts' program; the lifecycle builds the URL from them.
    grafana_tasks = (TOP / "roles/grafana/tasks/main.yml").read_text()
    assert "service_lifecycle_upstream: grafana" in grafana_tasks
    assert "'victorialogs-datasource' | ilp.observability.upstream_release(" in (TOP / "roles/grafana/vars/main.yml").read_text()
    assert "service_lifecycle_upstream: loki" in (TOP / "roles/loki/tasks/main.yml").read_text()
    assert names("loki") == {"url_path": "grafana/loki/releases/download/v3.7.8", "archive": "loki-linux-amd64.zip",
                             "checksums": "SHA256SUMS"}
    assert names("victorialogs-datasource")["checksums"] == "victoriametrics-logs-datasource-v0.34.0_checksums_zip.txt"
    assert PROGRAMS["victorialogs-datasource"]["archive"]["algorithm"] == "sha1"


def write_index(path: Path, programs: dict, missing: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"programs": programs, "missing": missing}))
    return path


GRAFANA = {"version": "13.2.3", "source": "upstream", "archive": "grafana/release/13.2.3/grafana_13.2.3_36482603486_linux_amd64.tar.gz"}
LOKI = {"version": "3.7.8", "source": "folder", "archive": "grafana/loki/releases/download/v3.7.8/loki-linux-amd64.zip"}
PLUGIN = {"version": "0.34.0", "source": "upstream",
          "archive": "VictoriaMetrics/victorialogs-datasource/releases/download/v0.34.0/victoriametrics-logs-datasource-v0.34.0.zip"}


def test_index_env_exports_the_archives_the_mirror_holds_unless_set(tmp_path):
    index = write_index(tmp_path / "mirror" / "index.json", {"grafana": GRAFANA, "loki": LOKI}, {})
    (tmp_path / "mirror" / GRAFANA["archive"]).parent.mkdir(parents=True)
    (tmp_path / "mirror" / GRAFANA["archive"]).write_bytes(b"x")
    (tmp_path / "mirror" / LOKI["archive"]).parent.mkdir(parents=True)
    (tmp_path / "mirror" / LOKI["archive"]).write_bytes(b"x")
    assert index_env.exports(index, {}) == [
        f"export ILP_GRAFANA_ARCHIVE={tmp_path / 'mirror' / GRAFANA['archive']}",
        f"export ILP_LOKI_ARCHIVE={tmp_path / 'mirror' / LOKI['archive']}"]
    assert index_env.exports(index, {"ILP_GRAFANA_ARCHIVE": "/mine.tar.gz"}) == [
        f"export ILP_LOKI_ARCHIVE={tmp_path / 'mirror' / LOKI['archive']}"]
    assert not index_env.exports(tmp_path / "none.json", {})


def ansible_inventory_graph(*sources: Path) -> str:
    tool = Path(sys.executable).parent / "ansible-inventory"
    if not tool.exists():
        pytest.skip("needs ansible-inventory beside this Python")
    args = [str(tool)]
    for source in sources:
        args += ["-i", str(source)]
    res = subprocess.run([*args, "--graph"], capture_output=True, text=True, check=True, cwd=TOP, timeout=120)
    return res.stdout


def run_optional_groups(index: Path, output: Path) -> list[str]:
    res = subprocess.run([sys.executable, str(TOP / "tools/lab/optional_groups.py"), str(index), str(output),
                          "ilp-lab-monitoring"], capture_output=True, text=True, check=True, timeout=60)
    return res.stdout.splitlines()


def test_lab_adds_grafana_and_loki_when_the_mirror_has_them(tmp_path):
    index = write_index(tmp_path / "index.json", {"grafana": GRAFANA, "loki": LOKI}, {})
    output = tmp_path / "build" / "lab-optional-groups.yml"
    lines = run_optional_groups(index, output)
    assert lines[0] == "lab: loki 3.7.8 on ilp-lab-monitoring (folder)"
    assert lines[1].startswith("lab: grafana 13.2.3 on ilp-lab-monitoring (upstream); admin password in ")
    graph = ansible_inventory_graph(TOP / "inventories/lab", output)
    assert "|--@grafana:\n  |  |--ilp-lab-monitoring" in graph
    assert "|--@loki:\n  |  |--ilp-lab-monitoring" in graph
    assert "|--@victorialogs:\n  |  |--ilp-lab-monitoring" in graph, "VictoriaLogs stays"
    inventory = yaml.safe_load(output.read_text())
    endpoints = inventory["all"]["vars"]["otel_collector_log_endpoints"]
    assert [e["url"] for e in endpoints] == ["http://ilp-lab-monitoring:9428/insert/opentelemetry/v1/logs",
                                             "http://ilp-lab-monitoring:3100/otlp/v1/logs"]
    assert "grafana_admin_password" not in output.read_text(), "the lab's generated password (ilp_environment: lab)"
    lint = Path(sys.executable).parent / "yamllint"
    if lint.exists():
        subprocess.run([str(lint), "--strict", str(output)], check=True, timeout=60)


def test_lab_without_grafana_and_loki_says_why(tmp_path):
    reason = "AGPL-3.0, not built here; set ILP_RELEASES=upstream or put its archive in ILP_RELEASE_DIR"
    index = write_index(tmp_path / "index.json", {}, {"grafana": reason, "loki": reason})
    output = tmp_path / "lab-optional-groups.yml"
    assert run_optional_groups(index, output) == [f"lab: loki not deployed: {reason}", f"lab: grafana not deployed: {reason}"]
    graph = ansible_inventory_graph(TOP / "inventories/lab", output)
    assert "@grafana" not in graph and "@loki" not in graph
    # Grafana without Loki needs the VictoriaLogs plugin from the mirror too.
    index = write_index(tmp_path / "index.json", {"grafana": GRAFANA}, {"loki": reason, "victorialogs-datasource": "plugin reason"})
    lines = run_optional_groups(index, output)
    assert lines[1] == ("lab: grafana not deployed: with VictoriaLogs as the log store it needs the victorialogs-datasource "
                        "plugin, which is missing: plugin reason")
    index = write_index(tmp_path / "index.json", {"grafana": GRAFANA, "victorialogs-datasource": PLUGIN}, {"loki": reason})
    run_optional_groups(index, output)
    graph = ansible_inventory_graph(TOP / "inventories/lab", output)
    assert "|--@grafana:\n  |  |--ilp-lab-monitoring" in graph and "@loki" not in graph
    assert "vars" not in yaml.safe_load(output.read_text())["all"]


def test_the_upstream_page_is_not_part_of_the_recipe_hash():
    """Adding or changing `upstream:` rebuilds nothing (a mirror built before it keeps its stamps)."""
    for name, entry in PROGRAMS.items():
        if entry.get("source") != "upstream-only":
            without = {k: v for k, v in entry.items() if k != "upstream"}
            assert build.recipe_hash(name, entry) == build.recipe_hash(name, without) == \
                build.recipe_hash(name, dict(entry, upstream="https://example.invalid")), name


def test_with_loki_the_lab_log_agents_ship_to_both_stores(tmp_path):
    """The generated file's endpoints, rendered by the otel_collector role's own template (the
    helper of tests/roles/test_otel_collector_config.py): VictoriaLogs keeps its stream header."""
    render = load("otel_collector_render", TOP / "tests/roles/test_otel_collector_config.py").render
    index = write_index(tmp_path / "index.json", {"grafana": GRAFANA, "loki": LOKI}, {})
    output = tmp_path / "lab-optional-groups.yml"
    run_optional_groups(index, output)
    generated = yaml.safe_load(output.read_text())["all"]
    inventory = {"all": {"vars": {"ilp_environment": "lab"}, "children": {
        "connectors": {"hosts": {"ilp-lab-connector-1": {"connector_node_id": "connector-1"}}},
        "victorialogs": {"hosts": {"ilp-lab-monitoring": {}}},
        **generated["children"]}}}
    # The helper loads the role's defaults as vars_files, above inventory variables: the file's
    # variables go in as extra variables here (in a real run role defaults are the lowest).
    config, _files, _output = render(tmp_path / "render", inventory, generated["vars"], target="ilp-lab-connector-1")
    exporters = config["exporters"]
    assert {name: exporter["logs_endpoint"] for name, exporter in exporters.items()} == {
        "otlp_http/ilp-lab-monitoring-victorialogs": "http://ilp-lab-monitoring:9428/insert/opentelemetry/v1/logs",
        "otlp_http/ilp-lab-monitoring-loki": "http://ilp-lab-monitoring:3100/otlp/v1/logs"}
    assert exporters["otlp_http/ilp-lab-monitoring-victorialogs"]["headers"] == {
        "VL-Stream-Fields": "service.name,host.name,deployment.environment.name,ilp.node_id"}


def test_run_sh_passes_the_optional_groups_before_its_site_run():
    text = (TOP / "tools/lab/run.sh").read_text()
    generate = 'python3 tools/lab/optional_groups.py "$cache/mirror/index.json" "$optional" ilp-lab-monitoring'
    run = 'ansible-playbook ilp.observability.site -i inventories/lab -i "$optional" "$@"'
    assert 'optional="$top/build/lab-optional-groups.yml"' in text
    assert generate in text and run in text and text.index(generate) < text.index(run)


def test_index_keeps_what_an_earlier_run_said_of_programs_not_asked_for(tmp_path):
    """`build.py prometheus` (make rules, make integration) after the lab's mirror step must not
    hide the lab's Grafana: entries of programs not asked for are carried over while their
    archive is in the mirror at the version programs.yml pins; gone archives are dropped."""
    mirror = fetch.Mirror(tmp_path, ARCH)
    grafana = names("grafana")
    loki = names("loki")
    archive = mirror.root / grafana["url_path"] / grafana["archive"]
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"grafana archive stand-in")
    version = str(PROGRAMS["grafana"]["version"])
    previous = {
        "programs": {
            "grafana": {"version": version, "source": "folder", "archive": f"{grafana['url_path']}/{grafana['archive']}"},
            "loki": {"version": str(PROGRAMS["loki"]["version"]), "source": "folder",
                     "archive": f"{loki['url_path']}/{loki['archive']}"},
        },
        "missing": {"victorialogs-datasource": "plugin reason"},
    }
    path = fetch.write_index(mirror, ["node_exporter"], PROGRAMS,
                             {"node_exporter": {"archive": "n/a", "source": "built"}}, {}, "build", None, previous)
    index = json.loads(path.read_text())
    assert set(index["programs"]) == {"node_exporter", "grafana"}
    assert index["programs"]["grafana"]["source"] == "folder"
    assert index["missing"] == {"victorialogs-datasource": "plugin reason"}
    # A program asked for again is described by this run alone.
    path = fetch.write_index(mirror, ["grafana"], PROGRAMS, {}, {"grafana": "AGPL"}, "build", None, previous)
    assert json.loads(path.read_text())["missing"] == {"grafana": "AGPL", "victorialogs-datasource": "plugin reason"}
    assert "grafana" not in json.loads(path.read_text())["programs"]


# --- architectures (ILP_MIRROR_ARCHES) --------------------------------------------------------

def seed_arches(folder: Path, programs: list[str], arches: list[str]) -> dict:
    """Stand-in archives of each arch under folder, with upstream's checksum file: a release-wide
    file (promu's sha256sums.txt, Node.js' SHASUMS256.txt) lists every arch's archive. Returns
    the digests by (program, arch)."""
    digests = {}
    for program in programs:
        lines: dict[str, list[str]] = {}
        for arch in arches:
            parts = fetch.names(PROGRAMS[program], arch)
            dest = folder / parts["url_path"]
            dest.mkdir(parents=True, exist_ok=True)
            (dest / parts["archive"]).write_bytes(f"upstream {program} {arch}\n".encode() + os.urandom(32))
            digest = hashlib.sha256((dest / parts["archive"]).read_bytes()).hexdigest()
            digests[program, arch] = digest
            lines.setdefault(parts["checksums"], []).append(f"{digest}  {parts['archive']}\n")
        for name, text in lines.items():
            (dest / name).write_text(f"{'0' * 64}  {program}-darwin-arm64.tar.gz\n" + "".join(text))
    return digests


def test_an_unknown_arch_is_refused_before_anything_is_written(tmp_path):
    res = run_build(tmp_path / "cache", ["node_exporter"], ILP_MIRROR_ARCHES="amd64,riscv64")
    assert res.returncode != 0
    assert "ILP_MIRROR_ARCHES=amd64,riscv64: 'riscv64' is not one of amd64, arm64 (unset means amd64)" in res.stderr
    assert mirror_files(tmp_path / "cache") == []


def test_both_arches_are_built_with_their_own_stamps_and_index(monkeypatch, capsys, fake_builds):
    cache, built, main = fake_builds
    monkeypatch.setenv("ILP_MIRROR_ARCHES", "amd64,arm64")
    assert main(["node_exporter", "ilp-connector", "grafana"]) == 0
    # The connector bundle (no {arch} in its names) is built once and serves both arches.
    assert built == ["node_exporter", "ilp-connector", "node_exporter-arm64"]
    here = cache / "mirror" / names("node_exporter")["url_path"]
    arm = fetch.names(PROGRAMS["node_exporter"], "arm64")["archive"]
    assert {p.name for p in here.glob(".built-*")} == {".built-node_exporter-amd64", ".built-node_exporter-arm64"}
    sums = (here / "sha256sums.txt").read_text()
    for archive in (names("node_exporter")["archive"], arm):
        assert fetch.digest_for(sums, archive) == hashlib.sha256((here / archive).read_bytes()).hexdigest()
    index = json.loads((cache / "mirror" / "index.json").read_text())
    assert set(index["programs"]) == {"node_exporter", "ilp-connector"}, "amd64, as the lab and tests read it"
    arm_index = index["by_arch"]["arm64"]
    assert arm_index["programs"]["node_exporter"]["archive"] == f"{names('node_exporter')['url_path']}/{arm}"
    assert arm_index["programs"]["ilp-connector"] == index["programs"]["ilp-connector"]
    assert set(arm_index["missing"]) == {"grafana"} and set(index["missing"]) == {"grafana"}
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" missing: ")[0] for line in lines] == [
        "release mirror: grafana 13.2.3", "release mirror: grafana 13.2.3 (arm64)"]
    report = json.loads((cache / "mirror" / "build-report.json").read_text())
    assert set(report) == {"node_exporter", "ilp-connector", "node_exporter-arm64"}
    # An amd64-only run (make test) leaves what the index says of arm64.
    monkeypatch.delenv("ILP_MIRROR_ARCHES")
    assert main(["node_exporter"]) == 0
    assert json.loads((cache / "mirror" / "index.json").read_text())["by_arch"] == index["by_arch"]


def test_a_cgo_recipe_is_missing_for_arm64_with_its_reason(monkeypatch, capsys, fake_builds):
    cache, built, main = fake_builds
    programs = {**PROGRAMS, "node_exporter": {**PROGRAMS["node_exporter"], "cgo": True}}
    monkeypatch.setattr(build, "load_programs", lambda: programs)
    monkeypatch.setenv("ILP_MIRROR_ARCHES", "amd64,arm64")
    assert main(["node_exporter", "victorialogs"]) == 0
    assert built == ["node_exporter", "victorialogs", "victorialogs-arm64"]
    index = json.loads((cache / "mirror" / "index.json").read_text())
    assert set(index["programs"]) == {"node_exporter", "victorialogs"} and index["missing"] == {}
    why = index["by_arch"]["arm64"]["missing"]["node_exporter"]
    assert why.startswith("needs cgo (cgo: true), which cannot be cross-compiled for arm64 here")
    assert set(index["by_arch"]["arm64"]["programs"]) == {"victorialogs"}
    assert capsys.readouterr().out.splitlines() == [f"release mirror: node_exporter 1.12.1 (arm64) missing: {why}"]


def test_upstream_mode_downloads_each_arch_and_keeps_upstreams_checksum_file(tmp_path, double):
    digests = seed_arches(double.root, ["node_exporter", "node", "victorialogs"], ["amd64", "arm64"])
    cache = tmp_path / "cache"
    res = run_build(cache, ["node_exporter", "node", "victorialogs"], ILP_RELEASES="upstream",
                    ILP_RELEASES_UPSTREAM_BASE=double.url, ILP_MIRROR_ARCHES="amd64,arm64")
    assert res.returncode == 0, res.stderr
    asked = set(double.requests)
    for program in ("node_exporter", "node", "victorialogs"):
        for arch in ("amd64", "arm64"):
            parts = fetch.names(PROGRAMS[program], arch)
            assert f"/{parts['url_path']}/{parts['archive']}" in asked
            placed = cache / "mirror" / parts["url_path"]
            assert hashlib.sha256((placed / parts["archive"]).read_bytes()).hexdigest() == digests[program, arch]
            assert fetch.digest_for((placed / parts["checksums"]).read_text(), parts["archive"]) == digests[program, arch]
            assert (placed / parts["checksums"]).read_bytes() == \
                (double.root / parts["url_path"] / parts["checksums"]).read_bytes(), "upstream's file as it is"
    index = json.loads((cache / "mirror" / "index.json").read_text())
    assert index["by_arch"]["arm64"]["programs"]["node"]["archive"] == "dist/v24.21.0/node-v24.21.0-linux-arm64.tar.xz"
    assert index["programs"]["node"]["archive"] == "dist/v24.21.0/node-v24.21.0-linux-x64.tar.xz"


def test_a_folder_arch_beside_a_built_arch_keeps_both_lines(tmp_path, monkeypatch, fake_builds):
    cache, built, main = fake_builds
    monkeypatch.setenv("ILP_MIRROR_ARCHES", "amd64,arm64")
    assert main(["node_exporter"]) == 0
    here = cache / "mirror" / names("node_exporter")["url_path"]
    amd, arm = (fetch.names(PROGRAMS["node_exporter"], a)["archive"] for a in ("amd64", "arm64"))
    built_amd, built_arm = (hashlib.sha256((here / a).read_bytes()).hexdigest() for a in (amd, arm))
    # The folder holds upstream's arm64 archive only (its sha256sums.txt lists both of upstream's).
    folder = tmp_path / "releases"
    digests = seed_arches(folder, ["node_exporter"], ["amd64", "arm64"])
    (folder / names("node_exporter")["url_path"] / amd).unlink()
    monkeypatch.setenv("ILP_RELEASE_DIR", str(folder))
    assert main(["node_exporter"]) == 0
    sums = (here / "sha256sums.txt").read_text()
    assert fetch.digest_for(sums, amd) == built_amd, "the built amd64 archive keeps its line"
    assert fetch.digest_for(sums, arm) == digests["node_exporter", "arm64"] != built_arm
    assert hashlib.sha256((here / arm).read_bytes()).hexdigest() == digests["node_exporter", "arm64"]
    # Back to building: the arm64 build set aside comes back, both lines are the built ones again.
    monkeypatch.delenv("ILP_RELEASE_DIR")
    assert main(["node_exporter"]) == 0
    sums = (here / "sha256sums.txt").read_text()
    assert (fetch.digest_for(sums, amd), fetch.digest_for(sums, arm)) == (built_amd, built_arm)
    assert hashlib.sha256((here / arm).read_bytes()).hexdigest() == built_arm
