"""playbooks/validate.yml (ilp.observability.validate) against stand-ins of the running stack.

Small HTTP servers on 127.0.0.1 answer like Prometheus, Alertmanager, Jaeger's query API,
VictoriaLogs and Grafana; an inventory points every component's listen address at them. The
playbook runs from the collection (ilp.observability.validate) as users run it, prints one status
table (component | check | status | detail), exits 0 when everything is healthy and fails naming
every failed component otherwise. No host is connected to.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
RULE_GROUPS = ["ilp-connector-dialect-native", "ilp-connector-dialect-interledgerjs", "ilp-connector-process",
               "ilp-connector-sla", "ilp-connector-alerts", "ilp-stack-alerts", "ilp-logs-alerts", "ilp-probe-alerts"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stub:
    """An HTTP server answering GET paths from `routes` (path -> callable(query) -> (status, body))."""

    def __init__(self, routes):
        self.routes = routes
        self.seen = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                path, _unused, query = self.path.partition("?")
                stub.seen.append(path)
                route = stub.routes.get(path)
                status, body = route(urllib.parse.parse_qs(query)) if route else (404, {"error": "not found"})
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def ok(body):
    return lambda query: (200, body)


# Every target the test inventory has (the scrape catalog's jobs whose groups have hosts), by job
# and host name: what validate expects Prometheus to list.
INVENTORY_TARGETS = [("prometheus", "mon"), ("node", "mon"), ("node", "c1"), ("node", "c2"), ("alertmanager", "mon"),
                     ("connector", "c1"), ("connector", "c2"), ("grafana", "mon"), ("jaeger", "mon"),
                     ("otel_collector", "mon"), ("otel_collector", "c1"), ("otel_collector", "c2"), ("victorialogs", "mon")]


def prometheus_routes(down=False, missing=()):
    targets = [{"labels": {"job": job, "instance": host}, "scrapePool": job, "scrapeUrl": f"http://{host}/metrics",
                "health": "down" if down and (job, host) == ("node", "c1") else "up",
                "lastError": "connection refused" if down and (job, host) == ("node", "c1") else "",
                "lastScrape": "2026-11-29T03:49:41Z"} for job, host in INVENTORY_TARGETS if (job, host) not in missing]
    groups = [{"name": name, "file": f"/etc/prometheus/rules/{name}.yml", "interval": 15, "evaluationTime": 0.001,
               "lastEvaluation": "2026-11-29T03:49:41Z",
               "rules": [{"name": "x", "health": "ok", "type": "recording", "lastError": ""}]} for name in RULE_GROUPS]

    def query(params):
        expr = params["query"][0]
        result = []
        if "otelcol_receiver_accepted_spans_total" in expr:
            result = [{"metric": {"instance": "mon"}, "value": [time.time(), "2.5"]}]
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}
    return {"/api/v1/targets": ok({"status": "success", "data": {"activeTargets": targets, "droppedTargets": []}}),
            "/api/v1/rules": ok({"status": "success", "data": {"groups": groups}}),
            "/api/v1/query": query}


def alertmanager_routes(peers=("mon",)):
    status = {"cluster": {"name": "mon", "status": "ready", "peers": [{"name": p, "address": "x"} for p in peers]},
              "config": {"original": "route:\n  receiver: x\n"}, "versionInfo": {"version": "0.34.2"}}
    return {"/api/v2/status": ok(status),
            "/metrics": ok(b"alertmanager_config_last_reload_successful 1\n")}


def jaeger_routes():
    return {"/api/services": ok({"data": ["ilp-connector"], "total": 1}),
            "/api/traces": ok({"data": [{"traceID": "abc", "spans": []}]})}


def victorialogs_routes(stale=()):
    def logsql(params):
        rows = []
        for host in ("c1", "c2"):
            age = 900 if host in stale else 3
            newest = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - age))
            rows.append(json.dumps({"host.name": host, "newest": newest}))
        return 200, ("\n".join(rows) + "\n").encode()
    return {"/select/logsql/query": logsql}


def grafana_routes():
    return {"/api/health": ok({"database": "ok", "version": "12.3.0"}),
            "/api/datasources": ok([{"uid": "prometheus", "name": "Prometheus", "type": "prometheus"}]),
            "/api/datasources/uid/prometheus/health": ok({"status": "OK", "message": "Successfully queried"})}


@pytest.fixture
def stack(request):
    """Start the stand-ins with the routes the test asks for; yields them by component."""
    stubs = {}

    def start(**overrides):
        routes = {"prometheus": prometheus_routes(), "alertmanager": alertmanager_routes(), "jaeger": jaeger_routes(),
                  "victorialogs": victorialogs_routes(), "grafana": grafana_routes()}
        routes.update(overrides)
        for name, component_routes in routes.items():
            stubs[name] = Stub(component_routes)
        return stubs
    yield start
    for stub in stubs.values():
        stub.close()


def inventory(tmp_path: Path, stubs) -> Path:
    port = {name: stub.port for name, stub in stubs.items()}
    mon = {"validate_address": "127.0.0.1",
           "prometheus_listen_address": f"0.0.0.0:{port['prometheus']}",
           "alertmanager_listen_address": f":{port['alertmanager']}",
           "jaeger_query_listen_address": f"127.0.0.1:{port['jaeger']}",
           "victorialogs_listen_address": f"0.0.0.0:{port['victorialogs']}",
           "grafana_listen_port": port["grafana"], "grafana_admin_password": "admin-secret"}
    data = {"all": {"children": {
        "prometheus": {"hosts": {"mon": mon}}, "alertmanager": {"hosts": {"mon": {}}}, "jaeger": {"hosts": {"mon": {}}},
        "victorialogs": {"hosts": {"mon": {}}}, "grafana": {"hosts": {"mon": {}}}, "loki": {"hosts": {}},
        "connectors": {"vars": {"connector_otel_enabled": True}, "hosts": {"c1": {}, "c2": {}}}}}}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_validate(tmp_path: Path, stubs) -> subprocess.CompletedProcess:
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    return subprocess.run([ansible, "ilp.observability.validate", "-i", str(inventory(tmp_path, stubs))],
                          capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"), ANSIBLE_NOCOLOR="1",
                                   ANSIBLE_FORCE_COLOR="false", ANSIBLE_LOCALHOST_WARNING="false",
                                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", no_proxy="127.0.0.1", NO_PROXY="127.0.0.1"))


def table_lines(output: str) -> list[str]:
    return [line.strip().strip('",') for line in output.splitlines() if " | " in line]


def test_a_healthy_stack_passes_with_one_table(tmp_path, stack):
    stubs = stack()
    proc = run_validate(tmp_path, stubs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = table_lines(proc.stdout)
    assert [cell.strip() for cell in lines[0].split(" | ")] == ["component", "check", "status", "detail"]
    rows = {tuple(cell.strip() for cell in line.split(" | ")[:3]) for line in lines[1:]}
    assert rows == {("prometheus (mon)", "targets up", "OK"), ("prometheus (mon)", "rules healthy", "OK"),
                    ("alertmanager (mon)", "config loaded", "OK"), ("alertmanager (mon)", "cluster complete", "OK"),
                    ("alertmanager (mon)", "notifications delivered", "OK"),
                    ("jaeger (mon)", "spans received", "OK"), ("victorialogs (mon)", "connector logs fresh", "OK"),
                    ("grafana (mon)", "datasources healthy", "OK")}
    assert "admin-secret" not in proc.stdout
    # Every check reached its stand-in, through the URLs the inventory's listen addresses give.
    assert "/api/v1/targets" in stubs["prometheus"].seen and "/api/v1/query" in stubs["prometheus"].seen
    assert "/api/traces" in stubs["jaeger"].seen and "/metrics" in stubs["alertmanager"].seen
    assert "/api/traces" in stubs["jaeger"].seen and "/api/datasources/uid/prometheus/health" in stubs["grafana"].seen


def test_every_failed_component_is_named(tmp_path, stack):
    stubs = stack(prometheus=prometheus_routes(down=True), alertmanager=alertmanager_routes(peers=("mon", "ghost")),
                  victorialogs=victorialogs_routes(stale=("c2",)))
    proc = run_validate(tmp_path, stubs)
    assert proc.returncode != 0
    rows = {tuple(cell.strip() for cell in line.split(" | ")[:3]) for line in table_lines(proc.stdout)[1:]}
    assert ("prometheus (mon)", "targets up", "FAIL") in rows
    assert ("alertmanager (mon)", "cluster complete", "FAIL") in rows
    assert ("alertmanager (mon)", "config loaded", "OK") in rows
    assert ("alertmanager (mon)", "notifications delivered", "OK") in rows
    assert ("victorialogs (mon)", "connector logs fresh", "FAIL") in rows
    assert ("grafana (mon)", "datasources healthy", "OK") in rows
    assert "newest ilp-connector line of c2 is" in proc.stdout
    assert ("3 check(s) failed: prometheus on mon (targets up); alertmanager on mon (cluster complete); "
            "victorialogs on mon (connector logs fresh)") in proc.stdout


def test_a_target_of_the_inventory_that_prometheus_lacks_is_named(tmp_path, stack):
    """Every other target up, but Prometheus lists none for Jaeger on mon (just restarted, or the
    job lost): validate expects every inventory target by name."""
    stubs = stack(prometheus=prometheus_routes(missing={("jaeger", "mon")}))
    proc = run_validate(tmp_path, stubs)
    assert proc.returncode != 0
    rows = {tuple(cell.strip() for cell in line.split(" | ")[:3]) for line in table_lines(proc.stdout)[1:]}
    assert ("prometheus (mon)", "targets up", "FAIL") in rows
    assert "no active target for job 'jaeger' instance 'mon'" in proc.stdout


def test_an_unreachable_service_and_a_stack_without_traces(tmp_path, stack):
    """Alertmanager not answering fails its three rows with the connection error; connectors
    without OpenTelemetry skip the Jaeger check."""
    stubs = stack()
    stubs["alertmanager"].close()
    path = inventory(tmp_path, stubs)
    data = yaml.safe_load(path.read_text())
    data["all"]["children"]["connectors"]["vars"]["connector_otel_enabled"] = False
    path.write_text(yaml.safe_dump(data))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(TOP / "playbooks" / "validate.yml"), "-i", str(path)],
                          capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"), ANSIBLE_NOCOLOR="1",
                                   no_proxy="127.0.0.1", NO_PROXY="127.0.0.1"))
    assert proc.returncode != 0
    rows = {tuple(cell.strip() for cell in line.split(" | ")[:3]): line for line in table_lines(proc.stdout)[1:]}
    for check in ("config loaded", "cluster complete", "notifications delivered"):
        assert "Cannot connect to Alertmanager" in rows[("alertmanager (mon)", check, "FAIL")]
    assert "connector_otel_enabled" in rows[("jaeger (mon)", "spans received", "SKIP")]
    assert "3 check(s) failed: alertmanager on mon (config loaded); alertmanager on mon (cluster complete); " \
           "alertmanager on mon (notifications delivered)" in proc.stdout
