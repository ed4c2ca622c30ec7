"""The loki role's configuration, rendered by Ansible from the role's defaults and vars.

Loki cannot run here (AGPL: this project does not fetch or run it), so the rendered configuration
is held against Loki's documented structure (configuration reference and the retention and OTLP
pages of Loki 3.7): one process on one host, a tsdb/v13 schema entry with a 24h index period on the
filesystem object store, compactor retention with a delete request store, the retention period,
OTLP resource attributes as index labels, and every path inside the data folder the unit may write.
With ILP_LOKI_ARCHIVE set to a loki-linux-amd64.zip obtained by the user, `loki -verify-config`
judges the same files.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
ROLE = TOP / "roles" / "loki"
AGENT_LABELS = ["host.name", "service.name", "deployment.environment.name", "ilp.node_id"]

# Loki's configuration reference (docs/sources/shared/configuration.md of 3.7): the top-level
# blocks, and the keys of the blocks the role writes. A key outside these is a typo Loki's strict
# parser would refuse.
TOP_LEVEL = {"target", "auth_enabled", "ballast_bytes", "server", "internal_server", "distributor", "querier",
             "query_scheduler", "frontend", "query_range", "ruler", "ingester_client", "ingester", "pattern_ingester",
             "index_gateway", "bloom_build", "bloom_gateway", "storage_config", "chunk_store_config",
             "schema_config", "compactor", "limits_config", "frontend_worker", "table_manager", "memberlist",
             "runtime_config", "operational_config", "tracing", "analytics", "common", "shutdown_delay",
             "metrics_namespace", "profiling", "kafka_config", "dataobj", "ui"}
KNOWN = {
    "server": {"http_listen_address", "http_listen_port", "grpc_listen_address", "grpc_listen_port", "log_level"},
    "common": {"path_prefix", "instance_addr", "replication_factor", "ring", "storage"},
    "common.ring": {"kvstore"},
    "common.ring.kvstore": {"store"},
    "common.storage": {"filesystem"},
    "common.storage.filesystem": {"chunks_directory", "rules_directory"},
    "storage_config": {"tsdb_shipper"},
    "storage_config.tsdb_shipper": {"active_index_directory", "cache_location"},
    "compactor": {"working_directory", "compaction_interval", "retention_enabled", "retention_delete_delay",
                  "delete_request_store"},
    "ingester": {"wal"},
    "ingester.wal": {"dir"},
    "ruler": {"rule_path"},
    "limits_config": {"retention_period", "allow_structured_metadata", "otlp_config", "ingestion_rate_mb"},
    "limits_config.otlp_config": {"resource_attributes"},
    "limits_config.otlp_config.resource_attributes": {"ignore_defaults", "attributes_config"},
    "analytics": {"reporting_enabled"},
}
SCHEMA_ENTRY_KEYS = {"from", "store", "object_store", "schema", "index"}

PLAYBOOK = textwrap.dedent(f"""\
    - name: Render Loki's configuration with the role's defaults and vars
      hosts: localhost
      gather_facts: false
      vars_files:
        - {ROLE}/defaults/main.yml
        - {ROLE}/vars/main.yml
      tasks:
        - name: Render the configuration
          ansible.builtin.template:
            src: {ROLE}/templates/loki.yml.j2
            dest: "{{{{ out }}}}/loki.yml"
            mode: "0644"
        - name: Write what the role derives
          ansible.builtin.copy:
            content: "{{{{ {{'ready': loki__local_url ~ '/ready', 'file': loki__config_file,
                            'binary': loki__binary}} | to_json }}}}"
            dest: "{{{{ out }}}}/derived.json"
            mode: "0644"
    """)


def render(tmp_path: Path, extra: dict | None = None) -> tuple[dict, dict, Path]:
    """The rendered configuration (parsed), the role's derived values, and the file's path."""
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "render.yml").write_text(PLAYBOOK)
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({"out": str(out), "ansible_python_interpreter": sys.executable,
                                      "ansible_facts": {"architecture": "x86_64"}, **(extra or {})}))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(tmp_path / "render.yml"), "-i", "localhost,", "-c", "local",
                           "-e", f"@{extra_file}"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
                                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return yaml.safe_load((out / "loki.yml").read_text()), json.loads((out / "derived.json").read_text()), out / "loki.yml"


def hours(duration: str) -> float:
    """A Prometheus-style duration (what Loki's retention_period takes) in hours: 168h, 7d, 1w, 36h30m."""
    units = {"ms": 1 / 3_600_000, "s": 1 / 3600, "m": 1 / 60, "h": 1, "d": 24, "w": 168, "y": 8760}
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a duration: {duration}"
    return sum(int(n) * units[u] for n, u in parts)


def unknown_keys(config: dict) -> list[str]:
    problems = [f"top-level {key}" for key in config if key not in TOP_LEVEL]
    for path, known in KNOWN.items():
        block = config
        for part in path.split("."):
            block = (block or {}).get(part, {})
        problems += [f"{path}.{key}" for key in block or {} if key not in known]
    for entry in config["schema_config"]["configs"]:
        problems += [f"schema_config.configs[].{key}" for key in entry if key not in SCHEMA_ENTRY_KEYS]
    return problems


def paths(config: dict) -> dict[str, str]:
    """Every folder the configuration names."""
    return {
        "common.path_prefix": config["common"]["path_prefix"],
        "chunks": config["common"]["storage"]["filesystem"]["chunks_directory"],
        "rules": config["common"]["storage"]["filesystem"]["rules_directory"],
        "tsdb index": config["storage_config"]["tsdb_shipper"]["active_index_directory"],
        "tsdb cache": config["storage_config"]["tsdb_shipper"]["cache_location"],
        "compactor": config["compactor"]["working_directory"],
        "wal": config["ingester"]["wal"]["dir"],
        "ruler temp": config["ruler"]["rule_path"],
    }


def check_retention_rules(config: dict, data_dir: str, retention: str) -> None:
    """Loki's rules for compactor retention on a single host (operations/storage/retention)."""
    assert unknown_keys(config) == []
    entries = config["schema_config"]["configs"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["store"] == "tsdb" and entry["schema"] == "v13" and entry["object_store"] == "filesystem"
    assert entry["index"] == {"prefix": "index_", "period": "24h"}, "retention needs the 24h index period"
    first_day = datetime.date.fromisoformat(str(entry["from"]))
    assert first_day < datetime.date.today(), "the schema must cover the logs stored from today on"

    compactor = config["compactor"]
    assert compactor["retention_enabled"] is True
    assert compactor["delete_request_store"] == "filesystem", "retention needs a delete request store"
    assert compactor["working_directory"].startswith(data_dir + "/"), "marker files must persist"
    limits = config["limits_config"]
    assert limits["retention_period"] == retention
    assert hours(limits["retention_period"]) >= 24 and hours(limits["retention_period"]) % 24 == 0

    named = paths(config)
    assert named["common.path_prefix"] == data_dir
    for name, folder in named.items():
        assert folder == data_dir or folder.startswith(data_dir + "/"), f"{name}: {folder} outside {data_dir}"
    inside = [folder for name, folder in named.items() if name != "common.path_prefix"]
    assert len(set(inside)) == len(inside), f"two components share a folder: {named}"


def test_defaults_keep_seven_days_on_the_local_disk(tmp_path):
    config, derived, _unused = render(tmp_path)
    check_retention_rules(config, "/var/lib/loki", "168h")
    assert config["target"] == "all" and config["auth_enabled"] is False
    assert config["server"] == {"http_listen_address": "0.0.0.0", "http_listen_port": 3100,
                                "grpc_listen_address": "127.0.0.1", "grpc_listen_port": 9095, "log_level": "info"}
    common = config["common"]
    assert common["replication_factor"] == 1 and common["ring"] == {"kvstore": {"store": "inmemory"}}
    assert common["instance_addr"] == "127.0.0.1", "the rings name the loopback where gRPC listens"
    assert config["analytics"] == {"reporting_enabled": False}
    assert derived == {"ready": "http://127.0.0.1:3100/ready", "file": "/etc/loki/loki.yml", "binary": "loki-linux-amd64"}


def test_otlp_resource_attributes_of_the_agent_are_index_labels(tmp_path):
    config, _unused, _unused = render(tmp_path)
    limits = config["limits_config"]
    assert limits["allow_structured_metadata"] is True, "OTLP attributes that are not labels become structured metadata"
    assert limits["otlp_config"] == {"resource_attributes": {
        "ignore_defaults": True,
        "attributes_config": [{"action": "index_label", "attributes": AGENT_LABELS}]}}


def test_variables_and_loki_config_change_what_they_say(tmp_path):
    config, derived, _unused = render(tmp_path, {
        "loki_retention_period": "720h", "loki_data_dir": "/srv/loki", "loki_http_listen_address": "[::]:3200",
        "loki_grpc_listen_address": "127.0.0.1:9195", "loki_log_level": "warn", "loki_reporting_enabled": True,
        "loki_otlp_index_labels": ["service.name", "host.name"], "loki_schema_from": "2025-01-01",
        "loki_config": {"limits_config": {"ingestion_rate_mb": 8},
                        "compactor": {"retention_delete_delay": "4h"}}})
    check_retention_rules(config, "/srv/loki", "720h")
    assert config["limits_config"]["ingestion_rate_mb"] == 8, "loki_config merged in"
    assert config["limits_config"]["retention_period"] == "720h", "merged key by key"
    assert config["compactor"]["retention_delete_delay"] == "4h" and config["compactor"]["retention_enabled"] is True
    assert config["server"]["http_listen_address"] == "::" and config["server"]["http_listen_port"] == 3200
    assert config["server"]["grpc_listen_port"] == 9195 and config["server"]["log_level"] == "warn"
    assert config["analytics"]["reporting_enabled"] is True
    assert str(config["schema_config"]["configs"][0]["from"]) == "2025-01-01"
    labels = config["limits_config"]["otlp_config"]["resource_attributes"]["attributes_config"]
    assert labels == [{"action": "index_label", "attributes": ["service.name", "host.name"]}]
    assert derived["ready"] == "http://[::1]:3200/ready"


@pytest.mark.parametrize("machine, binary", [("x86_64", "loki-linux-amd64"), ("aarch64", "loki-linux-arm64"),
                                             ("armv7l", "loki-linux-arm")])
def test_the_binary_is_named_after_the_architecture(tmp_path, machine, binary):
    assert render(tmp_path, {"ansible_facts": {"architecture": machine}})[1]["binary"] == binary


def test_the_role_checks_before_the_file_goes_live_and_restarts():
    tasks = yaml.safe_load((ROLE / "tasks/main.yml").read_text())
    lifecycle = tasks[-1]["vars"]
    assert lifecycle["service_lifecycle_config_files"] == [{
        "src": "loki.yml.j2", "dest": "{{ loki__config_file }}",
        "validate": "/usr/local/bin/loki -verify-config -config.file=%s"}]
    assert lifecycle["service_lifecycle_exec_start"] == ["/usr/local/bin/loki", "-config.file={{ loki__config_file }}"]
    assert lifecycle["service_lifecycle_exec_reload"] == "", "Loki has no configuration reload: a change restarts"
    assert lifecycle["service_lifecycle_ready_url"] == "{{ loki__local_url }}/ready"
    # Archive, checksum file and top folder: the upstream facts (loki-linux-<arch>.zip, SHA256SUMS).
    assert lifecycle["service_lifecycle_upstream"] == "loki"
    assert "service_lifecycle_archive_url" not in lifecycle and "service_lifecycle_checksums_url" not in lifecycle
    writable = [d["path"] for d in lifecycle["service_lifecycle_directories"] if d.get("writable")]
    assert writable == ["{{ loki_data_dir }}"], "the unit writes the data folder only"
    assert lifecycle["service_lifecycle_unit_settings"]["WorkingDirectory"] == "{{ loki_data_dir }}"


@pytest.fixture(scope="module")
def loki_binary(tmp_path_factory) -> Path:
    archive = os.environ.get("ILP_LOKI_ARCHIVE")
    if not archive:
        pytest.skip("Loki cannot run here (AGPL: this project never fetches or runs it): set ILP_LOKI_ARCHIVE to a loki-linux-amd64.zip")
    folder = tmp_path_factory.mktemp("loki")
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.namelist() == ["loki-linux-amd64"], "upstream packs one file at the archive's root"
        bundle.extract("loki-linux-amd64", folder)
    binary = folder / "loki-linux-amd64"
    binary.chmod(0o755)
    return binary


@pytest.mark.parametrize("case, extra, refused", [
    ("defaults", {}, None),
    ("overrides", {"loki_retention_period": "720h", "loki_data_dir": "/srv/loki", "loki_http_listen_address": "[::]:3200",
                   "loki_config": {"limits_config": {"ingestion_rate_mb": 8}}}, None),
    ("unknown key", {"loki_config": {"compactor": {"no_such_key": 1}}}, "no_such_key"),
    ("retention without a delete request store", {"loki_config": {"compactor": {"delete_request_store": ""}}},
     "delete"),
])
def test_loki_verify_config_judges_what_the_role_writes(tmp_path, loki_binary, case, extra, refused):
    _unused, _unused, config_file = render(tmp_path, extra)
    proc = subprocess.run([str(loki_binary), "-verify-config", f"-config.file={config_file}"],
                          capture_output=True, text=True, timeout=60, check=False)
    if refused is None:
        assert proc.returncode == 0, f"{case}: {proc.stdout}{proc.stderr}"
    else:
        assert proc.returncode != 0 and refused in proc.stdout + proc.stderr, f"{case}: {proc.stdout}{proc.stderr}"
