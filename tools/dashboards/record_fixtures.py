#!/usr/bin/env python3
"""Record the fixtures tests/tools/test_dashboards.py replays through panel_queries.py.

    .venv/bin/python tools/dashboards/record_fixtures.py     # rewrites tools/dashboards/fixtures/*.json

Starts a throwaway Prometheus (promserver.py, the release mirror's archive) that loads the
prometheus role's rule files rendered with its defaults (tools/ci/render-rules.yml, through
Ansible) and scrapes itself plus a small synthetic exporter (in this process) that serves the
metric names the rules and dashboards read: both connector dialects, node_exporter,
Alertmanager, Jaeger and the log agents (OpenTelemetry Collector), VictoriaLogs, Loki, Grafana,
blackbox_exporter and its probe jobs (blackbox_http_2xx, blackbox_http_health) and TigerBeetle. Then it runs panel_queries over files/dashboards/*.json with
--record. Two scenarios:

    fixtures/mixed.json          a native and an interledgerjs connector, every job: every panel has data
    fixtures/interledgerjs.json  interledgerjs connectors only, without loki, grafana, blackbox (and probes) and
                                 tigerbeetle (the Molecule stack scenario's jobs); the
                                 interledgerjs connectors have counted no failure, no rate limit
                                 and no next-hop reject yet (the panels show their zero lines)

Re-record after changing a dashboard's queries (the replay only knows the recorded queries).
The synthetic values are made up; only the metric and label names matter.
"""
from __future__ import annotations

import argparse
import http.server
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parents[1]
sys.path.insert(0, str(HERE))

import panel_queries  # noqa: E402
from promserver import ThrowawayPrometheus, free_port  # noqa: E402

FIXTURES = HERE / "fixtures"
# Recording parameters: panel_queries must replay with the same ones (stored in the fixture).
SCRAPE_INTERVAL = "1s"
RANGE = "1m"
WARMUP_SECONDS = 20


def counter(rate: float, start: float) -> float:
    return round(rate * (time.time() - start), 3)


def native_connector(node: str, start: float) -> list:
    lines = []
    for status, rate in (("success", 120.0), ("error", 0.05)):
        lines.append(f'ilp_packets_processed_total{{type="prepare",status="{status}"}} {counter(rate, start)}')
    for le, share in (("0.001", 0.5), ("0.005", 0.9), ("0.01", 0.995), ("0.05", 1.0), ("+Inf", 1.0)):
        lines.append(f'ilp_packet_latency_seconds_bucket{{le="{le}"}} {counter(120 * share, start)}')
    lines.append(f"ilp_packet_latency_seconds_count {counter(120, start)}")
    lines.append(f"ilp_packet_latency_seconds_sum {counter(0.3, start)}")
    for method, status, rate in (("xrp", "success", 2.0), ("xrp", "failure", 0.01), ("evm", "success", 1.0)):
        lines.append(f'settlements_executed_total{{method="{method}",status="{status}"}} {counter(rate, start)}')
    for le, share in (("0.5", 0.6), ("1", 0.9), ("5", 1.0), ("+Inf", 1.0)):
        lines.append(f'settlement_latency_seconds_bucket{{le="{le}"}} {counter(3 * share, start)}')
    lines.append(f'settlement_amount_total{{method="xrp",token="XRP"}} {counter(50, start)}')
    lines.append(f'settlement_amount_total{{method="evm",token="USDC"}} {counter(20, start)}')
    lines.append('account_balance_units{peer_id="peer-b",token_id="USD"} 1500')
    lines.append('payment_channels_active{method="xrp",status="open"} 3')
    lines.append('payment_channels_active{method="evm",status="disputed"} 0')
    lines.append(f'channel_disputes_total{{method="xrp"}} 0')
    lines.append(f'connector_errors_total{{type="peer",severity="warning"}} {counter(0.02, start)}')
    lines.append(f'connector_errors_total{{type="settlement",severity="critical"}} {counter(0.001, start)}')
    return lines + process_metrics(start, 210e6)


def interledgerjs_connector(node: str, start: float, events: bool) -> list:
    base = 'account="kids",asset="USD",scale="9"'
    results = [("fulfilled", 40.0), ("rejected", 4.0)] + ([("failed", 0.2)] if events else [])
    lines = [f'ilp_connector_incoming_ilp_packets{{{base},result="{result}"}} {counter(rate, start)}'
             for result, rate in results]
    outgoing = 'account="peer",asset="USD",scale="9"'
    lines.append(f'ilp_connector_outgoing_ilp_packets{{{outgoing},result="fulfilled",code=""}} {counter(40, start)}')
    if events:
        lines.append(f'ilp_connector_outgoing_ilp_packets{{account="peer",asset="USD",scale="9",result="rejected",'
                     f'code="F99"}} {counter(4, start)}')
        lines.append(f"ilp_connector_rate_limited_ilp_packets{{{base}}} {counter(0.5, start)}")
    lines.append(f"ilp_connector_balance{{{base}}} -1500")
    return lines + process_metrics(start, 95e6)


def process_metrics(start: float, resident: float) -> list:
    return [f"process_start_time_seconds {int(start) - 3600}",
            f"process_resident_memory_bytes {resident}",
            f"nodejs_heap_size_used_bytes {resident * 0.4}"]


def node_metrics(host: str) -> list:
    return [
        "node_memory_MemTotal_bytes 4.0e9",
        'node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 6.0e10',
        'node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1.0e11',
        'node_filesystem_readonly{device="/dev/sda1",fstype="ext4",mountpoint="/"} 0',
    ]


def alertmanager_metrics(start: float) -> list:
    return [
        "alertmanager_config_last_reload_successful 1",
        "alertmanager_cluster_enabled 1",
        "alertmanager_cluster_members 1",
        f'alertmanager_notifications_total{{integration="webhook"}} {counter(0.2, start)}',
        f'alertmanager_notifications_failed_total{{integration="webhook",reason="other"}} 0',
    ]


def jaeger_metrics(start: float) -> list:
    labels = 'receiver="otlp",transport="http"'
    return [
        f"otelcol_receiver_accepted_spans_total{{{labels}}} {counter(50, start)}",
        f"otelcol_receiver_refused_spans_total{{{labels}}} 0",
        f"otelcol_receiver_failed_spans_total{{{labels}}} 0",
        f'otelcol_exporter_sent_spans_total{{exporter="jaeger_storage_exporter"}} {counter(50, start)}',
        'otelcol_exporter_send_failed_spans_total{exporter="jaeger_storage_exporter"} 0',
        "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total 0",
    ]


def log_agent_metrics(start: float) -> list:
    return [
        f'otelcol_receiver_accepted_log_records_total{{receiver="journald",transport=""}} {counter(12, start)}',
        'otelcol_receiver_refused_log_records_total{receiver="journald",transport=""} 0',
        f'otelcol_exporter_sent_log_records_total{{exporter="otlphttp/victorialogs"}} {counter(12, start)}',
        'otelcol_exporter_send_failed_log_records_total{exporter="otlphttp/victorialogs"} 0',
        'otelcol_exporter_enqueue_failed_log_records_total{exporter="otlphttp/victorialogs"} 0',
        'otelcol_exporter_queue_size{exporter="otlphttp/victorialogs"} 3',
        'otelcol_exporter_queue_capacity{exporter="otlphttp/victorialogs"} 1000',
    ]


def victorialogs_metrics(start: float) -> list:
    return [
        f'vl_rows_ingested_total{{type="opentelemetry"}} {counter(12, start)}',
        'vl_http_errors_total{path="/insert/opentelemetry/v1/logs"} 0',
        'vl_rows_dropped_total{reason="too_big_timestamp"} 0',
    ]


def loki_metrics(start: float) -> list:
    return [
        f'loki_distributor_lines_received_total{{tenant="fake"}} {counter(12, start)}',
        f'loki_request_duration_seconds_count{{route="otlp_v1_logs",status_code="204"}} {counter(1, start)}',
        'loki_request_duration_seconds_count{route="otlp_v1_logs",status_code="500"} 0',
        'loki_discarded_samples_total{reason="rate_limited",tenant="fake"} 0',
    ]


def probe_metrics(start: float) -> list:
    return ["probe_success 1", "probe_duration_seconds 0.012",
            f"probe_ssl_earliest_cert_expiry {int(start) + 60 * 86400}"]


def blackbox_metrics() -> list:
    return ["blackbox_exporter_config_last_reload_successful 1"]


# Labels of the probe jobs' targets, as the scrape catalog's file_sd files give them.
PROBE_LABELS = {
    "blackbox_http_2xx": {"component": "grafana", "prober": "mon-1", "target": "https://mon-1:3000/api/health"},
    "blackbox_http_health": {"component": "connector", "prober": "mon-1", "target": "http://conn-a:7780/status",
                             "nodeId": "connector-a", "environment": "fixture"},
}


def other_metrics() -> list:
    return ["grafana_build_info{version=\"fake\"} 1"]


class Exporter:
    """Serves /<kind>/<name>/metrics for the scrape jobs of a scenario."""

    def __init__(self, events: bool):
        self.start = time.time() - 5
        self.events = events
        self.port = free_port()
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                parts = self.path.strip("/").split("/")
                body = exporter.metrics(parts[0], parts[1] if len(parts) > 2 else "")
                if body is None:
                    self.send_error(404)
                    return
                data = ("\n".join(body) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 - Prometheus sending alerts to the "Alertmanager"
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def metrics(self, kind: str, name: str):
        start = self.start
        return {
            "native": lambda: native_connector(name, start),
            "interledgerjs": lambda: interledgerjs_connector(name, start, self.events),
            "node": lambda: node_metrics(name),
            "alertmanager": lambda: alertmanager_metrics(start),
            "jaeger": lambda: jaeger_metrics(start),
            "otel_collector": lambda: log_agent_metrics(start),
            "victorialogs": lambda: victorialogs_metrics(start),
            "loki": lambda: loki_metrics(start),
            "blackbox": blackbox_metrics,
            "blackbox_http_2xx": lambda: probe_metrics(start),
            "blackbox_http_health": lambda: probe_metrics(start),
            "grafana": other_metrics,
            "tigerbeetle": other_metrics,
        }.get(kind, lambda: None)()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def scrape_config(exporter_port: int, prometheus_port: int, connectors, jobs) -> str:
    """prometheus.yml: itself as job prometheus, the exporter's paths as the other jobs."""
    address = f"127.0.0.1:{exporter_port}"
    lines = ["global:", f"  scrape_interval: {SCRAPE_INTERVAL}", f"  evaluation_interval: {SCRAPE_INTERVAL}",
             "alerting:", "  alertmanagers:", "    - static_configs:", f"        - targets: ['{address}']",
             "scrape_configs:",
             "  - job_name: prometheus", "    static_configs:",
             f"      - targets: ['127.0.0.1:{prometheus_port}']", "        labels: {instance: mon-1}"]

    def job(name, targets):
        lines.extend([f"  - job_name: {name}", "    static_configs:"])
        for path, labels in targets:
            label_text = ", ".join(f"{key}: {value}" for key, value in {"__metrics_path__": path, **labels}.items())
            lines.extend([f"      - targets: ['{address}']", f"        labels: {{{label_text}}}"])

    job("connector", [(f"/{dialect}/{node}/metrics", {"instance": host, "nodeId": node, "environment": "fixture"})
                      for dialect, node, host in connectors])
    hosts = ["mon-1"] + [host for _, _, host in connectors]
    job("node", [(f"/node/{host}/metrics", {"instance": host}) for host in hosts])
    job("otel_collector", [(f"/otel_collector/{host}/metrics", {"instance": host}) for host in hosts])
    for name in jobs:
        job(name, [(f"/{name}/x/metrics", {"instance": "mon-1", **PROBE_LABELS.get(name, {})})])
    return "\n".join(lines) + "\n"


def render_rules(dest: Path) -> list:
    playbook = TOP / "tools" / "ci" / "render-rules.yml"
    ansible = Path(sys.executable).parent / "ansible-playbook"
    subprocess.run([str(ansible), "-i", "localhost,", str(playbook), "-e", f"rules_dest={dest}"], check=True,
                   stdout=subprocess.DEVNULL, cwd=str(TOP),
                   env={"ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
                        "ANSIBLE_COLLECTIONS_PATH": str(TOP / "collections"),
                        "PATH": f"{ansible.parent}:/usr/bin:/bin", "HOME": str(Path.home())})
    return sorted(dest.glob("*.yml"))


SCENARIOS = {
    "mixed": {
        "connectors": [("native", "connector-n", "conn-n"), ("interledgerjs", "connector-a", "conn-a")],
        "jobs": ["alertmanager", "jaeger", "victorialogs", "loki", "grafana", "blackbox", "blackbox_http_2xx",
                 "blackbox_http_health", "tigerbeetle"],
        "events": True,
        "args": {"dialect": None, "absent_jobs": []},
    },
    "interledgerjs": {
        "connectors": [("interledgerjs", "connector-a", "conn-a"), ("interledgerjs", "connector-b", "conn-b")],
        "jobs": ["alertmanager", "jaeger", "victorialogs"],
        "events": False,
        "args": {"dialect": "interledgerjs",
                 "absent_jobs": ["blackbox", "blackbox_http_2xx", "blackbox_http_health", "grafana", "loki",
                                 "tigerbeetle"]},
    },
}


def record(name: str, rule_files: list) -> dict:
    scenario = SCENARIOS[name]
    exporter = Exporter(scenario["events"])
    port = free_port()
    try:
        config = scrape_config(exporter.port, port, scenario["connectors"], scenario["jobs"])
        with ThrowawayPrometheus(config=config, rule_files=rule_files, port=port) as prom:
            time.sleep(WARMUP_SECONDS)
            client = panel_queries.Client(prom.url, record=True)
            args = scenario["args"]
            report = panel_queries.run(
                client, panel_queries.load_dashboards([panel_queries.DEFAULT_DASHBOARDS]), dialect=args["dialect"],
                absent_jobs=set(args["absent_jobs"]), scrape_interval=panel_queries.parse_duration(SCRAPE_INTERVAL),
                range_seconds=panel_queries.parse_duration(RANGE),
                expectations=panel_queries.load_expectations(panel_queries.DEFAULT_EXPECTATIONS))
    finally:
        exporter.close()
    FIXTURES.mkdir(exist_ok=True)
    with open(FIXTURES / f"{name}.json", "w", encoding="utf-8") as handle:
        json.dump({"args": {**scenario["args"], "scrape_interval": SCRAPE_INTERVAL, "range": RANGE},
                   "exchanges": client.recording}, handle, sort_keys=True, indent=1)
        handle.write("\n")
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=sorted(SCENARIOS), help="default: all")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ilp-dashboards-rules-") as tmp:
        rule_files = render_rules(Path(tmp))
        failed = False
        for name in args.scenarios:
            report = record(name, rule_files)
            print(f"{name}: {json.dumps(report['summary'], sort_keys=True)}")
            for failure in report["failures"]:
                print(f"  FAIL {failure}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
