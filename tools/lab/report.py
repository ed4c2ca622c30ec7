#!/usr/bin/env python3
"""Print what runs where in the lab, and the URLs reachable from this machine.

    report.py inventories/lab/hosts.yml [lab-traffic.json]

For every lab host: its address on the project network, the ilp.observability services that
are active on it (systemd), and for each service the URL this machine can open, probed once.
With the sender's summary (tools/ilp-traffic --json), also what the sender saw and what
Prometheus counted on the first connector's child account. Where VictoriaLogs runs: the number
of connector log lines it stores, per host, and a query link. Where Jaeger runs: the number of
traces it stores, and the UI and API links of one real payment's trace (one of the sender's
trace ids when Jaeger kept one, else the connectors' trace with the most spans).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# service -> (port, path, description). Extended as roles are added.
SERVICES = {
    "node_exporter": (9100, "/metrics", "host metrics"),
    "prometheus": (9090, "/-/ready", "Prometheus"),
    "alertmanager": (9093, "/-/ready", "Alertmanager"),
    "grafana": (3000, "/api/health", "Grafana"),
    "loki": (3100, "/ready", "Loki"),
    "victorialogs": (9428, "/select/vmui/", "VictoriaLogs UI"),
    "otel-collector": (13134, "/", "log agent health"),
    "jaeger": (16686, "/", "Jaeger UI and query API"),
    "ilp-connector": (7780, "/status", "ILP connector admin API"),
}


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def lab_hosts(inventory: str) -> list[str]:
    out = subprocess.run(["ansible-inventory", "-i", inventory, "--list"], check=True,
                         capture_output=True, text=True).stdout
    return sorted(json.loads(out)["_meta"]["hostvars"].keys())


def probe(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return str(resp.status)
    except urllib.error.HTTPError as exc:  # 401 behind basic auth still proves it answers
        return str(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        return f"unreachable ({exc})"


def query(base: str, promql: str) -> list:
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
        if sum(v for (node, _), v in counted.items() if node == "connector-1") >= packets.get("attempted", 0):
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
        out.append(f"    scrape job {job:<13} {up}/{len(mine)} up")
    firing = sorted({a["labels"]["alertname"] for a in alerts if a["state"] == "firing"})
    out.append(f"    alerts firing: {', '.join(firing) or 'none'}")
    return out


def get_json(url: str, timeout: float = 10):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.load(resp)


def jaeger_traces(base: str) -> dict[str, dict]:
    """Every trace Jaeger stores (trace id -> trace of its v1 JSON API), over all its services."""
    traces: dict[str, dict] = {}
    for service in get_json(f"{base}/api/services").get("data") or []:
        query = urllib.parse.urlencode({"service": service, "lookback": "720h", "limit": 100000})
        for trace in get_json(f"{base}/api/traces?{query}", timeout=30).get("data") or []:
            traces.setdefault(trace["traceID"], trace)
    return traces


def trace_services(trace: dict) -> list[str]:
    processes = trace.get("processes") or {}
    return sorted({processes.get(span.get("processID"), {}).get("serviceName", "?") for span in trace.get("spans", [])})


def jaeger_summary(base: str, traffic_file: str) -> list[str]:
    """Traces stored, and the links of one real payment's trace. Jaeger decides which traces to
    keep 10 s (jaeger_tail_sampling_decision_wait) after their first span: wait up to 40 s."""
    try:
        with open(traffic_file, encoding="utf-8") as handle:
            sent = (json.load(handle).get("traces") or {})
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
    try:
        with urllib.request.urlopen(f"{base}/", timeout=5) as resp:
            if b"not the Jaeger UI" in resp.read():
                out.append("      (this Jaeger binary was built without the UI assets, as the release mirror's is:"
                           " the API link shows the spans)")
    except (urllib.error.URLError, OSError):
        pass
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


def main() -> int:
    hosts = lab_hosts(sys.argv[1] if len(sys.argv) > 1 else "inventories/lab/hosts.yml")
    traffic_file = sys.argv[2] if len(sys.argv) > 2 else ""
    lines = ["", "ilp.observability lab", "=" * 21]
    ok = True
    for host in hosts:
        info = json.loads(docker("inspect", host))[0]
        nets = info["NetworkSettings"]["Networks"]
        address = next(iter(nets.values()))["IPAddress"] if nets else "?"
        release = docker("exec", host, "cat", "/etc/debian_version").strip()
        lines.append(f"{host}  {address}  (Debian {release})")
        for service, (port, path, what) in SERVICES.items():
            state = subprocess.run(["docker", "exec", host, "systemctl", "is-active", service],
                                   capture_output=True, text=True).stdout.strip()
            if state != "active":
                continue
            url = f"http://{address}:{port}{path}"
            status = probe(url)
            ok &= status in ("200", "401")
            lines.append(f"  {service:<14} {what:<26} {url}  -> HTTP {status}")
            if service == "prometheus":
                lines += prometheus_summary(f"http://{address}:{port}")
                lines += traffic_summary(f"http://{address}:{port}", traffic_file)
            if service == "jaeger":
                lines += jaeger_summary(f"http://{address}:{port}", traffic_file)
            if service == "victorialogs":
                lines += victorialogs_summary(f"http://{address}:{port}")
    lines += ["", "node_exporter asks for basic auth in the lab: user prometheus, password in",
              "inventories/lab/group_vars/all/main.yml (production inventories take it from Vault).", ""]
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
