"""Outside the endpoint model (plugins/plugin_utils/endpoints.py), nothing derives where another
component answers from its listen variables: no playbook, scenario, inventory or tool template
splits a listen address, and the only roles that do so read their OWN listen variables (the
address the role itself checks its service at), listed here with that reason. A new derivation
anywhere else fails this test: read the model instead (filters endpoints, endpoint, log_store)."""
from __future__ import annotations

import re
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
# A listen address split into host or port in Jinja.
SPLIT = re.compile(r"listen_address\w*\s*\|\s*(string\s*\|\s*)?regex_replace|regex_replace\('\^\.\*:'|regex_replace\(':\[0-9\]\+\$'")
# role -> why it may split its own listen variables (the readiness and self URLs of its own
# service, on the same host: wildcard -> loopback). Burn this list down by moving those into the model.
OWN_LISTENERS = {
    "alertmanager": "its port for its own readiness URL and cluster peers",
    "blackbox_exporter": "its own readiness URL (loopback for a wildcard bind)",
    "jaeger": "its own health and metrics listeners",
    "loki": "its own HTTP and gRPC listeners in loki.yml",
    "node_exporter": "its own readiness URL",
    "otel_collector": "its own health and metrics listeners",
    "prometheus": "its own port for its readiness URL",
    "victorialogs": "its own readiness URL",
}


def derivations():
    found = {}
    for base in ("roles", "playbooks", "extensions", "inventories", "tools"):
        for path in sorted((TOP / base).rglob("*")):
            if path.suffix not in (".yml", ".yaml", ".j2") or ".venv" in path.parts:
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if not line.strip().startswith("#") and SPLIT.search(line):
                    found.setdefault(path.relative_to(TOP), []).append((number, line))
    return found


def test_only_the_model_and_a_role_reading_its_own_listeners_split_listen_addresses():
    for path, lines in derivations().items():
        parts = path.parts
        numbers = [number for number, _line in lines]
        assert parts[0] == "roles" and parts[1] in OWN_LISTENERS and parts[2] == "vars", (
            f"{path} lines {numbers} derive an address or port from a listen variable: use the endpoint model")
        # A role splits only its own listen variables (<role>_*), never another component's.
        for number, line in lines:
            assert re.search(rf"\b{parts[1]}_\w*listen_address", line), (
                f"{path}:{number} splits a listen address that is not roles/{parts[1]}'s own: use the endpoint model")


def test_the_log_agents_former_copy_would_fail():
    # What roles/otel_collector/vars/main.yml did before the model: another component's listener.
    line = "{%-   set bind = listen | regex_replace(':[0-9]+$', '') | replace('[', '') | replace(']', '') -%}"
    assert SPLIT.search(line) and not re.search(r"\botel_collector_\w*listen_address", line)


def test_the_pattern_finds_what_it_is_meant_to_find():
    assert SPLIT.search("url: http://x:{{ jaeger_otlp_http_listen_address | regex_replace('^.*:', '') }}")
    assert SPLIT.search("{% set bind = listen | regex_replace(':[0-9]+$', '') %}")
    assert not SPLIT.search("url: '{{ (groups | ilp.observability.endpoints(hostvars, \"jaeger\", \"otlp_http\") | first).url }}'")
