"""tools/lab/report.py: the UI and API rows come from the inventory and the roles' defaults, each
is judged OK or FAIL from a real HTTP answer, and validate.yml's JSON output becomes its table."""
from __future__ import annotations

import base64
import http.server
import importlib.util
import json
import sys
import threading
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lab_report", TOP / "tools/lab/report.py")
report = importlib.util.module_from_spec(spec)
sys.modules["lab_report"] = report  # dataclasses look their module up
spec.loader.exec_module(report)

ADDRESSES = {"mon": "10.1.0.2", "c1": "10.1.0.3", "c2": "10.1.0.4"}


def lab_inventory(**hostvars) -> dict:
    """ansible-inventory --list's layout: monitoring groups as children of all, two connectors."""
    groups = ["prometheus", "alertmanager", "jaeger", "victorialogs", "blackbox"]
    inv = {
        "_meta": {"hostvars": {"mon": {}, "c1": {"connector_node_id": "connector-1"}, "c2": {}}},
        "all": {"children": ["ungrouped", "monitoring", *groups, "connectors", "tigerbeetle"]},
        "monitoring": {"hosts": ["mon"]},
        "connectors": {"hosts": ["c1", "c2"]},
        "tigerbeetle": {},
    }
    inv.update({group: {"hosts": ["mon"]} for group in groups})
    for host, values in hostvars.items():
        inv["_meta"]["hostvars"].setdefault(host, {}).update(values)
    return inv


def urls(rows, component=None, kind=None):
    return [r.url for r in rows if component in (None, r.component) and kind in (None, r.kind)]


def test_group_hosts_follows_children():
    inv = {"_meta": {"hostvars": {"a": {}, "b": {}}}, "all": {"children": ["x"]},
           "x": {"children": ["y"], "hosts": ["a"]}, "y": {"hosts": ["b"]}}
    groups = report.group_hosts(inv)
    assert groups["x"] == ["a", "b"] and groups["y"] == ["b"] and groups["all"] == ["a", "b"]


@pytest.mark.parametrize(("value", "expected"), [
    ("0.0.0.0:9090", ("", "9090")), (":9093", ("", "9093")), ("[::]:16686", ("", "16686")),
    ("10.0.0.5:9100", ("10.0.0.5", "9100")), ("[fd00::5]:9100", ("fd00::5", "9100")), (3000, ("", "3000")),
])
def test_listen_host_port(value, expected):
    assert report.listen_host_port(value) == expected


def test_role_defaults_read_both_layouts():
    assert report.role_defaults("prometheus")["prometheus_listen_address"].endswith(":9090")  # defaults/main/*.yml
    assert report.role_defaults("alertmanager")["alertmanager_listen_address"].endswith(":9093")


def test_rows_of_the_lab_from_the_role_defaults():
    rows = report.endpoints(lab_inventory(), ADDRESSES)
    assert urls(rows, "Prometheus") == ["http://10.1.0.2:9090/query", "http://10.1.0.2:9090/api/v1/query?query=up"]
    assert urls(rows, "Alertmanager", "api") == ["http://10.1.0.2:9093/api/v2/status"]
    assert urls(rows, "Jaeger") == ["http://10.1.0.2:16686/", "http://10.1.0.2:16686/api/v3/services",
                                    "http://10.1.0.2:13133/status"]
    assert urls(rows, "blackbox_exporter") == ["http://10.1.0.2:9115/", "http://10.1.0.2:9115/metrics"]
    assert urls(rows, "VictoriaLogs", "ui") == ["http://10.1.0.2:9428/select/vmui/"]
    assert urls(rows, "node_exporter") == [f"http://{a}:9100/metrics" for a in ("10.1.0.3", "10.1.0.4", "10.1.0.2")]
    assert urls(rows, "otel_collector", "health") == [f"http://{a}:13134/" for a in ("10.1.0.3", "10.1.0.4", "10.1.0.2")]
    assert urls(rows, "ilp-connector") == ["http://10.1.0.3:7780/status", "http://10.1.0.3:7780/metrics",
                                           "http://10.1.0.4:7780/status", "http://10.1.0.4:7780/metrics"]
    # Groups without hosts have no rows; no credentials unless the inventory has some.
    assert not urls(rows, "Grafana") and not urls(rows, "Loki")
    assert all(r.auth is None for r in rows)


def test_rows_follow_the_inventory():
    inv = lab_inventory(
        mon={"prometheus_listen_address": "0.0.0.0:19090", "alertmanager_tls_cert": "-----BEGIN",
             "node_exporter_basic_auth_users": {"prometheus": "secret"},
             "jaeger_query_listen_address": "{{ some_template }}"},  # not literal: the role's default
        c2={"connector_implementation": "native", "connector_health_check_port": 9999})
    inv["grafana"] = {"hosts": ["mon"]}
    inv["loki"] = {"hosts": ["mon"]}
    inv["_meta"]["hostvars"]["mon"].update({"grafana_listen_port": 3443, "grafana_tls_cert": "x"})
    rows = report.endpoints(inv, ADDRESSES)
    assert urls(rows, "Prometheus", "api") == ["http://10.1.0.2:19090/api/v1/query?query=up"]
    assert urls(rows, "Alertmanager", "api") == ["https://10.1.0.2:9093/api/v2/status"]
    assert urls(rows, "Jaeger", "ui") == ["http://10.1.0.2:16686/"]
    assert urls(rows, "Grafana") == ["https://10.1.0.2:3443/login", "https://10.1.0.2:3443/api/health"]
    assert urls(rows, "Loki", "health") == ["http://10.1.0.2:3100/ready"]
    assert urls(rows, "Loki", "api")[0].startswith("http://10.1.0.2:3100/loki/api/v1/query?query=")
    assert urls(rows, "ilp-connector")[2:] == ["http://10.1.0.4:9999/health/ready", "http://10.1.0.4:9999/metrics"]
    node = [r for r in rows if r.component == "node_exporter" and r.host == "mon"]
    assert node[0].auth == ("prometheus", "secret")


def test_no_log_agent_without_a_log_store():
    inv = lab_inventory()
    del inv["victorialogs"]
    assert not urls(report.endpoints(inv, ADDRESSES), "otel_collector")


class Handler(http.server.BaseHTTPRequestHandler):
    """/ok 200, /placeholder a Jaeger page without its UI, /react Prometheus' 500, /auth basic auth."""

    def do_GET(self):  # pylint: disable=invalid-name; http.server's name
        pages = {"/ok": (200, b"fine"), "/react": (500, b"Error opening React index.html: no such file"),
                 "/placeholder": (200, b"<h1>This is not the Jaeger UI you are looking for!</h1>")}
        if self.path == "/auth":
            good = "Basic " + base64.b64encode(b"user:pass").decode()
            status, body = (200, b"in") if self.headers.get("Authorization") == good else (401, b"no")
        else:
            status, body = pages.get(self.path, (404, b"404 page not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture(name="server")
def server_fixture():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("request_", "expected"), [
    (("api", "/ok", None), ("200", "OK", "")),
    (("ui", "/ok", None), ("200", "OK", "")),
    (("ui", "/placeholder", None), ("200", "FAIL", "built without the UI assets, placeholder page")),
    (("ui", "/react", None), ("500", "FAIL", "built without the UI assets")),
    (("ui", "/missing", None), ("404", "FAIL", "no UI in this binary")),
    (("api", "/missing", None), ("404", "FAIL", "")),
    (("metrics", "/auth", ("user", "pass")), ("200", "OK", "basic auth as user")),
    (("metrics", "/auth", None), ("401", "FAIL", "")),
])
def test_judge_real_answers(server, request_, expected):
    kind, path, auth = request_
    row = report.Endpoint("x", kind, "h", server + path, auth)
    report.judge(row, *report.fetch(row.url, row.auth))
    assert (row.status, row.result, row.note) == expected


def test_unreachable_is_a_fail():
    row = report.Endpoint("x", "api", "h", "http://127.0.0.1:9/")
    report.judge(row, *report.fetch(row.url, timeout=2))
    assert (row.status, row.result) == ("-", "FAIL") and row.note.startswith("unreachable (")


def test_endpoint_table_pads_columns():
    rows = [report.Endpoint("Prometheus", "ui", "mon", "http://a:9090/query", status="500", result="FAIL"),
            report.Endpoint("node_exporter", "metrics", "c1", "http://b:9100/metrics", status="200", result="OK")]
    lines = report.endpoint_table(rows)
    assert lines[0].startswith("component     | kind    | host | URL ")
    assert lines[2] == "Prometheus    | ui      | mon  | http://a:9090/query   | 500  | FAIL   |"
    assert len({line.index("|") for line in lines if "|" in line}) == 1


def validate_output(failed: bool) -> dict:
    """The ansible.builtin.json callback's layout of validate.yml's last play."""
    table = ["component | check | status | detail", "----", "alertmanager (mon) | config loaded | "
             + ("FAIL | connection refused" if failed else "OK | version 0.34.2")]
    fail = {"failed": True, "msg": "1 check(s) failed:\n alertmanager on mon (config loaded)"} if failed else \
        {"skipped": True, "changed": False}
    return {"plays": [
        {"play": {"name": "Alertmanager"}, "tasks": [
            {"task": {"name": "Check Alertmanager (notifications through the first Prometheus)"},
             "hosts": {"mon": {"failed": failed, "msg": "connection refused"}}}]},
        {"play": {"name": "One status table"}, "tasks": [
            {"task": {"name": "Show the status of every check"}, "hosts": {"localhost": {"msg": table}}},
            {"task": {"name": "Fail naming every failed component"}, "hosts": {"localhost": fail}}]}]}


@pytest.mark.parametrize("failed", [False, True])
def test_validate_section(tmp_path, failed):
    path = tmp_path / "validate.json"
    path.write_text("[WARNING]: noise before the JSON\n" + json.dumps(validate_output(failed)))
    lines = report.validate_section(str(path), 2 if failed else 0)
    assert lines[0] == f"validate (playbooks/validate.yml): {'FAILED (ansible-playbook exit 2)' if failed else 'PASSED (ansible-playbook exit 0)'}"
    assert lines[1] == "  component | check | status | detail"
    if failed:
        assert lines[-1] == "  1 check(s) failed: alertmanager on mon (config loaded)"
        assert "FAIL | connection refused" in lines[3]
    else:
        assert len(lines) == 4


def test_validate_section_without_output(tmp_path):
    assert report.validate_section(str(tmp_path / "none.json"), 250) == [
        f"validate (playbooks/validate.yml): FAILED (ansible-playbook exit 250), no JSON result in {tmp_path / 'none.json'}"]


def test_validate_section_names_what_stopped_the_playbook(tmp_path):
    data = {"plays": [{"play": {"name": "p"}, "tasks": [
        {"task": {"name": "Compute the endpoint URLs of this host from its variables"},
         "hosts": {"mon": {"failed": True, "msg": "'dict object' has no attribute\n 'x'"}}}]}]}
    path = tmp_path / "validate.json"
    path.write_text(json.dumps(data))
    lines = report.validate_section(str(path), 2)
    assert lines[1] == "  (no status table: the playbook stopped before it)"
    assert lines[2] == "  Compute the endpoint URLs of this host from its variables on mon: 'dict object' has no attribute 'x'"
