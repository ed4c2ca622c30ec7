# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The upstream_release and release_digest filters: every checksum form upstreams write, the
facts file's programs, and clear errors for what cannot give a URL."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ansible.errors import AnsibleFilterError

try:
    from ansible_collections.ilp.observability.plugins.filter import upstream_release as plugin
except ImportError:  # plain pytest from a clone: the playbook-adjacent collections/ folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "collections"))
    from ansible_collections.ilp.observability.plugins.filter import upstream_release as plugin

FILTERS = plugin.FilterModule().filters()
SHA256 = "0123456789abcdef" * 4
OTHER = "fedcba9876543210" * 4
SHA1 = "0123456789abcdef0123456789abcdef01234567"
NAME = "tool-1.0.0.linux-amd64.tar.gz"


@pytest.mark.parametrize("text, algorithm, digest", [
    (SHA256, "sha256", SHA256),                                         # goreleaser split: digest alone, no newline
    (SHA256 + "\n", "sha256", SHA256),                                  # Grafana's .sha256: digest and newline
    (f"{SHA256}  {NAME}\n", "sha256", SHA256),                          # sha256sum / promu
    (f"{OTHER} *other.tar.gz\n{SHA256} *{NAME}\n", "sha256", SHA256),   # shasum -b (Jaeger)
    (f"{SHA256}  /drone/src/dist/{NAME}\n", "sha256", SHA256),          # a name with folders
    (f"{SHA256}  ./{NAME}\n", "sha256", SHA256),
    (f"SHA256 (dist/{NAME}) = {SHA256}\n", "sha256", SHA256),           # BSD
    (SHA256.upper() + f"  {NAME}\r\n", "sha256", SHA256),               # upper case, CRLF
    (f"{SHA1}  dist/{NAME}\n", "sha1", SHA1),                           # sha1sum dist/<zip> (VictoriaLogs plugin)
    (f"{SHA1}  dist/{NAME}\n", "sha256", ""),                           # a SHA-1 line is no SHA-256 digest
    (f"{OTHER}  a.zip\n{SHA256}  b.zip\n", "sha256", ""),               # several lines, none naming it
    (f"{OTHER}  dist/{NAME}\n{SHA256}  {NAME}\n", "sha256", SHA256),    # the exact name wins over a folder's
    (f"{OTHER}  other.tar.gz\n", "sha256", ""),                         # one line naming another file
    ("<html>Not Found</html>\n", "sha256", ""),                         # an error page
    ("", "sha256", ""),
])
def test_release_digest_reads_every_upstream_form(text, algorithm, digest):
    assert FILTERS["release_digest"](text, NAME, algorithm) == digest


def test_release_digest_refuses_an_unknown_algorithm():
    with pytest.raises(AnsibleFilterError, match="release_digest: unknown checksum algorithm 'md5'"):
        FILTERS["release_digest"](SHA256, NAME, "md5")


def test_upstream_release_of_every_program_in_the_facts():
    for program in plugin.load_facts():
        for arch in ("amd64", "arm64"):
            rel = FILTERS["upstream_release"](program, None, arch)
            assert rel["url"].startswith("https://") and rel["url"].endswith(rel["archive"])
            assert rel["checksums_url"] == rel["release_url"] + "/" + rel["checksums"]
            assert rel["algorithm"] in ("sha1", "sha256", "sha512")


def test_upstream_release_says_what_is_wrong():
    with pytest.raises(AnsibleFilterError, match="upstream_release: no upstream facts for 'nope'"):
        FILTERS["upstream_release"]("nope")
    with pytest.raises(AnsibleFilterError, match="upstream_release: jaeger publishes no riscv64 archive"):
        FILTERS["upstream_release"]("jaeger", "2.12.0", "riscv64")


def test_a_mirror_replaces_scheme_and_host_and_a_folder_replaces_upstreams():
    rel = FILTERS["upstream_release"]("prometheus", "3.16.0", "arm64", "", "http://mirror:8080/")
    assert rel["url"] == "http://mirror:8080/prometheus/prometheus/releases/download/v3.16.0/prometheus-3.16.0.linux-arm64.tar.gz"
    rel = FILTERS["upstream_release"]("prometheus", "3.16.0", "amd64", "file:///srv/prom", "http://mirror:8080")
    assert rel["checksums_url"] == "file:///srv/prom/v3.16.0/sha256sums.txt"
