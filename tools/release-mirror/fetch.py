"""Where each program of the release mirror comes from, chosen before anything is built.

build.py calls select_sources() with the programs it was asked for. Three sources:

- ``folder``: ILP_RELEASE_DIR names a pre-seeded folder laid out like the upstream URL paths
  (what ``wget -x -nH <url>`` writes: ``<dir>/<url_path>/<archive>`` next to its checksum file).
  An archive found there is checked against the folder's checksum file and copied into the
  mirror.
- ``upstream``: ILP_RELEASES=upstream downloads each program's release archive and its checksum
  file from its upstream page (programs.yml ``upstream`` + ``url_path``), checks the archive
  against it and copies both into the mirror. Downloads are kept in
  $ILP_CACHE_DIR/release-downloads and reused while the archive still matches its checksum file.
- ``built``: everything else with a recipe is compiled (or packed) by build.py, as before.

Entries with ``source: upstream-only`` have no recipe (Grafana and Loki are AGPL-3.0: never
fetched, built or run here by this project's own choice); without a folder or upstream copy they
are listed as missing, with the reason. ILP_RELEASES_UPSTREAM_BASE replaces every entry's upstream
base (scheme and host): only the tests use it, to point at a loopback HTTP double of the upstream
pages.

A built archive that an upstream or folder copy replaces in the mirror is moved aside to
$ILP_CACHE_DIR/mirror-built/<url_path>/ and moved back when a later run builds the program again,
so switching sources never forces a rebuild.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import yaml

# The collection's upstream release facts and the filter that reads them: the roles and the
# mirror place and verify every archive the same way.
REPO = Path(__file__).resolve().parents[2]
FACTS_FILE = REPO / "roles" / "service_lifecycle" / "files" / "upstream.yml"
sys.path.insert(0, str(REPO / "plugins" / "filter"))
import upstream_release as facts_lib  # noqa: E402  pylint: disable=wrong-import-position

MODES = ("build", "upstream")
# What an entry of programs.yml takes from the facts, and may not say itself.
FACT_FIELDS = ("upstream", "url_path", "arch_names")
FACT_ARCHIVE_FIELDS = ("name", "top", "checksums", "checksum_line", "checksums_members", "algorithm")
# The architectures the mirror can hold (Go's GOARCH names; ILP_MIRROR_ARCHES picks among them).
# The first is the build host's and the one the lab and the tests use.
ARCHES = ("amd64", "arm64")
HOST_ARCH = ARCHES[0]


def log(msg: str) -> None:
    print(f"[release-mirror] {msg}", file=sys.stderr, flush=True)


def apply_facts(name: str, spec: dict, facts: dict) -> dict:
    """programs.yml's entry completed with its upstream facts: version, upstream page, url_path
    (the release tag filled in), upstream's names of the architectures (`arch_names`), and the
    archive's name, top folder, checksum file, algorithm and line, with `{version}` and `{arch}`
    left for names() to fill per architecture. An entry that says any of these itself is refused:
    they are facts, bumped only in the facts file."""
    said = [f for f in FACT_FIELDS if f in spec] + [f"archive.{f}" for f in FACT_ARCHIVE_FIELDS if f in spec.get("archive", {})]
    if spec.get("version") is not None and str(spec["version"]) != str(facts["version"]):
        said.append("version")
    if said:
        raise SystemExit(f"{name}: programs.yml sets {', '.join(said)}, which the upstream facts "
                         f"({FACTS_FILE.relative_to(REPO)}) give; change them there")
    version = str(facts["version"])
    fixed = {"tag": facts_lib.release_tag(facts, version), "build_id": (facts.get("build_ids") or {}).get(version, "")}

    def template(text: str) -> str:
        for key, value in fixed.items():
            text = text.replace("{" + key + "}", str(value))
        return text

    archive = template(facts["archive"])
    out = dict(spec, version=version, upstream=facts["upstream"],
               url_path=template(facts["releases"] + "/" + facts["folder"]),
               arch_names=dict(facts.get("arches") or {}))
    out["archive"] = dict(spec.get("archive", {}), name=archive, top=template(facts.get("top", "")),
                          checksums=template(facts["checksums"]).replace("{archive}", archive),
                          checksum_line=str(facts.get("checksum_line", "{digest}  {archive}")),
                          algorithm=str(facts["algorithm"]), checksums_members=bool(facts.get("checksum_members")))
    return out


def load_programs(path: Path, facts_file: Path = FACTS_FILE) -> dict:
    """The entries of programs.yml (path), each completed with its upstream facts."""
    programs = yaml.safe_load(Path(path).read_text())
    facts = yaml.safe_load(Path(facts_file).read_text())["programs"]
    return {name: (apply_facts(name, spec, facts[name]) if name in facts else spec)
            for name, spec in programs.items()}


def context(spec: dict, arch: str) -> dict:
    """The placeholders of an entry's url_path and archive names."""
    return {"version": str(spec["version"]), "arch": upstream_arch(spec, arch), "build_id": str(spec.get("build_id", "")),
            "commit": spec.get("commit", "")}


def names(spec: dict, arch: str) -> dict:
    """url_path, archive name, checksum file name (and the optional contents checksum file) of an
    entry, placeholders filled."""
    ctx = context(spec, arch)
    arc = spec["archive"]
    out = {"url_path": spec["url_path"].format(**ctx), "archive": arc["name"].format(**ctx),
           "checksums": arc["checksums"].format(**ctx)}
    if arc.get("contents_checksums"):
        out["contents_checksums"] = arc["contents_checksums"].format(**ctx)
    return out


# --- architectures (ILP_MIRROR_ARCHES) ---------------------------------------------------------

def mirror_arches(environ=None) -> list[str]:
    """ILP_MIRROR_ARCHES: a comma list of ARCHES (order kept, repeats dropped); unset or empty
    means amd64 alone. Any other name is refused."""
    raw = (os.environ if environ is None else environ).get("ILP_MIRROR_ARCHES") or ""
    arches: list[str] = []
    for part in raw.split(","):
        arch = part.strip().lower()
        if not arch:
            continue
        if arch not in ARCHES:
            raise SystemExit(f"ILP_MIRROR_ARCHES={raw}: {arch!r} is not one of {', '.join(ARCHES)} "
                             f"(unset means {HOST_ARCH})")
        if arch not in arches:
            arches.append(arch)
    return arches or [HOST_ARCH]


def upstream_arch(spec: dict, arch: str) -> str:
    """The name upstream gives arch in its file names: the entry's `arch_names` mapping (Node.js
    says x64 for amd64), else the GOARCH name itself (promu, goreleaser, Jaeger, VictoriaMetrics)."""
    return str((spec.get("arch_names") or {}).get(arch, arch))


def arch_independent(spec: dict) -> bool:
    """True when the entry's url_path, archive and checksum file names are the same for every
    arch: one archive serves all (the ILP connector bundle, the VictoriaLogs plugin's zip)."""
    return len({tuple(sorted(names(spec, arch).items())) for arch in ARCHES}) == 1


def shared_checksum_archives(spec: dict, arch: str) -> list[str]:
    """The archives of the other arches that the checksum file of arch also lists: upstream's
    release-wide files (promu's sha256sums.txt, Jaeger's jaeger-<V>.sha256sum.txt, Node.js'
    SHASUMS256.txt, Loki's SHA256SUMS) name every arch's archive, so the mirror's copy must hold
    each arch's line. Empty for a per-archive file or an arch-independent entry."""
    own = names(spec, arch)
    others = []
    for other in ARCHES:
        parts = names(spec, other)
        if other != arch and parts["checksums"] == own["checksums"] and parts["archive"] != own["archive"]:
            others.append(parts["archive"])
    return others


def line_file(line: str) -> str:
    """The file name (last path part) a checksum line names, or "" for a line without one, read
    the way the roles read checksum files (the release_digest filter's checksum_entries)."""
    entries = facts_lib.checksum_entries(line)
    return Path(entries[0][1].replace("\\", "/")).name if entries and entries[0][1] else ""


def merge_checksum_lines(base: str, other: str, from_other: set[str], sort: bool = False) -> str:
    """base's lines, except that each line naming a file of from_other is taken from other (in
    base's place, or appended when base has none; base's own line stays when other has none).
    With sort, lines are ordered by file name (promu writes sha256sums.txt in filepath.Walk's,
    lexical, order)."""
    taken: dict[str, list[str]] = {}
    for line in other.splitlines():
        name = line_file(line)
        if name in from_other:
            taken.setdefault(name, []).append(line)
    out, done = [], set()
    for line in base.splitlines():
        name = line_file(line)
        if name in from_other:
            if name not in done:
                out += taken.get(name, [line])
                done.add(name)
            elif name not in taken:
                out.append(line)
            continue
        out.append(line)
    for name in sorted(from_other - done):
        out += taken.get(name, [])
    if sort:
        out.sort(key=line_file)
    return "".join(f"{line}\n" for line in out)


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary name (a hard link to a download stays untouched)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    tmp.write_text(text)
    os.replace(tmp, path)


def digest_for(text: str, file_name: str, algorithm: str = "sha256") -> str:
    """The digest a checksum file gives for file_name, in any form upstream writes it (the
    collection's release_digest filter, which the roles use too). Empty when none."""
    return facts_lib.release_digest(text, file_name, algorithm)


def sha256_file(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(name: str, archive: Path, checksums: Path, archive_name: str, origin: str, algorithm: str = "sha256") -> str:
    """Check archive against the checksum file; SystemExit with a clear message when it does not
    match. Returns the digest."""
    want = digest_for(checksums.read_text(errors="replace"), archive_name, algorithm)
    if not want:
        raise SystemExit(f"{name}: {checksums.name} from {origin} gives no {algorithm} digest for {archive_name}; "
                         "nothing was written to the mirror")
    got = sha256_file(archive, algorithm)
    if got != want:
        raise SystemExit(f"{name}: {archive_name} from {origin} does not match its checksum file {checksums.name} "
                         f"({algorithm} {got}, the file says {want}); refused, nothing was written to the mirror")
    return got


class Mirror:
    """The mirror folder and the cache folders beside it."""

    def __init__(self, cache: Path, arch: str):
        self.cache = cache
        self.root = cache / "mirror"
        self.aside = cache / "mirror-built"
        self.downloads = cache / "release-downloads"
        self.arch = arch

    def built_stamp(self, program: str) -> str:
        return f".built-{program}-{self.arch}"

    def fetched_stamp(self, program: str) -> str:
        return f".fetched-{program}-{self.arch}"

    def files(self, program: str, spec: dict) -> list[str]:
        """The mirror files of one program: archive, checksum files, stamps."""
        parts = names(spec, self.arch)
        listed = [parts["archive"], parts["checksums"], parts.get("contents_checksums", ""),
                  self.built_stamp(program), self.fetched_stamp(program)]
        return [f for f in listed if f]

    def other_archives(self, spec: dict, outdir: Path) -> set[str]:
        """The other arches' archives in outdir that this arch's checksum file lists too."""
        return {name for name in shared_checksum_archives(spec, self.arch) if (outdir / name).exists()}

    def shared_checksums(self, spec: dict, outdir: Path) -> str:
        """This arch's checksum file name when it also lists another arch's archive present in
        outdir (that line must stay), else ""."""
        return names(spec, self.arch)["checksums"] if self.other_archives(spec, outdir) else ""

    def set_aside_built(self, program: str, spec: dict) -> None:
        """Before a downloaded or folder copy goes in: move a built archive (its files and stamp)
        to mirror-built/<url_path>/, where restore_built finds it again."""
        rel = names(spec, self.arch)["url_path"]
        here, there = self.root / rel, self.aside / rel
        if not (here / self.built_stamp(program)).exists():
            return
        there.mkdir(parents=True, exist_ok=True)
        shared = self.shared_checksums(spec, here)
        for file_name in self.files(program, spec):
            if file_name != self.fetched_stamp(program) and (here / file_name).exists():
                if file_name == shared:
                    # Another arch's archive stays and needs its line: keep the file, copy it.
                    shutil.copyfile(here / file_name, there / file_name)
                else:
                    os.replace(here / file_name, there / file_name)
        log(f"{program}: the built archive is kept aside in {there}")

    def restore_built(self, program: str, spec: dict) -> None:
        """Before a build: a built archive moved aside earlier comes back, and the stamp of a
        downloaded or folder copy goes (the build replaces that copy)."""
        rel = names(spec, self.arch)["url_path"]
        here, there = self.root / rel, self.aside / rel
        (here / self.fetched_stamp(program)).unlink(missing_ok=True)
        if not (there / self.built_stamp(program)).exists():
            return
        here.mkdir(parents=True, exist_ok=True)
        shared = self.shared_checksums(spec, here)
        for file_name in self.files(program, spec):
            if (there / file_name).exists():
                if file_name == shared and (here / file_name).exists():
                    # This arch's line comes back; the other arches' lines stay.
                    own = {names(spec, self.arch)["archive"]}
                    write_atomic(here / file_name, merge_checksum_lines(
                        (here / file_name).read_text(), (there / file_name).read_text(), own))
                    (there / file_name).unlink()
                else:
                    os.replace(there / file_name, here / file_name)
        log(f"{program}: the built archive kept aside is back in the mirror")

    def place(self, program: str, spec: dict, archive: Path, checksums: Path, record: dict,
              link: bool = False) -> dict:
        """Copy a verified archive and its checksum file into the mirror (through temporary
        names, so a half-copied file is never served) and write the program's stamp. With link,
        a hard link where the file system allows (the download cache: one copy on disk)."""
        parts = names(spec, self.arch)
        outdir = self.root / parts["url_path"]
        self.set_aside_built(program, spec)
        outdir.mkdir(parents=True, exist_ok=True)
        others = self.other_archives(spec, outdir)
        if others and (outdir / parts["checksums"]).exists():
            # Upstream's checksum file, with the lines of the other arches' archives already in
            # the mirror (built ones differ from upstream's) kept as they are.
            write_atomic(outdir / parts["checksums"], merge_checksum_lines(
                checksums.read_text(errors="replace"), (outdir / parts["checksums"]).read_text(), others))
            copies = ((archive, parts["archive"]),)
        else:
            copies = ((archive, parts["archive"]), (checksums, parts["checksums"]))
        for src, dest_name in copies:
            dest = outdir / dest_name
            if dest.exists() and dest.stat().st_size == src.stat().st_size and sha256_file(dest) == sha256_file(src):
                continue
            tmp = dest.with_name(dest.name + ".tmp")
            tmp.unlink(missing_ok=True)
            try:
                if not link:
                    raise OSError("copy")
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        if parts.get("contents_checksums"):
            # A built archive's list of its own files; not part of a downloaded or folder copy.
            (outdir / parts["contents_checksums"]).unlink(missing_ok=True)
        result = {"program": program, "version": str(spec["version"]),
                  "archive": f"{parts['url_path']}/{parts['archive']}",
                  "checksums": f"{parts['url_path']}/{parts['checksums']}", **record}
        (outdir / self.fetched_stamp(program)).write_text(json.dumps(result, indent=2) + "\n")
        return result

    def kept(self, program: str, spec: dict) -> dict | None:
        """An upstream or folder copy an earlier run left in the mirror, still matching its
        checksum file: its stamp, else None."""
        parts = names(spec, self.arch)
        outdir = self.root / parts["url_path"]
        stamp = outdir / self.fetched_stamp(program)
        archive, checksums = outdir / parts["archive"], outdir / parts["checksums"]
        if not (stamp.exists() and archive.exists() and checksums.exists()):
            return None
        try:
            record = json.loads(stamp.read_text())
            verify(program, archive, checksums, parts["archive"], "the mirror", spec["archive"].get("algorithm", "sha256"))
        except (SystemExit, ValueError):
            return None
        return record if record.get("version") == str(spec["version"]) else None


def from_folder(mirror: Mirror, program: str, spec: dict, folder: Path) -> dict | None:
    """The program's archive from the pre-seeded folder, when the folder holds it: checked against
    the folder's checksum file, then copied into the mirror. None when the folder lacks it."""
    parts = names(spec, mirror.arch)
    src = folder / parts["url_path"]
    archive, checksums = src / parts["archive"], src / parts["checksums"]
    if not archive.is_file():
        return None
    if not checksums.is_file():
        raise SystemExit(f"{program}: {archive} has no checksum file {checksums.name} beside it in ILP_RELEASE_DIR; "
                         "refused, nothing was written to the mirror")
    digest = verify(program, archive, checksums, parts["archive"], f"ILP_RELEASE_DIR ({folder})", spec["archive"].get("algorithm", "sha256"))
    log(f"{program} {spec['version']}: {parts['archive']} from {folder}, sha256 verified")
    return mirror.place(program, spec, archive, checksums,
                        {"source": "folder", "origin": str(archive), "sha256": digest})


def download(url: str, dest: Path, timeout: float) -> None:
    """Fetch url into dest (through dest.part, renamed once complete)."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "ilp-observability-release-mirror"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except (urllib.error.URLError, OSError) as exc:
        part.unlink(missing_ok=True)
        raise SystemExit(f"could not download {url}: {getattr(exc, 'reason', exc)}. ILP_RELEASES=upstream needs "
                         "the upstream release pages; unset it to build from the Go modules, or put the "
                         "archives in ILP_RELEASE_DIR") from None
    os.replace(part, dest)


def upstream_base(spec: dict) -> str:
    """The entry's upstream base (scheme and host), or the tests' loopback double."""
    return (os.environ.get("ILP_RELEASES_UPSTREAM_BASE") or spec.get("upstream") or "").rstrip("/")


def from_upstream(mirror: Mirror, program: str, spec: dict, timeout: float = 60) -> dict:
    """The program's upstream archive and checksum file, downloaded into release-downloads (or
    reused from there while the archive still matches), checked, then copied into the mirror.
    A mismatch removes the download and stops the run; the mirror is not touched."""
    parts = names(spec, mirror.arch)
    base = upstream_base(spec)
    url = f"{base}/{parts['url_path']}"
    cache = mirror.downloads / parts["url_path"]
    archive, checksums = cache / parts["archive"], cache / parts["checksums"]
    if archive.exists() and checksums.exists():
        try:
            digest = verify(program, archive, checksums, parts["archive"], "the download cache", spec["archive"].get("algorithm", "sha256"))
        except SystemExit:
            digest = ""
        if digest:
            log(f"{program} {spec['version']}: {parts['archive']} kept from an earlier download, sha256 verified")
            return mirror.place(program, spec, archive, checksums,
                                {"source": "upstream", "origin": f"{url}/{parts['archive']}", "sha256": digest}, link=True)
    log(f"{program} {spec['version']}: downloading {url}/{parts['archive']} and {parts['checksums']}")
    download(f"{url}/{parts['checksums']}", checksums, timeout)
    download(f"{url}/{parts['archive']}", archive, timeout)
    try:
        digest = verify(program, archive, checksums, parts["archive"], url, spec["archive"].get("algorithm", "sha256"))
    except SystemExit:
        archive.unlink(missing_ok=True)
        checksums.unlink(missing_ok=True)
        raise
    log(f"{program} {spec['version']}: {parts['archive']} downloaded from {url}, sha256 verified")
    return mirror.place(program, spec, archive, checksums,
                        {"source": "upstream", "origin": f"{url}/{parts['archive']}", "sha256": digest}, link=True)


def missing_reason(spec: dict) -> str:
    why = spec.get("reason") or "no recipe in the mirror"
    return f"{why}; set ILP_RELEASES=upstream or put its archive in ILP_RELEASE_DIR"


def settings() -> tuple[str, Path | None]:
    """ILP_RELEASES (build, the default, or upstream) and ILP_RELEASE_DIR (a folder or None)."""
    mode = (os.environ.get("ILP_RELEASES") or "build").strip().lower()
    if mode not in MODES:
        raise SystemExit(f"ILP_RELEASES={mode}: not one of {', '.join(MODES)} (unset means build)")
    folder = os.environ.get("ILP_RELEASE_DIR") or None
    if folder and not Path(folder).is_dir():
        raise SystemExit(f"ILP_RELEASE_DIR={folder}: not a folder")
    return mode, Path(folder).resolve() if folder else None


def select_sources(mirror: Mirror, wanted: list[str], programs: dict, mode: str,
                   folder: Path | None) -> tuple[dict, list[str], dict]:
    """Fill the mirror from the folder and upstream first. Returns (results of the programs
    placed, by name; the programs left to build, in order; missing programs with their reason).
    Order per program: the folder if it holds the archive; upstream in upstream mode (every entry
    that has an upstream page); an upstream-only entry a former run left in the mirror; else a
    build (entries with a recipe) or missing (upstream-only entries)."""
    placed, to_build, missing = {}, [], {}
    for program in wanted:
        spec = programs[program]
        upstream_only = spec.get("source") == "upstream-only"
        result = from_folder(mirror, program, spec, folder) if folder else None
        if result is None and mode == "upstream" and spec.get("upstream"):
            result = from_upstream(mirror, program, spec)
        if result is None and upstream_only:
            result = mirror.kept(program, spec)
            if result is not None:
                log(f"{program} {spec['version']}: {result['source']} copy kept in the mirror from an earlier run")
        if result is not None:
            placed[program] = result
        elif upstream_only:
            missing[program] = missing_reason(spec)
        else:
            mirror.restore_built(program, spec)
            to_build.append(program)
    return placed, to_build, missing


def write_index(mirror: Mirror, wanted: list[str], programs: dict, results: dict, missing: dict,
                mode: str, folder: Path | None, previous: dict | None = None,
                by_arch: dict | None = None) -> Path:
    """$ILP_CACHE_DIR/mirror/index.json: what this run provides, program by program, plus what the
    previous index said of programs this run did not ask for (while their archive is still in the
    mirror at the same version), so that `build.py prometheus` (make rules) does not hide the
    lab's Grafana or Loki. `programs` and `missing` are mirror.arch's (amd64: the lab's and the
    tests'); by_arch gives the other arches of ILP_MIRROR_ARCHES, {arch: (wanted, results,
    missing)}, written under "by_arch" with the same shape and carried over the same way."""
    previous = previous or {}
    index = {
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "releases": mode,
        "release_dir": str(folder) if folder else None,
        **index_section(mirror, wanted, programs, results, missing, previous),
    }
    sections = {}
    for arch, old in (previous.get("by_arch") or {}).items():
        if arch in ARCHES and arch != mirror.arch and isinstance(old, dict):
            sections[arch] = index_section(Mirror(mirror.cache, arch), [], programs, {}, {}, old)
    for arch, (arch_wanted, arch_results, arch_missing) in (by_arch or {}).items():
        old = (previous.get("by_arch") or {}).get(arch) or {}
        sections[arch] = index_section(Mirror(mirror.cache, arch), arch_wanted, programs, arch_results,
                                       arch_missing, old if isinstance(old, dict) else {})
    sections = {arch: section for arch, section in sections.items() if section["programs"] or section["missing"]}
    if sections:
        index["by_arch"] = dict(sorted(sections.items()))
    path = mirror.root / "index.json"
    mirror.root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("index.json.tmp")
    tmp.write_text(json.dumps(index, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def index_section(mirror: Mirror, wanted: list[str], programs: dict, results: dict, missing: dict,
                  previous: dict) -> dict:
    """One arch's part of index.json: {"programs": ..., "missing": ...} of this run, plus what
    previous (that arch's part of the former index) said of the programs this run did not ask for."""
    section = {"programs": {}, "missing": {name: missing[name] for name in wanted if name in missing}}
    for name in wanted:
        if name in results:
            result = results[name]
            section["programs"][name] = {
                "version": str(programs[name]["version"]),
                "source": result.get("source", "built"),
                "archive": result["archive"],
            }
    for name, entry in (previous.get("programs") or {}).items():
        if (name not in wanted and name in programs and isinstance(entry, dict)
                and entry.get("version") == str(programs[name]["version"])
                and (mirror.root / str(entry.get("archive", ""))).is_file()):
            section["programs"][name] = entry
    for name, why in (previous.get("missing") or {}).items():
        if name not in wanted and name in programs and name not in section["programs"]:
            section["missing"][name] = why
    return section
