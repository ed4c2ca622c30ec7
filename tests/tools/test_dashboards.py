"""tools/dashboards: the committed Grafana dashboards (files/dashboards/*.json) are what the
generators produce, follow the collection's conventions (uid, tags, time, refresh, variables,
the Prometheus datasource uid, links between them and to the runbooks, thresholds from the
prometheus role's defaults), every PromQL expression parses on a real Prometheus, and
panel_queries.py reports data, empty and error panels right (against a throwaway Prometheus and
against the recorded fixtures of tools/dashboards/fixtures)."""
from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
TOOLS = TOP / "tools" / "dashboards"
sys.path.insert(0, str(TOOLS))

pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk (requirements-dev.txt) is not installed")

import dashboard_common as common  # noqa: E402
import panel_queries  # noqa: E402
import promserver  # noqa: E402

_spec = importlib.util.spec_from_file_location("dashboards_build", TOOLS / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

DASHBOARD_FILES = sorted((TOP / "files" / "dashboards").glob("*.json"))
FIXTURES = TOOLS / "fixtures"
EXPECTATIONS = yaml.safe_load((TOOLS / "dialect_only.yml").read_text())


def load(path):
    return json.loads(Path(path).read_text())


def panels(dashboard):
    return list(panel_queries.iter_panels(dashboard))


def all_dashboards():
    return {path.stem: load(path) for path in DASHBOARD_FILES}


# --- generated files ---------------------------------------------------------------------------

def test_committed_files_are_what_the_generators_produce():
    generated = build.generate()
    assert sorted(generated) == sorted(p.name for p in DASHBOARD_FILES), \
        "files/dashboards differs from the generators' list: run .venv/bin/python tools/dashboards/build.py"
    stale = [name for name, text in generated.items() if (TOP / "files/dashboards" / name).read_text() != text]
    assert not stale, f"stale dashboards {stale}: run .venv/bin/python tools/dashboards/build.py"


def test_output_is_stable_json():
    for name, text in build.generate().items():
        assert text.endswith("}\n") and not text.endswith("\n\n"), name
        assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n", name
    assert build.generate() == build.generate()


def test_check_mode_names_the_files_that_differ(tmp_path):
    script = TOOLS / "build.py"
    ok = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    subprocess.run([sys.executable, str(script), "--output", str(tmp_path)], check=True, capture_output=True)
    (tmp_path / "stack-health.json").write_text("{}\n")
    (tmp_path / "connector-health.json").unlink()
    (tmp_path / "stray.json").write_text("{}\n")
    bad = subprocess.run([sys.executable, str(script), "--check", "--output", str(tmp_path)],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "stack-health.json" in bad.stderr and "connector-health.json" in bad.stderr
    assert "stray.json" in bad.stderr and "connector-overview.json" not in bad.stderr


# --- conventions -------------------------------------------------------------------------------

def test_four_dashboards_with_their_uids_and_titles():
    dashboards = all_dashboards()
    assert {name: (d["uid"], d["title"]) for name, d in dashboards.items()} == common.DASHBOARDS


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.stem)
def test_dashboard_settings(path):
    dashboard = load(path)
    assert dashboard["uid"] and dashboard["title"]
    assert dashboard["tags"][0] == "ilp" and len(dashboard["tags"]) >= 2
    assert dashboard["time"] == {"from": "now-1h", "to": "now"}
    assert dashboard["refresh"] == "30s"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    titles = [p["title"] for p in panels(dashboard)]
    assert len(titles) == len(set(titles)), "panel titles repeat (dialect_only.yml keys on them)"


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.stem)
def test_environment_and_node_variables(path):
    variables = {v["name"]: v for v in load(path)["templating"]["list"]}
    for name in ("environment", "nodeId"):
        variable = variables[name]
        assert variable["type"] == "query"
        assert re.match(r'^label_values\(\{__name__=~"ilp:[^"]*"[^}]*\}, ' + name + r"\)$", variable["query"]), \
            variable["query"]
        assert variable["multi"] is True and variable["includeAll"] is True
        assert variable["allValue"] == ".*"
        assert variable["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    assert variables["runbook_base_url"]["type"] == "constant"
    assert variables["runbook_base_url"]["query"] == common.load_settings().runbook_base_url


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.stem)
def test_every_target_uses_the_prometheus_datasource_uid(path):
    """The grafana role provisions a Prometheus datasource with uid "prometheus"."""
    dashboard = load(path)
    assert "${DS_" not in path.read_text()
    for panel in panels(dashboard):
        if panel["type"] == "alertlist":
            # The alert list filters by datasource NAME; tests/roles/test_grafana_role.py applies its
            # matching rule to the data sources the grafana role provisions.
            assert panel["options"]["datasource"] == common.DATASOURCE_NAME
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
            assert target["expr"].strip() and target["refId"], panel["title"]


def test_dashboards_link_to_each_other():
    dashboards = all_dashboards()
    for name, dashboard in dashboards.items():
        urls = {link["url"] for link in dashboard["links"]}
        others = {f"/d/{d['uid']}" for other, d in dashboards.items() if other != name}
        assert others <= urls, name
        for link in dashboard["links"]:
            if link["url"].startswith("/d/"):
                assert link["keepTime"] and link["includeVars"], (name, link["title"])
    # the fleet and the settlement tables lead to a connector's health dashboard
    for name in ("connector-overview", "settlement-activity"):
        assert "/d/ilp-connector-health?var-nodeId=${__data.fields.nodeId}" in json.dumps(dashboards[name])


def github_anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def runbook_anchors():
    anchors = {}
    for path in (TOP / "docs" / "runbooks").glob("*.md"):
        anchors[path.name] = {github_anchor(line.lstrip("#")) for line in path.read_text().splitlines()
                              if line.startswith("#")}
    return anchors


def test_runbook_links_resolve_and_cover_every_alert():
    anchors = runbook_anchors()
    linked = set()
    for name, dashboard in all_dashboards().items():
        for panel in panels(dashboard):
            for link in panel.get("links") or []:
                url = link["url"]
                if not url.startswith("${runbook_base_url}/"):
                    continue
                file_name, _unused, anchor = url[len("${runbook_base_url}/"):].partition("#")
                assert file_name in anchors, (name, panel["title"], url)
                if anchor:
                    assert anchor in anchors[file_name], (name, panel["title"], url)
                    linked.add(anchor)
            if panel["type"] == "alertlist":
                urls = {link["url"] for link in panel["links"]}
                assert "${runbook_base_url}/README.md" in urls, panel["title"]
                shown = re.search(r'alertname=~"([^"]+)"', panel["options"]["alertInstanceLabelFilter"]).group(1)
                for alert in shown.split("|"):
                    assert any(url.endswith("#" + alert.lower()) for url in urls), (name, panel["title"], alert)
    alerts = common.alert_runbooks()
    assert len(alerts) >= 28
    missing = sorted(alert for alert in alerts if alert.lower() not in linked)
    assert not missing, f"alerts no panel links the runbook of: {missing}"


def test_alert_panels_link_the_runbooks_of_their_alerts():
    """Panels drawing an alert's series carry that alert's runbook link."""
    expected = {
        ("connector-overview", "Packet success ratio"): "packetslabreach",
        ("connector-overview", "p99 packet latency by connector"): "highp99latency",
        ("connector-health", "Memory vs limit"): "highmemoryusage",
        ("connector-health", "Connector errors per minute by type and severity"): "criticalerrorspike",
        ("settlement-activity", "Settlement success ratio"): "settlementslabreach",
        ("settlement-activity", "Channels in dispute"): "channeldispute",
        ("stack-health", "Log agent queue usage"): "logagentqueuefilling",
        ("stack-health", "Alerts Prometheus fails to send"): "prometheusnotificationsfailing",
    }
    dashboards = all_dashboards()
    for (name, title), anchor in expected.items():
        panel = next(p for p in panels(dashboards[name]) if p["title"] == title)
        assert any(link["url"].endswith("#" + anchor) for link in panel["links"]), (name, title)


def steps(panel):
    return [(s["value"], s["color"]) for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def panel_by_title(dashboard, title):
    return next(p for p in panels(dashboard) if p["title"] == title)


def test_thresholds_come_from_the_sla_defaults():
    settings = common.load_settings()
    dashboards = all_dashboards()
    packet = settings["prometheus_alert_packet_sla_threshold"]
    settlement = settings["prometheus_alert_settlement_sla_threshold"]
    latency = settings["prometheus_alert_high_p99_latency_threshold"]
    assert (packet, settlement, latency) == (0.999, 0.99, 0.01)
    assert steps(panel_by_title(dashboards["connector-overview"], "Packet success ratio")) == \
        [(None, "red"), (packet, "yellow"), (pytest.approx(1 - (1 - packet) * common.WARN_FRACTION), "green")]
    assert steps(panel_by_title(dashboards["settlement-activity"], "Settlement success ratio"))[1] == \
        (settlement, "yellow")
    assert steps(panel_by_title(dashboards["connector-overview"], "Worst p99 latency")) == \
        [(None, "green"), (pytest.approx(latency * common.WARN_FRACTION), "yellow"), (latency, "red")]


def test_a_changed_default_changes_the_thresholds():
    settings = common.load_settings()
    changed = common.Settings(defaults={**settings.defaults, "prometheus_alert_packet_sla_threshold": 0.99,
                                        "prometheus_alert_high_p99_latency_threshold": 0.05},
                              runbooks=settings.runbooks)
    overview = json.loads(build.render(build.connector_overview.build(changed)))
    assert steps(panel_by_title(overview, "Packet success ratio"))[1] == (0.99, "yellow")
    assert steps(panel_by_title(overview, "p99 packet latency by connector"))[-1] == (0.05, "red")


def test_connector_sla_defaults_agree_with_the_alert_thresholds():
    settings = common.load_settings()
    connector = common.connector_sla_defaults()
    assert connector["connector_sla_packet_success_threshold"] == settings["prometheus_alert_packet_sla_threshold"]
    assert connector["connector_sla_settlement_success_threshold"] == \
        settings["prometheus_alert_settlement_sla_threshold"]
    assert connector["connector_sla_p99_latency_ms"] / 1000 == settings["prometheus_alert_high_p99_latency_threshold"]


def test_stack_dashboard_selects_catalog_jobs():
    text = (TOP / "files/dashboards/stack-health.json").read_text()
    for job in common.catalog_jobs() + ["blackbox"]:
        assert job in text, job
    selected = set()
    for match in re.finditer(r'job=~\\"([^"\\]+)\\"', text):
        selected.update(match.group(1).split("|"))
    # The probe jobs (blackbox_<module>) come from the catalog's probes, selected by their regex.
    probe_jobs = re.compile(common.load_settings().probe_job)
    unknown = {name for name in selected - set(common.catalog_jobs()) - set(common.FUTURE_JOBS)
               if not probe_jobs.fullmatch(name) and name != common.load_settings().probe_job}
    assert not unknown, unknown


# --- dialect_only.yml ---------------------------------------------------------------------------

NATIVE_ONLY = re.compile(r"ilp:packet_latency_seconds|ilp:settlement|ilp:payment_channels|ilp:channel_disputes|"
                         r'ilp_packets_processed_total|dialect="native"')
INTERLEDGERJS_ONLY = re.compile(r'ilp:packets_rate_limited|ilp_connector_|dialect="interledgerjs"')


def test_expectations_name_existing_panels():
    dashboards = all_dashboards()
    for section in ("dialect_only", "optional_jobs"):
        for entry in EXPECTATIONS[section]:
            assert entry["dashboard"] in dashboards, entry
            assert entry["panel"] in {p["title"] for p in panels(dashboards[entry["dashboard"]])}, entry
            assert entry["reason"], entry
    for entry in EXPECTATIONS["dialect_only"]:
        assert set(entry["dialects"]) < set(panel_queries.DIALECTS), entry
    for entry in EXPECTATIONS["optional_jobs"]:
        assert set(entry["jobs"]) <= set(common.catalog_jobs()) | set(common.catalog_probe_jobs()) | set(common.FUTURE_JOBS)


def test_expectations_parse_without_pyyaml():
    text = (TOOLS / "dialect_only.yml").read_text()
    assert panel_queries.parse_simple_yaml(text) == EXPECTATIONS


def test_dialect_only_matches_the_series_the_panels_read():
    """A panel all of whose targets read series of one dialect is listed for that dialect, and
    only such panels are listed."""
    listed = {(e["dashboard"], e["panel"]): e["dialects"] for e in EXPECTATIONS["dialect_only"]}
    found = {}
    for name, dashboard in all_dashboards().items():
        for panel in panels(dashboard):
            exprs = [t["expr"] for t in panel.get("targets") or []]
            if not exprs:
                continue
            if all(NATIVE_ONLY.search(e) and not INTERLEDGERJS_ONLY.search(e) for e in exprs):
                found[(name, panel["title"])] = ["native"]
            elif all(INTERLEDGERJS_ONLY.search(e) and not NATIVE_ONLY.search(e) for e in exprs):
                found[(name, panel["title"])] = ["interledgerjs"]
    assert found == listed


# --- variable substitution -----------------------------------------------------------------------

def test_builtin_variables_follow_grafana():
    values = panel_queries.builtin_variables(15, 600, now=1000)
    assert values["__rate_interval"] == "1m" and values["__interval"] == "15s"
    assert values["__range"] == "10m" and values["__range_s"] == "600" and values["__range_ms"] == "600000"
    assert panel_queries.builtin_variables(5, 600, now=1000)["__rate_interval"] == "20s"
    assert panel_queries.builtin_variables(60, 600, now=1000)["__rate_interval"] == "4m"
    # a long range: $__interval grows past the scrape interval, $__rate_interval with it
    values = panel_queries.builtin_variables(15, 7 * 86400, now=1000)
    assert values["__interval"] == "605s" and values["__rate_interval"] == "620s"
    assert panel_queries.parse_duration("1m30s") == 90 and panel_queries.parse_duration("500ms") == 0.5
    with pytest.raises(ValueError):
        panel_queries.parse_duration("soon")


def test_dashboard_variables_substitute_like_grafana():
    dashboard = load(TOP / "files/dashboards/connector-health.json")
    values = panel_queries.dashboard_variable_values(dashboard, {})
    assert values["environment"] == ".*" and values["nodeId"] == ".*"
    values = panel_queries.dashboard_variable_values(dashboard, {"nodeId": ["connector-a", "conn.b"],
                                                                 "environment": ["molecule"]})
    assert values["nodeId"] == "(connector-a|conn\\\\.b)" and values["environment"] == "molecule"
    expr = 'x{nodeId=~"$nodeId", a="${environment}", b="[[nodeId]]", c="${nodeId:regex}"}[$__rate_interval] $unknown'
    out = panel_queries.substitute(expr, {**values, "__rate_interval": "1m"})
    assert out == ('x{nodeId=~"(connector-a|conn\\\\.b)", a="molecule", b="(connector-a|conn\\\\.b)", '
                   'c="(connector-a|conn\\\\.b)"}[1m] $unknown')


def test_no_dashboard_expression_keeps_a_variable():
    for name, dashboard in all_dashboards().items():
        values = {**panel_queries.builtin_variables(15, 600, now=1000),
                  **panel_queries.dashboard_variable_values(dashboard, {})}
        for panel in panels(dashboard):
            for target in panel.get("targets") or []:
                assert "$" not in panel_queries.substitute(target["expr"], values), (name, panel["title"])


# --- against a throwaway Prometheus ----------------------------------------------------------------

@pytest.fixture(scope="module")
def empty_prometheus():
    try:
        server = promserver.ThrowawayPrometheus()
    except promserver.ArchiveMissing as exc:
        pytest.skip(f"{exc} (build it with tools/release-mirror/build.py prometheus)")
    server.start()
    yield server
    server.stop()


def test_every_expression_parses(empty_prometheus):
    """Each query, variables substituted, runs on Prometheus 3 with an empty TSDB: a parse error
    would come back as HTTP 400 (status error)."""
    client = panel_queries.Client(empty_prometheus.url)
    report = panel_queries.run(client, panel_queries.load_dashboards([TOP / "files/dashboards"]))
    errors = [(p["dashboard"], p["title"], t["refId"], t["instant"].get("error") or t["range"].get("error"))
              for p in report["panels"] for t in p["targets"] if t["status"] == "error"]
    assert not errors
    assert all(v["status"] != "error" for v in report["variables"]), report["variables"]
    targets = sum(len(p["targets"]) for p in report["panels"])
    assert report["summary"]["panels"] >= 60 and targets >= 80
    # an empty TSDB has no data: every panel is empty except the ones that default to 0
    assert report["summary"]["error"] == 0 and report["summary"]["empty"] > 50


def test_panel_queries_reports_a_parse_error(empty_prometheus, tmp_path):
    dashboard = load(TOP / "files/dashboards/connector-health.json")
    broken = copy.deepcopy(dashboard)
    panel = next(p for p in broken["panels"] if p.get("title") == "Throughput")
    panel["targets"][0]["expr"] = "sum by (nodeId (ilp:packet_throughput:rate1m{nodeId=~\"$nodeId\"})"
    path = tmp_path / "connector-health.json"  # the name dialect_only.yml knows
    path.write_text(json.dumps(broken))
    result = subprocess.run([sys.executable, str(TOOLS / "panel_queries.py"), "--prometheus", empty_prometheus.url,
                             "--dialect", "interledgerjs", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    entry = next(p for p in report["panels"] if p["title"] == "Throughput")
    assert entry["status"] == "error"
    assert entry["targets"][0]["instant"]["http"] == 400
    assert "parse error" in entry["targets"][0]["instant"]["error"]
    assert any(f.startswith("connector-health: Throughput: error") for f in report["failures"])
    # dialect-only panels of the other dialect are empty, not failures, yet still parsed
    latency = next(p for p in report["panels"] if p["title"] == "Packet latency (native)")
    assert latency["status"] == "empty" and latency["expected_empty"]
    assert not any("Packet latency (native)" in f for f in report["failures"])
    assert "connector-health: Up: empty" in report["failures"]


def test_panel_queries_unreachable_prometheus():
    port = promserver.free_port()
    result = subprocess.run([sys.executable, str(TOOLS / "panel_queries.py"), "--prometheus",
                             f"http://127.0.0.1:{port}", "--timeout", "2"], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "unreachable" in result.stderr


# --- against the recorded fixtures ---------------------------------------------------------------

def replay(name, *extra, dashboards=()):
    fixture = FIXTURES / f"{name}.json"
    args = json.loads(fixture.read_text())["args"]
    command = [sys.executable, str(TOOLS / "panel_queries.py"), "--replay", str(fixture),
               "--scrape-interval", args["scrape_interval"], "--range", args["range"], *extra, *map(str, dashboards)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.returncode, json.loads(result.stdout), result.stderr


def fixture_args(name):
    args = json.loads((FIXTURES / f"{name}.json").read_text())["args"]
    extra = ["--dialect", args["dialect"]] if args["dialect"] else []
    for job in args["absent_jobs"]:
        extra += ["--absent-job", job]
    return extra


def test_fixture_mixed_fleet_every_panel_has_data():
    code, report, stderr = replay("mixed", *fixture_args("mixed"))
    stale = [f for f in report["failures"] if "not in the recording" in f]
    assert not stale, "dashboards changed since the fixtures were recorded: run tools/dashboards/record_fixtures.py"
    assert code == 0, stderr
    assert report["summary"]["data"] == report["summary"]["panels"]
    assert all(v["status"] == "data" for v in report["variables"])


def test_fixture_interledgerjs_only_native_panels_expected_empty():
    code, report, stderr = replay("interledgerjs", *fixture_args("interledgerjs"))
    assert code == 0, stderr
    native = {(e["dashboard"], e["panel"]) for e in EXPECTATIONS["dialect_only"]
              if "interledgerjs" not in e["dialects"]}
    empty = {(p["dashboard"], p["title"]) for p in report["panels"] if p["status"] == "empty"}
    assert native <= empty
    assert all(p["expected_empty"] for p in report["panels"] if p["status"] == "empty")
    assert report["summary"]["error"] == 0
    # the event panels show a zero line while nothing happened (no series of failures yet)
    for title in ("Packet errors by reason", "Rejects by code (interledgerjs)", "Rate-limited packets (interledgerjs)",
                  "Connector errors per minute by type and severity"):
        entry = next(p for p in report["panels"] if p["dashboard"] == "connector-health" and p["title"] == title)
        assert entry["status"] == "data", title


def test_fixture_interledgerjs_without_dialect_fails_on_the_native_panels():
    code, report, stderr = replay("interledgerjs")
    assert code == 1
    expected = {f"{e['dashboard']}: {e['panel']}: empty" for e in EXPECTATIONS["dialect_only"]
                if "interledgerjs" not in e["dialects"]}
    expected |= {f"{e['dashboard']}: {e['panel']}: empty" for e in EXPECTATIONS["optional_jobs"]
                 if not set(e["jobs"]) & {"victorialogs"}}
    assert set(report["failures"]) == expected
    assert "FAIL settlement-activity: Settlements per second: empty" in stderr


def test_fixture_errors_and_empty_answers_fail(tmp_path):
    """A recorded 400 answer is an error; a panel whose answers turned empty fails unless expected."""
    recording = json.loads((FIXTURES / "mixed.json").read_text())
    for exchange in recording["exchanges"]:
        query = exchange["params"].get("query", "")
        if query.startswith("up{job=~\"jaeger\"}"):
            exchange.update(status=400, body={"status": "error", "errorType": "bad_data", "error": "parse error"},
                            error="parse error")
        if "vl_" in query:
            exchange["body"]["data"]["result"] = []
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(recording))
    args = recording["args"]
    base = [sys.executable, str(TOOLS / "panel_queries.py"), "--replay", str(path), "--scrape-interval",
            args["scrape_interval"], "--range", args["range"]]
    result = subprocess.run(base, capture_output=True, text=True, check=False)
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert set(report["failures"]) == {"stack-health: Jaeger up: error (A: parse error)",
                                       "stack-health: VictoriaLogs ingestion and errors: empty"}
    result = subprocess.run(base + ["--absent-job", "victorialogs"], capture_output=True, text=True, check=False)
    assert json.loads(result.stdout)["failures"] == ["stack-health: Jaeger up: error (A: parse error)"]


# --- alert list panels, filtered as Grafana filters them ------------------------------------------

def _alert_lists():
    out = []
    for path in sorted((TOP / "files" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        out += [(path.name, panel) for panel in panel_queries.iter_panels(dashboard) if panel.get("type") == "alertlist"]
    return out


WATCHDOG = {"labels": {"alertname": "Watchdog", "severity": "none"}, "state": "firing"}
CONNECTOR_DOWN = {"labels": {"alertname": "ConnectorDown", "nodeId": "connector-a", "severity": "critical"}, "state": "firing"}


def test_every_alert_list_selects_the_active_alerts_of_the_provisioned_prometheus():
    panels = _alert_lists()
    assert len(panels) == 4
    for name, panel in panels:
        seen = panel_queries.alert_list_selection(panel, [WATCHDOG, CONNECTOR_DOWN], "Prometheus", {"nodeId": ".*"})
        assert seen["selected"] == 2, (name, panel["title"], seen)
    stack = next(p for n, p in panels if n == "stack-health.json")
    assert panel_queries.alert_list_selection(stack, [WATCHDOG], "Prometheus", {})["shown_alerts"] == ["Watchdog"]
    overview = next(p for n, p in panels if n == "connector-overview.json")
    assert panel_queries.alert_list_selection(overview, [WATCHDOG, CONNECTOR_DOWN], "Prometheus", {})["shown_alerts"] == ["ConnectorDown"]


def test_an_alert_list_filtering_by_the_uid_selects_nothing():
    # What the dashboards had before: options.datasource "prometheus" (the uid) matches no rules source name.
    _name, panel = _alert_lists()[0]
    by_uid = dict(panel, options=dict(panel["options"], datasource="prometheus"))
    assert panel_queries.alert_list_selection(by_uid, [WATCHDOG], "Prometheus", {})["selected"] == 0
    pending_only = dict(panel, options=dict(panel["options"], stateFilter={"pending": True}))
    assert panel_queries.alert_list_selection(pending_only, [WATCHDOG], "Prometheus", {})["selected"] == 0


def test_label_matchers_parse_like_grafanas():
    assert panel_queries.parse_matchers('{alertname=~"A|B", nodeId!="x", team="a\\"b"}') == [
        ("alertname", "=~", "A|B"), ("nodeId", "!=", "x"), ("team", "=", 'a"b')]
    with pytest.raises(ValueError):
        panel_queries.parse_matchers("{alertname~A}")
