"""The otel_collector role's configuration, rendered by Ansible from the role's defaults and vars.

For a connector host the agent reads the connector unit at every priority and the other units at
the configured one (without the connector's lines twice), keeps its journal positions and
sending queues in file_storage, and ships to every host of the inventory's loki group, else of
its victorialogs group (with VictoriaLogs stream fields), or to the endpoints of
otel_collector_log_endpoints (secrets only in files). Without anywhere to send the role stops
before changing anything. When the mirror's otelcol-contrib archive exists, `otelcol-contrib
validate` judges every rendered configuration, and the real collector turns a connector's JSON
journal line into the record the stores get (attributes, body, severity, trace context, time).
"""
from __future__ import annotations

import http.server
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
ROLE = TOP / "roles" / "otel_collector"
CACHE = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
VERSION = yaml.safe_load((ROLE / "defaults/main.yml").read_text())["otel_collector_version"]
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
ARCHIVE = (CACHE / "mirror/open-telemetry/opentelemetry-collector-releases/releases/download" / f"v{VERSION}"
           / f"otelcol-contrib_{VERSION}_linux_{ARCH}.tar.gz")

# Renders the role's configuration for one inventory host (its defaults and vars as vars_files,
# the test's extra vars on top) into {{ out }}, writes the secret files where the configuration
# names them, and reports whether the role's first task (the assert) passes.
PLAYBOOK = f"""\
- name: Render the log agent's configuration
  hosts: "{{{{ target }}}}"
  gather_facts: false
  vars_files:
    - {ROLE}/defaults/main.yml
    - {ROLE}/vars/main.yml
  tasks:
    - name: Run the role's own check
      ansible.builtin.include_tasks: {ROLE}/tasks/check.yml
    - name: Render the configuration
      ansible.builtin.template:
        src: {ROLE}/templates/config.yaml.j2
        dest: "{{{{ out }}}}/config.yaml"
        mode: "0644"
      delegate_to: localhost
    - name: Write the secret files where the configuration reads them
      ansible.builtin.copy:
        content: "{{{{ item.content }}}}"
        dest: "{{{{ item.dest }}}}"
        mode: "0600"
      loop: "{{{{ otel_collector__secret_files }}}}"
      no_log: true
      delegate_to: localhost
    - name: List the secret files
      ansible.builtin.copy:
        content: "{{{{ otel_collector__secret_files | to_json }}}}"
        dest: "{{{{ out }}}}/secret-files.json"
        mode: "0600"
      delegate_to: localhost
"""

CONNECTOR = {"connector_node_id": "connector-a", "ansible_host": "10.0.0.11"}
VICTORIALOGS = {"all": {"vars": {"ilp_environment": "lab"}, "children": {
    "connectors": {"hosts": {"conn-a": CONNECTOR, "conn-b": {"connector_node_id": "connector-b"}}},
    "monitoring": {"hosts": {"mon-1": {}}},
    "victorialogs": {"hosts": {"vl-1": {"ansible_host": "10.0.0.21"},
                               "vl-2": {"victorialogs_listen_address": "10.0.0.22:9500"}}}}}}
LOKI = {"all": {"children": {
    "connectors": {"hosts": {"conn-a": CONNECTOR}},
    "loki": {"hosts": {"loki-1": {"ansible_host": "10.0.0.31"}, "loki-2": {"loki_http_listen_address": "[::]:3200"}}},
    "victorialogs": {"hosts": {"vl-1": {}}}}}}
NO_STORE = {"all": {"children": {"connectors": {"hosts": {"conn-a": CONNECTOR}}}}}
VL_STREAM_FIELDS = "service.name,host.name,deployment.environment.name,ilp.node_id"


def render(tmp_path: Path, inventory: dict, extra: dict | None = None, target: str = "conn-a",
           expect_ok: bool = True) -> tuple[dict, list, str]:
    """(configuration, secret files, ansible output) for one host; data and config dirs in tmp_path."""
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    (tmp_path / "data").mkdir(exist_ok=True)
    for folder in ("secrets", "tls"):
        (tmp_path / "etc" / folder).mkdir(parents=True, exist_ok=True)
    playbook = tmp_path / "render.yml"
    playbook.write_text(PLAYBOOK)
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({
        "out": str(out), "target": target, "ansible_python_interpreter": sys.executable,
        "otel_collector_data_dir": str(tmp_path / "data"), "otel_collector_config_dir": str(tmp_path / "etc"),
        **(extra or {})}))
    hosts = tmp_path / "hosts.json"
    hosts.write_text(json.dumps(inventory))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(playbook), "-i", str(hosts), "-c", "local", "-e", f"@{extra_file}"],
                          capture_output=True, text=True, timeout=180, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
                                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_LOCALHOST_WARNING="false",
                                   ANSIBLE_NOCOLOR="1"))
    output = proc.stdout + proc.stderr
    if not expect_ok:
        assert proc.returncode != 0, output
        return {}, [], output
    assert proc.returncode == 0, output
    return (yaml.safe_load((out / "config.yaml").read_text()),
            json.loads((out / "secret-files.json").read_text()), output)


def test_connector_host_ships_the_connector_unit_and_system_warnings_to_every_victorialogs_host(tmp_path):
    config, secrets, _unused = render(tmp_path, VICTORIALOGS)
    assert secrets == []
    data = str(tmp_path / "data")
    assert config["extensions"]["file_storage"]["directory"] == data
    assert config["extensions"]["health_check"] == {"endpoint": "0.0.0.0:13134"}
    # One journal receiver for both pipelines (a --unit match would miss a new unit's first lines):
    # every priority, since the connector's lines are all kept; position across restarts; a fresh
    # host starts at the end of the journal.
    assert list(config["receivers"]) == ["journald"]
    journald = config["receivers"]["journald"]
    assert "units" not in journald and "matches" not in journald and journald["priority"] == "debug"
    assert journald["storage"] == "file_storage" and journald["start_at"] == "end"
    assert journald["all"] is True and journald["convert_message_bytes"] is True
    # The connector pipeline keeps what `journalctl --unit ilp-connector.service` selects, the
    # system pipeline drops it, and what is less urgent than warning.
    unit_match = ('(log.body["_SYSTEMD_UNIT"] == "ilp-connector.service" or (log.body["UNIT"] == '
                  '"ilp-connector.service" and log.body["_PID"] == "1") or (log.body["OBJECT_SYSTEMD_UNIT"] == '
                  '"ilp-connector.service" and log.body["_UID"] == "0") or (log.body["COREDUMP_UNIT"] == '
                  '"ilp-connector.service" and log.body["_UID"] == "0"))')
    assert config["processors"]["filter/connector"]["logs"]["log_record"] == [f"not (IsMap(log.body) and {unit_match})"]
    assert config["processors"]["filter/system"]["logs"]["log_record"] == [
        f'IsMap(log.body) and ({unit_match} or IsMatch(log.body["PRIORITY"], "^[5-7]$"))']
    exporters = {"otlp_http/vl-1": "http://10.0.0.21:9428/insert/opentelemetry/v1/logs",
                 "otlp_http/vl-2": "http://10.0.0.22:9500/insert/opentelemetry/v1/logs"}
    assert set(config["exporters"]) == set(exporters)
    for name, url in exporters.items():
        exporter = config["exporters"][name]
        assert exporter["logs_endpoint"] == url
        assert exporter["headers"] == {"VL-Stream-Fields": VL_STREAM_FIELDS}
        assert exporter["sending_queue"] == {"enabled": True, "storage": "file_storage", "sizer": "items",
                                             "queue_size": 100000}
        assert exporter["retry_on_failure"]["enabled"] is True
        assert exporter["retry_on_failure"]["max_elapsed_time"] == "0s"
    pipelines = config["service"]["pipelines"]
    assert pipelines["logs/connector"] == {
        "receivers": ["journald"],
        "processors": ["memory_limiter", "filter/connector", "transform/journal", "transform/connector",
                       "resource/connector", "batch"],
        "exporters": sorted(exporters)}
    assert pipelines["logs/system"] == {
        "receivers": ["journald"],
        "processors": ["memory_limiter", "filter/system", "transform/journal", "transform/system", "resource/system",
                       "batch"],
        "exporters": sorted(exporters)}
    assert config["service"]["extensions"] == ["file_storage", "health_check"]
    resource = {a["key"]: a["value"] for a in config["processors"]["resource/connector"]["attributes"]}
    assert resource == {"service.name": "ilp-connector", "host.name": "conn-a", "deployment.environment.name": "lab",
                        "ilp.node_id": "connector-a"}
    system_resource = {a["key"]: a["value"] for a in config["processors"]["resource/system"]["attributes"]}
    assert system_resource == {"host.name": "conn-a", "deployment.environment.name": "lab",
                               "ilp.node_id": "connector-a"}
    # System lines: service.name from the syslog identifier, else the unit.
    copies = [(op["from"], op["to"]) for op in journald["operators"]]
    assert copies == [("body.SYSLOG_IDENTIFIER", 'resource["service.name"]'),
                      ("body._SYSTEMD_UNIT", 'resource["service.name"]')]
    limiter = config["processors"]["memory_limiter"]
    assert limiter == {"check_interval": "1s", "limit_mib": 200, "spike_limit_mib": 50}
    prometheus = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    assert prometheus == {"host": "0.0.0.0", "port": 8889, "without_type_suffix": False, "without_units": False}


def test_the_connector_statements_name_the_json_log_fields():
    statements = " ".join(yaml.safe_load((ROLE / "vars/main.yml").read_text())["otel_collector__connector_statements"])
    json_log = (TOP / "roles/connector/files/json-log.js").read_text()
    for field in ("level", "time", "nodeId", "correlationId", "component", "msg", "err", "traceId", "spanId"):
        assert f'log.cache["{field}"]' in statements, field
        assert f"{field} " in json_log, f"json-log.js no longer documents {field}"


def test_a_host_without_connector_gets_no_node_id_and_still_reads_system_lines(tmp_path):
    config, _unused, _unused = render(tmp_path, VICTORIALOGS, target="mon-1")
    resource = {a["key"]: a["value"] for a in config["processors"]["resource/system"]["attributes"]}
    assert resource == {"host.name": "mon-1", "deployment.environment.name": "lab"}
    assert "logs/system" in config["service"]["pipelines"]


def test_without_connector_units_journalctl_filters_by_the_system_priority(tmp_path):
    config, _unused, _unused = render(tmp_path, VICTORIALOGS,
                                      {"otel_collector_connector_units": [], "otel_collector_system_log_priority": "err"})
    assert config["receivers"]["journald"]["priority"] == "3"
    assert list(config["service"]["pipelines"]) == ["logs/system"]
    assert "filter/system" not in config["processors"] and "filter/connector" not in config["processors"]


def test_an_unknown_priority_or_nothing_to_read_fails_the_check(tmp_path):
    _unused, _unused, output = render(tmp_path / "bad", VICTORIALOGS, {"otel_collector_system_log_priority": "loud"},
                                      expect_ok=False)
    assert 'otel_collector_system_log_priority is "loud"' in output, output[-3000:]
    _unused, _unused, output = render(tmp_path / "none", VICTORIALOGS,
                                      {"otel_collector_connector_units": [], "otel_collector_system_log_priority": ""},
                                      expect_ok=False)
    assert "nothing to read on conn-a" in output, output[-3000:]


def test_loki_group_wins_over_victorialogs_and_gets_no_stream_header(tmp_path):
    config, _unused, _unused = render(tmp_path, LOKI)
    assert {name: exporter["logs_endpoint"] for name, exporter in config["exporters"].items()} == {
        "otlp_http/loki-1": "http://10.0.0.31:3100/otlp/v1/logs", "otlp_http/loki-2": "http://loki-2:3200/otlp/v1/logs"}
    assert not any("headers" in exporter for exporter in config["exporters"].values())
    resource = {a["key"]: a["value"] for a in config["processors"]["resource/connector"]["attributes"]}
    assert "deployment.environment.name" not in resource, "no ilp_environment in this inventory"


def test_endpoints_override_the_inventory_and_keep_secrets_in_files(tmp_path):
    etc = tmp_path / "etc"
    config, secrets, output = render(tmp_path, VICTORIALOGS, {"otel_collector_log_endpoints": [
        {"url": "https://logs.example.net/insert/opentelemetry/v1/logs", "name": "central",
         "headers": {"VL-Stream-Fields": "service.name,host.name", "AccountID": "7"},
         "secret_headers": {"X-Scope-Token": "s3cr3t: value"}, "ca_cert": "CA PEM",
         "tls": {"server_name_override": "logs.example.net"}},
        {"url": "http://10.0.0.40:3100/otlp/v1/logs", "bearer_token": "tok"},
        {"url": "http://10.0.0.41:9428/insert/opentelemetry/v1/logs", "username": "agent", "password": "pw",
         "client_cert": "CERT PEM", "client_key": "KEY PEM"}]})
    exporters = config["exporters"]
    assert set(exporters) == {"otlp_http/central", "otlp_http/endpoint-2", "otlp_http/endpoint-3"}
    central = exporters["otlp_http/central"]
    assert central["logs_endpoint"] == "https://logs.example.net/insert/opentelemetry/v1/logs"
    assert central["headers"] == {"VL-Stream-Fields": "service.name,host.name", "AccountID": "7",
                                  "X-Scope-Token": f"${{file:{etc}/secrets/central.X-Scope-Token}}"}
    assert central["tls"] == {"server_name_override": "logs.example.net", "ca_file": f"{etc}/tls/central.ca.crt"}
    assert exporters["otlp_http/endpoint-2"]["headers"] == {
        "Authorization": f"${{file:{etc}/secrets/endpoint-2.Authorization}}"}
    assert exporters["otlp_http/endpoint-3"]["tls"] == {"cert_file": f"{etc}/tls/endpoint-3.crt",
                                                        "key_file": f"{etc}/tls/endpoint-3.key"}
    files = {f["dest"]: f for f in secrets}
    # Header files hold the value as it is (the collector takes a string setting's file verbatim).
    assert files[f"{etc}/secrets/central.X-Scope-Token"]["content"] == "s3cr3t: value"
    assert files[f"{etc}/secrets/endpoint-2.Authorization"]["content"] == "Bearer tok"
    assert files[f"{etc}/secrets/endpoint-3.Authorization"]["content"] == "Basic YWdlbnQ6cHc="
    assert files[f"{etc}/tls/endpoint-3.key"]["mode"] == "0640"
    rendered = (tmp_path / "out" / "config.yaml").read_text()
    for secret in ("s3cr3t", "Bearer tok", "YWdlbnQ6cHc=", "KEY PEM"):
        assert secret not in rendered
    assert "s3cr3t" not in output


def test_no_store_fails_before_anything_changes_unless_the_debug_exporter_is_asked_for(tmp_path):
    _unused, _unused, output = render(tmp_path / "fail", NO_STORE, expect_ok=False)
    assert "no log store for conn-a" in output and "otel_collector_log_endpoints" in output, output[-3000:]
    config, _unused, _unused = render(tmp_path / "debug", NO_STORE, {"otel_collector_debug_exporter": True})
    assert config["exporters"] == {"debug": {"verbosity": "detailed"}}
    assert config["service"]["pipelines"]["logs/connector"]["exporters"] == ["debug"]
    # The agent's own lines (where the debug exporter prints) are never read back.
    drop = config["processors"]["filter/system"]["logs"]["log_record"][0]
    assert 'log.body["_SYSTEMD_UNIT"] == "otel_collector.service"' in drop


def test_variables_and_the_merged_config_change_what_they_say(tmp_path):
    config, _unused, _unused = render(tmp_path, VICTORIALOGS, {
        "otel_collector_connector_units": ["ilp-connector", "ilp-connector-2.service"],
        "otel_collector_system_log_priority": False, "otel_collector_queue_size": 5000,
        "otel_collector_metrics_listen_address": "10.0.0.11:9889",
        "otel_collector_victorialogs_stream_fields": ["service.name", "host.name"],
        "otel_collector_config": {"service": {"telemetry": {"logs": {"level": "debug"}}},
                                  "processors": {"batch": {"timeout": "5s"}}}})
    assert "logs/system" not in config["service"]["pipelines"] and "filter/system" not in config["processors"]
    keep = config["processors"]["filter/connector"]["logs"]["log_record"][0]
    assert '"ilp-connector.service"' in keep and '"ilp-connector-2.service"' in keep
    exporter = config["exporters"]["otlp_http/vl-1"]
    assert exporter["sending_queue"]["queue_size"] == 5000
    assert exporter["headers"] == {"VL-Stream-Fields": "service.name,host.name"}
    assert config["service"]["telemetry"]["logs"] == {"level": "debug"}
    assert config["processors"]["batch"] == {"timeout": "5s", "send_batch_size": 1024, "send_batch_max_size": 2048}
    prometheus = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    assert prometheus["host"] == "10.0.0.11" and prometheus["port"] == 9889


# --- judged by the release itself -------------------------------------------------------------

@pytest.fixture(scope="module")
def otelcol(tmp_path_factory) -> Path:
    if not ARCHIVE.exists():
        pytest.skip(f"{ARCHIVE} not built (python3 tools/release-mirror/build.py for the OpenTelemetry Collector)")
    folder = tmp_path_factory.mktemp("otelcol")
    with tarfile.open(ARCHIVE) as tar:
        tar.extract(tar.getmember("otelcol-contrib"), folder, filter="data")
    return folder / "otelcol-contrib"


SECRET_ENDPOINTS = {"otel_collector_log_endpoints": [
    {"url": "https://logs.example.net/insert/opentelemetry/v1/logs", "name": "central",
     "secret_headers": {"X-Scope-Token": "s3cr3t: value"}, "ca_cert": "CA", "tls": {"insecure_skip_verify": True}},
    {"url": "http://10.0.0.40:3100/otlp/v1/logs", "bearer_token": "tok"}]}


@pytest.mark.parametrize("case, inventory, extra, refused", [
    ("victorialogs", VICTORIALOGS, {}, None),
    ("loki", LOKI, {}, None),
    ("endpoints with secrets", VICTORIALOGS, SECRET_ENDPOINTS, None),
    ("debug only, no system lines", NO_STORE, {"otel_collector_debug_exporter": True,
                                               "otel_collector_system_log_priority": ""}, None),
    ("filelog added", VICTORIALOGS, {"otel_collector_config": {
        "receivers": {"file_log/app": {"include": ["/var/log/app/*.log"], "storage": "file_storage"}},
        "service": {"pipelines": {"logs/app": {"receivers": ["file_log/app"], "processors": ["batch"],
                                               "exporters": ["otlp_http/vl-1"]}}}}}, None),
    ("unknown key", VICTORIALOGS, {"otel_collector_config": {"receivers": {"journald": {"no_such_key": 1}}}},
     "no_such_key"),
    ("bad OTTL", VICTORIALOGS, {"otel_collector_config": {"processors": {"transform/system": {"log_statements": [
        {"context": "resource", "statements": ["set(resource.attributes[\"x\"], NoSuchFunction())"]}]}}}},
     "NoSuchFunction"),
    ("unconfigured exporter", VICTORIALOGS, {"otel_collector_config": {"service": {"pipelines": {
        "logs/system": {"exporters": ["otlp_http/nowhere"]}}}}}, "otlp_http/nowhere"),
])
def test_otelcol_validate_judges_what_the_role_writes(tmp_path, otelcol, case, inventory, extra, refused):
    render(tmp_path, inventory, extra)
    proc = subprocess.run([str(otelcol), "validate", f"--config={tmp_path / 'out' / 'config.yaml'}"],
                          capture_output=True, text=True, timeout=60, check=False)
    if refused is None:
        assert proc.returncode == 0, f"{case}: {proc.stderr}"
    else:
        assert proc.returncode != 0 and refused in proc.stderr, f"{case}: {proc.stderr}"


# --- the OTTL on a real collector ----------------------------------------------------------------

class _Sink(http.server.BaseHTTPRequestHandler):
    """OTLP/HTTP (JSON encoding) logs endpoint on loopback that keeps every request."""
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name  # pylint: disable=invalid-name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Sink.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _value(any_value: dict):
    return next(iter(any_value.values())) if any_value else None


def test_the_collector_turns_a_connector_json_line_into_the_record_the_stores_get(tmp_path, otelcol):
    """The role's processors, fed by a file_log receiver with journal entries as `journalctl -o json`
    writes them (the journald receiver's body), exported by the role's exporter (secret headers read
    from their files) over OTLP/HTTP to a loopback sink."""
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), _Sink)
    config, _unused, _unused = render(tmp_path, VICTORIALOGS, {"otel_collector_log_endpoints": [
        {"url": f"http://127.0.0.1:{sink.server_port}/v1/logs", "name": "sink",
         "headers": {"VL-Stream-Fields": VL_STREAM_FIELDS}, "bearer_token": "tok: #1",
         "secret_headers": {"X-Scope-Token": "s3cr3t: value"}}]})
    _Sink.received = []
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    journal = tmp_path / "journal.json"
    line = {"level": "error", "time": 1703620800123, "nodeId": "connector-a", "correlationId": "c-42",
            "component": "ccp", "msg": "route broadcast failed", "err": "Error: boom\n    at x",
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7"}
    entries = [
        {"MESSAGE": json.dumps(line), "PRIORITY": "6", "_SYSTEMD_UNIT": "ilp-connector.service",
         "SYSLOG_IDENTIFIER": "ilp-connector", "_PID": "4242", "ILP_NODE_ID": "connector-a"},
        {"MESSAGE": "    at Object.<anonymous> (/opt/x.js:1:1)", "PRIORITY": "6",
         "_SYSTEMD_UNIT": "ilp-connector.service", "SYSLOG_IDENTIFIER": "ilp-connector", "_PID": "4242",
         "ILP_NODE_ID": "connector-a"},
        {"MESSAGE": "{not json", "PRIORITY": "3", "_SYSTEMD_UNIT": "ilp-connector.service", "_PID": "4242"},
        {"MESSAGE": "Started ilp-connector.service.", "PRIORITY": "6", "_SYSTEMD_UNIT": "init.scope", "_PID": "1",
         "UNIT": "ilp-connector.service", "SYSLOG_IDENTIFIER": "systemd"},
    ]
    # Not a connector line: the connector pipeline drops it.
    other = {"MESSAGE": "Accepted publickey for root", "PRIORITY": "6", "_SYSTEMD_UNIT": "ssh.service", "_PID": "7"}
    journal.write_text("".join(json.dumps(e) + "\n" for e in [entries[0], other] + entries[1:]))
    metrics = _free_port()
    pipeline = config["service"]["pipelines"]["logs/connector"]
    test_config = {
        "receivers": {"file_log": {"include": [str(journal)], "start_at": "beginning",
                                   "operators": [{"type": "json_parser", "parse_to": "body"}]}},
        "processors": {name: config["processors"][name] for name in pipeline["processors"]},
        # The role's exporter (its secret headers read from their files), in JSON for the sink.
        "exporters": {"otlp_http": {"logs_endpoint": config["exporters"]["otlp_http/sink"]["logs_endpoint"],
                                    "headers": config["exporters"]["otlp_http/sink"]["headers"],
                                    "encoding": "json", "compression": "none"}},
        "service": {"pipelines": {"logs": {"receivers": ["file_log"], "processors": pipeline["processors"],
                                           "exporters": ["otlp_http"]}},
                    "telemetry": {"metrics": {"readers": [{"pull": {"exporter": {"prometheus": {
                        "host": "127.0.0.1", "port": metrics}}}}]}}}}
    config_file = tmp_path / "e2e.yaml"
    config_file.write_text(yaml.safe_dump(test_config))
    proc = subprocess.Popen([str(otelcol), f"--config={config_file}"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        records = []
        while time.monotonic() < deadline and len(records) < len(entries):
            time.sleep(0.5)
            records = [(rl["resource"], record) for request in _Sink.received
                       for rl in request["body"]["resourceLogs"] for sl in rl["scopeLogs"]
                       for record in sl["logRecords"]]
            assert proc.poll() is None, proc.stdout.read()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
        sink.shutdown()
    assert len(records) == len(entries), output
    headers = _Sink.received[0]["headers"]
    assert headers["vl-stream-fields"] == VL_STREAM_FIELDS
    assert headers["authorization"] == "Bearer tok: #1" and headers["x-scope-token"] == "s3cr3t: value"
    resource = {a["key"]: _value(a["value"]) for a in records[0][0]["attributes"]}
    assert resource["service.name"] == "ilp-connector" and resource["ilp.node_id"] == "connector-a"
    assert resource["host.name"] == "conn-a" and resource["deployment.environment.name"] == "lab"
    by_body = {_value(record["body"]): record for _unused, record in records}
    parsed = by_body["route broadcast failed"]
    attributes = {a["key"]: _value(a["value"]) for a in parsed["attributes"]}
    fields = ("level", "nodeId", "correlationId", "component", "traceId", "spanId", "err")
    assert {k: attributes[k] for k in fields} == {
        "level": "error", "nodeId": "connector-a", "correlationId": "c-42", "component": "ccp",
        "traceId": line["traceId"], "spanId": line["spanId"], "err": "Error: boom\n    at x"}
    assert parsed["severityText"] == "error" and parsed["severityNumber"] == 17
    assert parsed["traceId"] == line["traceId"] and parsed["spanId"] == line["spanId"]
    assert parsed["timeUnixNano"] == str(line["time"] * 1_000_000)
    assert attributes["systemd.unit"] == "ilp-connector.service" and str(attributes["process.pid"]) == "4242"
    # Not JSON: the message as it is, severity from PRIORITY, nodeId from the ILP_NODE_ID journal field.
    stack = by_body["    at Object.<anonymous> (/opt/x.js:1:1)"]
    stack_attributes = {a["key"]: _value(a["value"]) for a in stack["attributes"]}
    assert stack["severityText"] == "info" and stack["severityNumber"] == 9
    assert stack_attributes["nodeId"] == "connector-a" and "level" not in stack_attributes
    assert "traceId" not in stack or not stack["traceId"]
    broken = by_body["{not json"]
    assert broken["severityText"] == "err" and broken["severityNumber"] == 17
    assert "Started ilp-connector.service." in by_body and "Accepted publickey for root" not in by_body
