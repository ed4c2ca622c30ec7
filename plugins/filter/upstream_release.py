# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.
"""Filters of the upstream release facts (roles/service_lifecycle/files/upstream.yml).

upstream_release: where a program's release archive and checksum file are, for one version and
architecture, and how the checksum file is read (algorithm, top folder of the archive).
release_digest: the digest a checksum file gives for one file, whatever form upstream writes it
in (a bare digest, `<digest>  <name>`, `<digest> *<name>`, a name with folders, BSD lines;
SHA-1, SHA-256 or SHA-512).
Their documentation: upstream_release.yml and release_digest.yml beside this file.

The functions are plain Python so that the release mirror's tools (tools/release-mirror/) read
the same facts the same way; the roles and the mirror never disagree on a URL or a checksum line.
"""

from __future__ import annotations

import os
import re

# The facts file, found from this file's place in the collection (plugins/filter/ -> root).
FACTS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "roles", "service_lifecycle", "files", "upstream.yml")
_CACHE = {}

# Digest length in hexadecimal digits per algorithm.
ALGORITHMS = {"sha1": 40, "sha256": 64, "sha512": 128}
# Fields of a program's facts; the others are optional.
REQUIRED = ("version", "upstream", "releases", "folder", "archive", "checksums", "algorithm")
PLACEHOLDERS = re.compile(r"\{(\w+)\}")


class UpstreamFactsError(ValueError):
    """Facts or inputs that cannot give a URL; the message is shown to the user."""


def _fill(template, values, what):
    def one(match):
        key = match.group(1)
        if key not in values or values[key] in (None, ""):
            raise UpstreamFactsError("%s: the placeholder {%s} in %r has no value" % (what, key, template))
        return str(values[key])
    return PLACEHOLDERS.sub(one, str(template))


def release_tag(facts, version):
    """The release tag of a version: the facts' `tags` exceptions first, then the `tag` pattern."""
    tags = facts.get("tags") or {}
    version = str(version)
    if version in tags:
        return str(tags[version])
    return _fill(facts.get("tag", "v{version}"), {"version": version}, "tag")


def load_facts(path=None):
    """The programs of the facts file (read once per process and file version)."""
    import yaml  # PyYAML comes with ansible-core
    path = path or FACTS_FILE
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError as err:
        raise UpstreamFactsError("cannot read the upstream facts %s: %s" % (path, err))
    if _CACHE.get(path, (None, None))[0] != stamp:
        with open(path) as stream:
            _CACHE[path] = (stamp, yaml.safe_load(stream)["programs"])
    return _CACHE[path][1]


def upstream_release(program, version=None, arch="amd64", releases_url="", mirror="", values=None, facts=None):
    """Where `program` `version` for `arch` (amd64, arm64: the collection's names) is published.

    releases_url replaces upstream's folder of releases (`<upstream>/<releases>`); mirror replaces
    only the scheme and host (`<mirror>/<releases>`), the layout an air-gapped mirror keeps;
    values gives placeholders for this release that the facts do not know (a Grafana build id).
    facts: the programs mapping (default: the facts file).
    Returns url, archive, checksums_url, checksums, algorithm, checksum_line, top, tag,
    release_url (the folder of this release), url_path and version."""
    all_facts = load_facts() if facts is None else facts
    if not isinstance(all_facts, dict) or program not in all_facts:
        raise UpstreamFactsError("no upstream facts for %r (known: %s)" % (program, ", ".join(sorted(all_facts or {}))))
    facts = all_facts[program]
    extra = values
    missing = [key for key in REQUIRED if key not in facts]
    if missing:
        raise UpstreamFactsError("%s: the facts lack %s" % (program, ", ".join(missing)))
    version = str(version or facts["version"])
    arches = facts.get("arches") or {"amd64": "amd64", "arm64": "arm64"}
    if arch not in arches:
        raise UpstreamFactsError("%s publishes no %s archive (it has %s)" % (program, arch, ", ".join(sorted(arches))))
    algorithm = str(facts["algorithm"])
    if algorithm not in ALGORITHMS:
        raise UpstreamFactsError("%s: unknown checksum algorithm %r" % (program, algorithm))
    values = {"version": version, "arch": arches[arch], "tag": release_tag(facts, version),
              "build_id": (facts.get("build_ids") or {}).get(version, "")}
    values.update({key: str(value) for key, value in (extra or {}).items() if value not in (None, "")})
    archive = _fill(facts["archive"], values, program)
    values["archive"] = archive
    folder = _fill(facts["folder"], values, program)
    if releases_url:
        base = str(releases_url).rstrip("/")
    else:
        base = (str(mirror).rstrip("/") if mirror else str(facts["upstream"]).rstrip("/")) + "/" + facts["releases"]
    release_url = base + "/" + folder
    checksums = _fill(facts["checksums"], values, program)
    return {
        "version": version,
        "tag": values["tag"],
        "arch": values["arch"],
        "archive": archive,
        "url": release_url + "/" + archive,
        "checksums": checksums,
        "checksums_url": release_url + "/" + checksums,
        "algorithm": algorithm,
        "checksum_line": str(facts.get("checksum_line", "{digest}  {archive}")),
        "top": _fill(facts.get("top", ""), values, program),
        "release_url": release_url,
        "url_path": facts["releases"] + "/" + folder,
    }


_BSD = re.compile(r"^(SHA1|SHA256|SHA512) ?\((.+)\) ?= ?([0-9A-Fa-f]+)$")


def checksum_entries(text):
    """(digest, name or '') pairs of a checksum file's lines, in order; lines that hold no
    hexadecimal digest are left out."""
    entries = []
    for raw in str(text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        bsd = _BSD.match(line)
        if bsd:
            entries.append((bsd.group(3).lower(), bsd.group(2).strip()))
            continue
        parts = line.split(None, 1)
        if not re.match(r"^[0-9A-Fa-f]+$", parts[0]):
            continue
        name = parts[1].strip() if len(parts) > 1 else ""
        # `sha256sum -b` / `shasum -b` mark binary mode with `*` before the name.
        if name.startswith("*"):
            name = name[1:]
        entries.append((parts[0].lower(), name))
    return entries


def release_digest(text, file_name, algorithm="sha256"):
    """The digest that a checksum file's text gives for file_name, or '' when it gives none.

    A line names the file when its name, or the last part of a name with folders
    (`dist/<file>`, `./<file>`), is file_name; a file of one line holding only a digest is that
    file's own (`<archive>.sha256`). A digest of the wrong length for the algorithm is refused."""
    if algorithm not in ALGORITHMS:
        raise UpstreamFactsError("unknown checksum algorithm %r (sha1, sha256 or sha512)" % algorithm)
    size = ALGORITHMS[algorithm]
    entries = checksum_entries(text)
    exact = [digest for digest, name in entries if name in (file_name, "./" + file_name)]
    in_folder = [digest for digest, name in entries if name.replace("\\", "/").rsplit("/", 1)[-1] == file_name]
    for digest in exact + in_folder:
        return digest if len(digest) == size else ""
    if len(entries) == 1 and not entries[0][1]:
        return entries[0][0] if len(entries[0][0]) == size else ""
    return ""


def checksum_text(line, digest, archive):
    """A checksum file line as upstream writes it, from the facts' checksum_line."""
    return line.replace("{digest}", digest).replace("{archive}", archive)


def _upstream_release_filter(program, version=None, arch="amd64", releases_url="", mirror="", values=None):
    from ansible.errors import AnsibleFilterError
    try:
        return upstream_release(program, version, arch, releases_url, mirror, values)
    except UpstreamFactsError as err:
        raise AnsibleFilterError("upstream_release: %s" % err)


def _release_digest_filter(text, file_name, algorithm="sha256"):
    from ansible.errors import AnsibleFilterError
    try:
        return release_digest(text, file_name, algorithm)
    except UpstreamFactsError as err:
        raise AnsibleFilterError("release_digest: %s" % err)


class FilterModule:
    """Upstream release facts and checksum files."""

    def filters(self):
        return {
            "upstream_release": _upstream_release_filter,
            "release_digest": _release_digest_filter,
        }
