"""Tests of the release-mirror builder: role pins match the mirror, archives are packed the way
the roles (and ansible.builtin.get_url's checksum parser) expect upstream archives to be."""
from __future__ import annotations

import hashlib
import importlib.util
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from ansible.modules.get_url import parse_digest_lines

TOP = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("mirror_build", TOP / "tools/release-mirror/build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)
PROGRAMS = yaml.safe_load((TOP / "tools/release-mirror/programs.yml").read_text())


def role_default(role: str, key: str):
    """A role default, from defaults/main.yml or any file of defaults/main/."""
    base = TOP / "roles" / role / "defaults"
    for path in [base / "main.yml", *sorted((base / "main").glob("*.yml"))]:
        if path.exists():
            value = (yaml.safe_load(path.read_text()) or {}).get(key)
            if value is not None:
                return value
    return None


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_role_pins_the_mirrored_version(program):
    pinned = role_default(program, f"{program}_version")
    if pinned is None:
        pytest.skip(f"no role pins {program} yet")
    assert str(pinned) == str(PROGRAMS[program]["version"]), (
        f"roles/{program} pins {pinned} but the mirror builds {PROGRAMS[program]['version']}")


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_entry_describes_an_upstream_archive(program):
    entry = PROGRAMS[program]
    assert entry["archive"]["format"] in ("tar.gz", "zip")
    assert "{version}" in entry["url_path"]
    assert entry["packages"], "a program needs at least one main package"
    for source in entry["archive"]["files"].values():
        assert source.split(":", 1)[0] in ("bin", "module", "text")


def _fake_build(tmp_path: Path, fmt: str, top: str, checksums_format: str | None = None):
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
    if checksums_format:
        entry["archive"]["checksums_format"] = checksums_format
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


def test_hash_only_checksum_file_is_accepted_by_get_url(tmp_path):
    archive, lines = _fake_build(tmp_path, "tar.gz", "t", checksums_format="hash-only")
    assert len(lines) == 1 and len(lines[0].split()) == 1
    assert parse_digest_lines(archive.name, lines) == [(lines[0], archive.name)]


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
