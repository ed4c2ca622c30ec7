#!/usr/bin/env python3
"""Print what runs where in the lab, the validate status, and every UI and API this machine can open.

    report.py inventories/lab/hosts.yml [lab-traffic.json] [--validate lab-validate.json]
              [--validate-rc N] [--screenshot build/x.png --screenshot-status TEXT]

For every lab host: its address on the project network and the ilp.observability services that
are active on it (systemd). With the sender's summary (tools/ilp-traffic --json), also what the
sender saw and what Prometheus counted on the first connector's child account. Where
VictoriaLogs runs: the number of connector log lines it stores, per host, and a query link.
Where Jaeger runs: the number of traces it stores, and the UI and API links of one real
payment's trace (one of the sender's trace ids when Jaeger kept one, else the connectors' trace
with the most spans).

With --validate, the status table of playbooks/validate.yml from that run's JSON output
(ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json) and its failure message. With --screenshot, the
path of the connector packet-rate graph tools/lab/screenshot.py wrote (or why there is none).

Last, one table of every UI and API of the inventory's groups: URL, HTTP status, OK or FAIL.
Hosts come from the inventory (addresses from docker on the project network), ports from the
inventory's variables over the roles' defaults (roles/*/defaults), credentials from the
inventory. A UI page that answers with a placeholder (a binary built without its UI assets)
is a FAIL. Exit status 1 when an API, health or metrics endpoint fails; UI pages are reported,
not counted, as the release mirror builds some programs without their UI.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

TOP = Path(__file__).resolve().parents[2]

# The systemd units of the collection's services, in the order the report lists them.
UNITS = ["node_exporter", "otel_collector", "ilp-connector", "prometheus", "alertmanager", "blackbox_exporter",
         "victorialogs", "loki", "jaeger", "grafana"]

# The UIs and APIs, per inventory group: component, kind (ui, api, health, metrics), role whose
# defaults hold the port, variable holding the listen address or port, path, variable of the
# TLS certificate (https when set), variable of the basic auth users (first user is used).
# group "connectors" rows depend on connector_implementation (the scrape catalog's variants).
ENDPOINTS = [
    ("prometheus", "Prometheus", "ui", "prometheus", "prometheus_listen_address", "/query",
     "prometheus_tls_cert", "prometheus_basic_auth_users"),
    ("prometheus", "Prometheus", "api", "prometheus", "prometheus_listen_address", "/api/v1/query?query=up",
     "prometheus_tls_cert", "prometheus_basic_auth_users"),
    ("alertmanager", "Alertmanager", "ui", "alertmanager", "alertmanager_listen_address", "/",
     "alertmanager_tls_cert", "alertmanager_basic_auth_users"),
    ("alertmanager", "Alertmanager", "api", "alertmanager", "alertmanager_listen_address", "/api/v2/status",
     "alertmanager_tls_cert", "alertmanager_basic_auth_users"),
    ("jaeger", "Jaeger", "ui", "jaeger", "jaeger_query_listen_address", "/", "jaeger_query_tls_cert", ""),
    ("jaeger", "Jaeger", "api", "jaeger", "jaeger_query_listen_address", "/api/v3/services", "jaeger_query_tls_cert", ""),
    ("jaeger", "Jaeger", "health", "jaeger", "jaeger_health_listen_address", "/status", "", ""),
    ("blackbox", "blackbox_exporter", "ui", "blackbox_exporter", "blackbox_exporter_listen_address", "/",
     "blackbox_exporter_tls_cert", "blackbox_exporter_basic_auth_users"),
    ("blackbox", "blackbox_exporter", "metrics", "blackbox_exporter", "blackbox_exporter_listen_address", "/metrics",
     "blackbox_exporter_tls_cert", "blackbox_exporter_basic_auth_users"),
    ("victorialogs", "VictoriaLogs", "ui", "victorialogs", "victorialogs_listen_address", "/select/vmui/", "", ""),
    ("victorialogs", "VictoriaLogs", "api", "victorialogs", "victorialogs_listen_address",
     "/select/logsql/query?" + urllib.parse.urlencode({"query": "_time:5m", "limit": 1}), "", ""),
    ("loki", "Loki", "health", "loki", "loki_http_listen_address", "/ready", "", ""),
    ("loki", "Loki", "api", "loki", "loki_http_listen_address",
     "/loki/api/v1/query?" + urllib.parse.urlencode({"query": "sum(count_over_time({host_name=~\".+\"}[5m]))"}), "", ""),
    ("grafana", "Grafana", "ui", "grafana", "grafana_listen_port", "/login", "grafana_tls_cert", ""),
    ("grafana", "Grafana", "api", "grafana", "grafana_listen_port", "/api/health", "grafana_tls_cert", ""),
    ("all", "node_exporter", "metrics", "node_exporter", "node_exporter_listen_address", "/metrics",
     "node_exporter_tls_cert", "node_exporter_basic_auth_users"),
    ("otel_collector", "otel_collector", "health", "otel_collector", "otel_collector_health_listen_address", "/", "", ""),
    ("otel_collector", "otel_collector", "metrics", "otel_collector", "otel_collector_metrics_listen_address", "/metrics", "", ""),
]
CONNECTOR_ENDPOINTS = {
    "interledgerjs": [("health", "connector_admin_api_port", "/status"), ("metrics", "connector_admin_api_port", None)],
    "native": [("health", "connector_health_check_port", "/health/ready"), ("metrics", "connector_health_check_port", None)],
}
# What a page says when its binary was built without the UI assets.
PLACEHOLDERS = [b"not the Jaeger UI", b"Error opening React index.html"]


@dataclass
class Endpoint:  # pylint: disable=too-many-instance-attributes; one row of the table, its cells
    """One row of the UI and API table."""
    component: str
    kind: str
    host: str
    url: str
    auth: tuple[str, str] | None = None
    status: str = ""
    result: str = ""
    note: str = ""


def docker(*args: str) -> str:
    """The output of a docker command."""
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def inventory(path: str) -> dict:
    """The inventory as ansible-inventory --list gives it (variables not templated)."""
    out = subprocess.run(["ansible-inventory", "-i", path, "--list"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def group_hosts(inv: dict) -> dict[str, list[str]]:
    """Group -> its hosts, children's hosts included (ansible-inventory --list's layout)."""
    def members(group: str, seen: set[str]) -> set[str]:
        if group in seen:
            return set()
        seen.add(group)
        entry = inv.get(group) or {}
        found = set(entry.get("hosts") or [])
        for child in entry.get("children") or []:
            found |= members(child, seen)
        return found
    groups = {name: sorted(members(name, set())) for name in inv if name != "_meta"}
    groups["all"] = sorted((inv.get("_meta") or {}).get("hostvars", {}).keys() | set(groups.get("all", [])))
    return groups


def role_defaults(role: str, roles: Path = TOP / "roles") -> dict:
    """Every variable of a role's defaults files (defaults/main.yml, defaults/main/*.yml)."""
    base = roles / role / "defaults"
    values: dict = {}
    for path in [base / "main.yml", *sorted((base / "main").glob("*.yml"))]:
        if path.is_file():
            values.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return values


def templated(value) -> bool:
    """Whether an inventory value is a template (ansible-inventory does not render them)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def listen_host_port(value) -> tuple[str, str]:
    """"0.0.0.0:9090", ":9090", "[::]:9090", "10.0.0.5:9090" or 9090 -> (host or "", port)."""
    text = str(value).strip()
    if re.fullmatch(r"[0-9]+", text):
        return "", text
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    return ("" if host in ("", "0.0.0.0", "::", "*") else host), port


def variable(name: str, hostvars: dict, defaults: dict):
    """The inventory's value of a variable when it has a literal one, else the role's default."""
    value = hostvars.get(name)
    if value is None or templated(value):
        value = defaults.get(name)
    return value


def first_user(users) -> tuple[str, str] | None:
    """The first user and password of a basic auth users mapping, when literal."""
    if isinstance(users, dict) and users:
        user, password = next(iter(users.items()))
        if not templated(user) and isinstance(password, str) and not templated(password):
            return str(user), password
    return None


def endpoint_url(listen, path: str, https: bool, address: str) -> str:
    """The URL of a service listening on `listen` (its own address if bound to one this machine
    can reach, else the host's `address`)."""
    bound, port = listen_host_port(listen)
    if bound and not bound.startswith("127.") and bound != "::1":
        address = bound
    address = f"[{address}]" if ":" in address else address
    return f"{'https' if https else 'http'}://{address}:{port}{path}"


def host_row(entry: tuple, host: str, hvars: dict, defaults: dict, address: str) -> Endpoint:
    """The row of one ENDPOINTS entry on one host."""
    component, kind, port_var, path, tls_var, auth_var = entry[1], entry[2], entry[4], entry[5], entry[6], entry[7]
    listen = variable(port_var, hvars, defaults)
    if port_var == "grafana_listen_port":
        listen = f"{variable('grafana_listen_address', hvars, defaults)}:{listen}"
    https = bool(tls_var and variable(tls_var, hvars, defaults))
    auth = first_user(variable(auth_var, hvars, defaults)) if auth_var else None
    return Endpoint(component, kind, host, endpoint_url(listen, path, https, address), auth)


def endpoints(inv: dict, addresses: dict[str, str], roles: Path = TOP / "roles") -> list[Endpoint]:
    """Every UI and API row of the inventory's groups; addresses: host -> address this machine reaches."""
    groups = group_hosts(inv)
    hostvars = (inv.get("_meta") or {}).get("hostvars", {})
    # The log agent runs on every host when the inventory has a log store (playbooks/otel_collector.yml).
    groups["otel_collector"] = groups["all"] if groups.get("loki") or groups.get("victorialogs") else []
    defaults = {role: role_defaults(role, roles) for role in {entry[3] for entry in ENDPOINTS} | {"connector"}}
    rows = [host_row(entry, host, hostvars.get(host, {}), defaults[entry[3]], addresses.get(host, host))
            for entry in ENDPOINTS for host in groups.get(entry[0], [])]
    for host in groups.get("connectors", []):
        hvars = hostvars.get(host, {})
        implementation = variable("connector_implementation", hvars, defaults["connector"]) or "interledgerjs"
        for kind, port_var, path in CONNECTOR_ENDPOINTS.get(implementation, CONNECTOR_ENDPOINTS["interledgerjs"]):
            path = path or variable("connector_metrics_path", hvars, defaults["connector"]) or "/metrics"
            listen = variable(port_var, hvars, defaults["connector"])
            rows.append(Endpoint("ilp-connector", kind, host, endpoint_url(listen, path, False, addresses.get(host, host))))
    return rows


def fetch(url: str, auth: tuple[str, str] | None = None, timeout: float = 5) -> tuple[str, bytes]:
    """HTTP status (or why there is none) and the start of the body; redirects followed, TLS unverified."""
    request = urllib.request.Request(url)
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:
            return str(resp.status), resp.read(65536)
    except urllib.error.HTTPError as exc:
        return str(exc.code), exc.read(65536) if exc.fp else b""
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"unreachable ({reason})", b""


def judge(row: Endpoint, status: str, body: bytes) -> Endpoint:
    """OK for a 2xx answer, FAIL otherwise; a UI page that is a placeholder or says its assets
    are missing is a FAIL whatever its status."""
    row.status = status if status.isdigit() else "-"
    row.result = "OK" if status.isdigit() and 200 <= int(status) < 300 else "FAIL"
    if not status.isdigit():  # no HTTP answer: why, in the note
        row.note = status
    if row.kind == "ui" and any(marker in body for marker in PLACEHOLDERS):
        row.result, row.note = "FAIL", "built without the UI assets" + (", placeholder page" if row.result == "OK" else "")
    elif row.kind == "ui" and status == "404":
        row.note = "no UI in this binary"
    if row.auth:
        row.note = ", ".join(filter(None, [f"basic auth as {row.auth[0]}", row.note]))
    return row


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell, the last one not padded."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers) - 1)]

    def line(cells):
        return " | ".join([*(f"{str(c):<{w}}" for c, w in zip(cells, widths)), str(cells[-1])]).rstrip()
    return [line(headers), "-+-".join(["-" * w for w in widths] + ["-" * max(6, len(headers[-1]))]),
            *(line(r) for r in rows)]


def endpoint_table(rows: list[Endpoint]) -> list[str]:
    """The UI and API table's lines."""
    return table(["component", "kind", "host", "URL", "HTTP", "result", "note"],
                 [[r.component, r.kind, r.host, r.url, r.status, r.result, r.note] for r in rows])


def validate_results(data: dict) -> tuple[list[str], str, list[str]]:
    """From validate.yml's JSON output: the table's lines, the failure message, and what else
    failed (a task that stopped the playbook before its table)."""
    table_lines: list[str] = []
    failure = ""
    errors = []
    for task in (task for play in data.get("plays", []) for task in play.get("tasks", [])):
        name = task.get("task", {}).get("name", "")
        for host, result in (task.get("hosts") or {}).items():
            message = " ".join(str(result.get("msg", "")).split())
            if name == "Show the status of every check" and isinstance(result.get("msg"), list):
                table_lines = result["msg"]
            elif name == "Fail naming every failed component" and result.get("failed"):
                failure = message
            elif result.get("unreachable") or (result.get("failed") and not name.startswith("Check")):
                # The checks' failures are the table's rows; anything else stopped the playbook.
                errors.append(f"{name} on {host}: {message}")
    return table_lines, failure, errors


def validate_section(path: str, exit_code: int | None) -> list[str]:
    """The status table and the failure message of validate.yml's JSON output (json callback)."""
    rc_text = "" if exit_code is None else f" (ansible-playbook exit {exit_code})"
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        data = json.loads(text[text.index("{"):])
    except (OSError, ValueError):
        return [f"validate (playbooks/validate.yml): FAILED{rc_text}, no JSON result in {path}"]
    table_lines, failure, errors = validate_results(data)
    passed = exit_code == 0 if exit_code is not None else not failure and not errors and bool(table_lines)
    out = [f"validate (playbooks/validate.yml): {'PASSED' if passed else 'FAILED'}{rc_text}"]
    out += [f"  {line}" for line in table_lines] or ["  (no status table: the playbook stopped before it)"]
    if failure:
        out.append(f"  {failure}")
    out += [f"  {error}" for error in errors]
    return out


def query(base: str, promql: str) -> list:
    """The result of an instant PromQL query."""
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)["data"]["result"]


def traffic_summary(base: str, traffic_file: str) -> list[str]:
    """The sender's packets against Prometheus' count of them on connector-1 (waits for a scrape)."""
    try:
        with open(traffic_file, encoding="utf-8") as handle:
            sent = json.load(handle)
    except (OSError, ValueError):
        return []
    packets = sent.get("packets", {})
    out = [f"    ILP payments: {sent.get('payments', {}).get('completed', 0)}/{sent.get('payments', {}).get('attempted', 0)}"
           f" completed, {packets.get('attempted', 0)} packets sent ({packets.get('fulfilled', 0)} fulfilled,"
           f" {packets.get('rejected', 0)} rejected) in {sent.get('elapsed_seconds')} s"]
    promql = 'sum by (nodeId, result) (ilp_connector_incoming_ilp_packets{account="kids"})'
    deadline = time.monotonic() + 30
    counted = {}
    while time.monotonic() < deadline:
        try:
            counted = {(r["metric"].get("nodeId"), r["metric"].get("result")): int(float(r["value"][1]))
                       for r in query(base, promql)}
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            counted = {}
        if sum(v for key, v in counted.items() if key[0] == "connector-1") >= packets.get("attempted", 0):
            break
        time.sleep(2)
    for (node, result), value in sorted(counted.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        out.append(f"    Prometheus: {node} child account, {result}: {value} packets")
    if counted:
        out.append("    (counters since each connector started: ilp-connector counts one fulfilled packet on its")
        out.append("     child account at startup, before any client; connector-2's also count the receiver's replies)")
    return out


def prometheus_summary(base: str) -> list[str]:
    """Targets by health and the alerts firing now, from Prometheus' API. Right after a
    (re)start Prometheus has not scraped yet: wait up to 30 s for every target's first scrape."""
    deadline = time.monotonic() + 30
    try:
        while True:
            with urllib.request.urlopen(f"{base}/api/v1/targets?state=active", timeout=5) as resp:
                targets = json.load(resp)["data"]["activeTargets"]
            if (targets and all(t["health"] != "unknown" for t in targets)) or time.monotonic() > deadline:
                break
            time.sleep(2)
        with urllib.request.urlopen(f"{base}/api/v1/alerts", timeout=5) as resp:
            alerts = json.load(resp)["data"]["alerts"]
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        return [f"    (Prometheus API not readable: {exc})"]
    out = []
    for job in sorted({t["labels"]["job"] for t in targets}):
        mine = [t for t in targets if t["labels"]["job"] == job]
        up = sum(t["health"] == "up" for t in mine)
        out.append(f"    scrape job {job:<20} {up}/{len(mine)} up")
    firing = sorted({a["labels"]["alertname"] for a in alerts if a["state"] == "firing"})
    out.append(f"    alerts firing: {', '.join(firing) or 'none'}")
    return out


def get_json(url: str, timeout: float = 10):
    """The JSON document at a URL."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.load(resp)


def jaeger_traces(base: str) -> dict[str, dict]:
    """Every trace Jaeger stores (trace id -> trace of its v1 JSON API), over all its services."""
    traces: dict[str, dict] = {}
    for service in get_json(f"{base}/api/services").get("data") or []:
        params = urllib.parse.urlencode({"service": service, "lookback": "720h", "limit": 100000})
        for trace in get_json(f"{base}/api/traces?{params}", timeout=30).get("data") or []:
            traces.setdefault(trace["traceID"], trace)
    return traces


def trace_services(trace: dict) -> list[str]:
    """The services of a trace's spans."""
    processes = trace.get("processes") or {}
    return sorted({processes.get(span.get("processID"), {}).get("serviceName", "?") for span in trace.get("spans", [])})


def jaeger_summary(base: str, traffic_file: str) -> list[str]:
    """Traces stored, and the links of one real payment's trace. Jaeger decides which traces to
    keep 10 s (jaeger_tail_sampling_decision_wait) after their first span: wait up to 40 s."""
    try:
        with open(traffic_file, encoding="utf-8") as handle:
            sent = json.load(handle).get("traces") or {}
    except (OSError, ValueError, AttributeError):
        sent = {}
    sent_ids = [i for i in sent.get("ids") or [] if i]
    if sent_ids:  # the last payments' decisions: 10 s after the sender finished, and a batch
        time.sleep(max(0.0, os.path.getmtime(traffic_file) + 15 - time.time()))
    deadline = time.monotonic() + (40 if sent_ids else 0)
    while True:
        try:
            traces = jaeger_traces(base)
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            return [f"    (Jaeger API not readable: {exc})"]
        payments = [traces[i] for i in sent_ids if i in traces]
        connectors = [t for t in traces.values() if any(s.startswith("ilp-connector") for s in trace_services(t))]
        if payments or time.monotonic() > deadline:
            break
        time.sleep(3)
    out = [f"    traces stored: {len(traces)} ({len(connectors)} with ilp-connector spans)"]
    if sent_ids:
        failed = set(sent.get("failed_ids") or [])
        out.append(f"    the sender's payments: {len(sent_ids)} traced ({len(failed)} failed), {len(payments)} of them"
                   f" kept by Jaeger ({len([t for t in payments if t['traceID'] in failed])} failed)")
    # Prefer a payment the sender made in this run, then the connectors' richest trace.
    pick = max(payments, key=lambda t: len(t.get("spans", [])), default=None) or \
        max(connectors, key=lambda t: len(t.get("spans", [])), default=None)
    if pick is None:
        out.append("    no payment trace stored yet (connector_otel_enabled off, or no payment sent)")
        return out
    trace_id = pick["traceID"]
    out.append(f"    a payment's trace: {len(pick.get('spans', []))} spans from {', '.join(trace_services(pick))}")
    out.append(f"      UI  {base}/trace/{trace_id}")
    out.append(f"      API {base}/api/v3/traces/{trace_id}")
    return out


def victorialogs_summary(base: str) -> list[str]:
    """Connector log lines stored, per host (the agents ship within seconds: wait up to 15 s for some)."""
    logsql = '_time:24h service.name:"ilp-connector" | stats by (host.name) count() lines'
    deadline = time.monotonic() + 15
    while True:
        try:
            data = urllib.parse.urlencode({"query": logsql}).encode()
            with urllib.request.urlopen(f"{base}/select/logsql/query", data=data, timeout=10) as resp:
                rows = [json.loads(line) for line in resp.read().decode().splitlines() if line.strip()]
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return [f"    (VictoriaLogs API not readable: {exc})"]
        if rows or time.monotonic() > deadline:
            break
        time.sleep(2)
    total = sum(int(r.get("lines", 0)) for r in rows)
    out = [f"    connector log lines stored: {total}"
           + "".join(f", {r.get('host.name')}: {r.get('lines')}" for r in sorted(rows, key=lambda r: str(r.get("host.name"))))]
    errors = urllib.parse.quote('service.name:"ilp-connector" level:error')
    out.append(f"      errors: {base}/select/vmui/#/?query={errors}")
    return out


def base_of(rows: list[Endpoint], component: str, kind: str) -> str | None:
    """scheme://host:port of the first row of a component, for the summaries."""
    for row in rows:
        if row.component == component and row.kind == kind:
            parts = urllib.parse.urlsplit(row.url)
            return f"{parts.scheme}://{parts.netloc}"
    return None


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("inventory", nargs="?", default="inventories/lab/hosts.yml")
    parser.add_argument("traffic", nargs="?", default="", help="tools/ilp-traffic's --json summary")
    parser.add_argument("--validate", help="validate.yml's output with the ansible.builtin.json callback")
    parser.add_argument("--validate-rc", type=int, help="validate.yml's exit status")
    parser.add_argument("--screenshot", help="the PNG tools/lab/screenshot.py wrote")
    parser.add_argument("--screenshot-status", default="", help="one line on the screenshot (why there is none)")
    parser.add_argument("--base-url", metavar="COMPONENT", help="only print the first scheme://host:port of a"
                        " component of the table (Prometheus, Jaeger, ...) and exit")
    return parser.parse_args(argv)


def lab_addresses(hosts: list[str]) -> dict[str, str]:
    """Each host's address on the project network (ILP_TEST_NETWORK), from docker."""
    network = os.environ.get("ILP_TEST_NETWORK", "ilp-observability")
    addresses = {}
    for host in hosts:
        nets = json.loads(docker("inspect", host))[0]["NetworkSettings"]["Networks"] or {}
        addresses[host] = (nets.get(network) or next(iter(nets.values()), {})).get("IPAddress", "?")
    return addresses


def host_lines(addresses: dict[str, str]) -> list[str]:
    """One line per host: address, Debian release, the collection's active services."""
    lines = []
    for host, address in addresses.items():
        release = docker("exec", host, "cat", "/etc/debian_version").strip()
        states = subprocess.run(["docker", "exec", host, "systemctl", "is-active", *UNITS],
                                check=False, capture_output=True, text=True).stdout.split()
        active = [unit for unit, state in zip(UNITS, states) if state == "active"]
        lines.append(f"{host}  {address}  (Debian {release})  active: {', '.join(active) or 'none'}")
    return lines


def summaries(rows: list[Endpoint], traffic_file: str) -> list[str]:
    """What Prometheus, VictoriaLogs and Jaeger hold, where the inventory has them."""
    lines = []
    for component, summary in [("Prometheus", lambda base: prometheus_summary(base) + traffic_summary(base, traffic_file)),
                               ("VictoriaLogs", victorialogs_summary),
                               ("Jaeger", lambda base: jaeger_summary(base, traffic_file))]:
        base = base_of(rows, component, "api")
        if base:
            lines += ["", component] + summary(base)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the report; 1 when an API, health or metrics URL fails."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    inv = inventory(args.inventory)
    addresses = lab_addresses(sorted((inv.get("_meta") or {}).get("hostvars", {}).keys()))
    rows = endpoints(inv, addresses)
    if args.base_url:
        base = next(filter(None, (base_of(rows, args.base_url, kind) for kind in ("api", "ui", "health", "metrics"))), None)
        print(base or "")
        return 0 if base else 1

    lines = ["", "ilp.observability lab", "=" * 21, *host_lines(addresses)]
    for row in rows:
        judge(row, *fetch(row.url, row.auth))
    lines += summaries(rows, args.traffic)
    if args.screenshot or args.screenshot_status:
        lines += ["", "Screenshot of the connectors' packet rate (tools/lab/screenshot.py)",
                  "    " + "  ".join(filter(None, [args.screenshot, args.screenshot_status]))]
    if args.validate:
        lines += [""] + validate_section(args.validate, args.validate_rc)

    failed_ui = [r for r in rows if r.kind == "ui" and r.result != "OK"]
    failed = [r for r in rows if r.kind != "ui" and r.result != "OK"]
    lines += ["", f"UIs and APIs ({len(rows)} URLs, {len(failed)} API/health/metrics and {len(failed_ui)} UI failing;"
              " open them from this machine)", *endpoint_table(rows), ""]
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
