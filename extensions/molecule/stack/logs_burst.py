"""Bounded bursts of real connector error lines, followed from the journal to the log store, as one JSON report.

  logs_burst.py --store http://HOST:9428 --tool-dir DIR --sender URL --receiver URL
                --agent-host ilp-stack-a --agent-unit otel_collector --store-host ilp-stack-mon
                --store-unit victorialogs --node-id connector-a [--base-amount 6000000000000]
                [--burst 400] [--restart-burst 1000] [--outage-burst 300] [--outage-seconds 30]

Each burst is N raw ILP Prepares (tools/ilp-traffic, --mode packets) whose amount exceeds the maximum
balance of the first connector's child account: its balance middleware writes one error line per Prepare
("rejected balance update. ... amount=<A>") and rejects it with T04. Each burst has its own amount, so its
lines are told apart from all others by the phrase "amount=<A>". The hosts are the Molecule containers
(docker exec); the store is VictoriaLogs' LogsQL API (/select/logsql/query).

  burst     N lines: the journal holds exactly N, the store exactly N (polled every 0.1 s until N, then held
            3 s more to see a duplicate), with each line's delay from its own time to the poll that first saw
            it (median and worst); the agent's CPU time and memory over the burst (systemd's accounting)
  restart   the agent restarted (systemctl restart) once a fifth of the lines is in the journal: exactly N
            stored, none lost, none twice
  outage    the store stopped, N lines written, the store started again after --outage-seconds: exactly N
            stored, and how long after the store came back the last one arrived
  fields    one stored line of the first burst, found by nodeId and level, with its structured fields

Exit 0 with the report on stdout, 1 with the report and its "problems" when something is wrong.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the test network, never a proxy


def logsql(store: str, query: str) -> list[dict]:
    data = urllib.parse.urlencode({"query": query}).encode()
    with OPENER.open(f"{store}/select/logsql/query", data=data, timeout=10) as response:
        return [json.loads(line) for line in response.read().decode().splitlines() if line.strip()]


def on_host(host: str, *argv: str) -> str:
    return subprocess.run(["docker", "exec", host, *argv], check=True, capture_output=True, text=True).stdout


def journal_count(host: str, phrase: str) -> int:
    out = on_host(host, "journalctl", "--unit", "ilp-connector", "--output", "cat", "--no-pager", "--since", "-15min")
    return sum(1 for line in out.splitlines() if phrase in line)


def unit_usage(host: str, unit: str) -> dict:
    out = on_host(host, "systemctl", "show", unit, "--property", "CPUUsageNSec,MemoryCurrent,MainPID")
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {k: int(v) if v.isdigit() else None for k, v in values.items()}


class Sender:
    def __init__(self, args, amount: int, packets: int, max_seconds: int):
        self.argv = ["node", "send.js", "--sender", args.sender, "--receiver", args.receiver,
                     "--receiver-address", args.receiver_address, "--mode", "packets",
                     "--packets", str(packets), "--amount", str(amount),
                     "--max-seconds", str(max_seconds), "--json"]
        self.proc = subprocess.Popen(self.argv, cwd=args.tool_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)

    def wait(self) -> dict:
        out, err = self.proc.communicate()
        try:
            return json.loads(out)
        except ValueError:
            return {"error": f"send.js exit {self.proc.returncode}: {err.strip()[-300:]}"}


def follow(store: str, query: str, expected: int, timeout: float, hold: float) -> tuple[list[float], list[float], int]:
    """Poll until `expected` lines are stored (or timeout), then `hold` seconds more. Returns the lines'
    own times (sorted), the time each k-th line was first seen, and the highest count seen."""
    seen_at: list[float] = []
    times: list[float] = []
    highest = 0
    deadline = time.time() + timeout
    full_at = None
    while time.time() < deadline:
        now = time.time()
        try:
            rows = logsql(store, f"{query} | fields _time")
        except (OSError, ValueError):
            rows = None
        if rows is not None:
            highest = max(highest, len(rows))
            while len(seen_at) < min(len(rows), expected):
                seen_at.append(now)
            times = sorted(parse_time(r["_time"]) for r in rows)
            if len(rows) >= expected and full_at is None:
                full_at = now
        if full_at is not None and now - full_at >= hold:
            break
        time.sleep(0.1)
    return times, seen_at, highest


def parse_time(value: str) -> float:
    # RFC 3339 with up to nanoseconds, always UTC ("Z") in LogsQL output.
    main, _unused, frac = value.rstrip("Z").partition(".")
    base = dt.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc).timestamp()
    return base + (float("0." + frac) if frac else 0.0)


def delays(times: list[float], seen_at: list[float]) -> dict:
    pairs = [seen - own for own, seen in zip(times, seen_at)]
    if not pairs:
        return {}
    return {"median_s": round(statistics.median(pairs), 3), "worst_s": round(max(pairs), 3)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", required=True)
    p.add_argument("--tool-dir", required=True)
    p.add_argument("--sender", required=True)
    p.add_argument("--receiver", required=True)
    p.add_argument("--receiver-address", default="test.b.kids.bob")
    p.add_argument("--agent-host", required=True)
    p.add_argument("--agent-unit", required=True)
    p.add_argument("--store-host", required=True)
    p.add_argument("--store-unit", required=True)
    p.add_argument("--node-id", required=True)
    p.add_argument("--host-name", default="")
    p.add_argument("--environment", default="")
    p.add_argument("--base-amount", type=int, default=6_000_000_000_000)
    p.add_argument("--burst", type=int, default=400)
    p.add_argument("--restart-burst", type=int, default=1000)
    p.add_argument("--outage-burst", type=int, default=300)
    p.add_argument("--outage-seconds", type=float, default=30)
    p.add_argument("--phases", default="burst,restart,outage,fields",
                   help="which of burst, restart, outage, fields to run (fields needs burst)")
    args = p.parse_args()
    phases = set(args.phases.split(","))
    # A run's own amounts: the lines of an earlier run of this script are never counted.
    base = args.base_amount + (int(time.time()) % 100000) * 10
    report: dict = {"problems": []}

    def query(amount: int) -> str:
        return f'_time:30m nodeId:"{args.node_id}" level:"error" "amount={amount}"'

    if "burst" not in phases:
        phases.discard("fields")
    if "burst" in phases:
        run_burst(args, base + 1, query, report)
    if "restart" in phases:
        run_restart(args, base + 2, query, report)
    if "outage" in phases:
        run_outage(args, base + 3, query, report)
    if "fields" in phases:
        check_fields(args, base + 1, query, report)
    print(json.dumps(report, indent=2, sort_keys=True))
    return 1 if report["problems"] else 0


def run_burst(args, amount: int, query, report: dict) -> None:
    problems = report["problems"]
    before = unit_usage(args.agent_host, args.agent_unit)
    t0 = time.time()
    sent = Sender(args, amount, args.burst, 60).wait()
    times, seen_at, highest = follow(args.store, query(amount), args.burst, 60, 3)
    after = unit_usage(args.agent_host, args.agent_unit)
    journal = journal_count(args.agent_host, f"amount={amount}")
    burst = {"lines": args.burst, "rejected_by_connector": sent.get("packets", {}).get("reject_codes"),
             "journal": journal, "stored": highest, "seconds": round(time.time() - t0, 1), **delays(times, seen_at)}
    if before.get("CPUUsageNSec") is not None and after.get("CPUUsageNSec") is not None:
        burst["agent_cpu_s"] = round((after["CPUUsageNSec"] - before["CPUUsageNSec"]) / 1e9, 3)
    burst["agent_memory_mib"] = round((after.get("MemoryCurrent") or 0) / 2**20, 1)
    report["burst"] = burst
    if journal != args.burst:
        problems.append(f"burst: the journal holds {journal} lines, not {args.burst}")
    if highest != args.burst:
        problems.append(f"burst: the store holds {highest} lines, not {args.burst}")
    if burst.get("worst_s") is None or burst["worst_s"] >= 5:
        problems.append(f"burst: worst delay {burst.get('worst_s')} s (target under 5 s)")


def run_restart(args, amount: int, query, report: dict) -> None:
    """The agent restarted mid-burst."""
    problems = report["problems"]
    pid_before = unit_usage(args.agent_host, args.agent_unit).get("MainPID")
    sender = Sender(args, amount, args.restart_burst, 90)
    restarted_after = None
    deadline = time.time() + 60
    while time.time() < deadline and sender.proc.poll() is None:
        written = journal_count(args.agent_host, f"amount={amount}")
        if written >= args.restart_burst // 5:
            on_host(args.agent_host, "systemctl", "restart", args.agent_unit)
            restarted_after = written
            break
        time.sleep(0.05)
    sent = sender.wait()
    report["restart_sender"] = sent.get("packets", {}).get("reject_codes")
    pid_after = unit_usage(args.agent_host, args.agent_unit).get("MainPID")
    times, seen_at, highest = follow(args.store, query(amount), args.restart_burst, 90, 5)
    journal = journal_count(args.agent_host, f"amount={amount}")
    report["restart"] = {"lines": args.restart_burst, "restarted_after_lines": restarted_after,
                         "agent_pid": [pid_before, pid_after], "journal": journal, "stored": highest}
    if restarted_after is None or restarted_after >= journal:
        problems.append(f"restart: the agent was not restarted mid-burst (after {restarted_after} of {journal} lines)")
    if pid_before == pid_after:
        problems.append("restart: the agent's main PID did not change")
    if journal != args.restart_burst or highest != args.restart_burst:
        problems.append(f"restart: journal {journal}, stored {highest}, expected {args.restart_burst} each")


def run_outage(args, amount: int, query, report: dict) -> None:
    """The store down for --outage-seconds while lines are written."""
    problems = report["problems"]
    on_host(args.store_host, "systemctl", "stop", args.store_unit)
    stopped = time.time()
    try:
        sent = Sender(args, amount, args.outage_burst, 60).wait()
        report["outage_sender"] = sent.get("packets", {}).get("reject_codes")
        time.sleep(max(0.0, args.outage_seconds - (time.time() - stopped)))
    finally:
        on_host(args.store_host, "systemctl", "start", args.store_unit)
    started = time.time()
    times, seen_at, highest = follow(args.store, query(amount), args.outage_burst, 120, 3)
    journal = journal_count(args.agent_host, f"amount={amount}")
    report["outage"] = {"lines": args.outage_burst, "store_down_s": round(started - stopped, 1), "journal": journal,
                        "stored": highest,
                        "last_line_after_store_start_s": round(seen_at[-1] - started, 1) if seen_at else None}
    if journal != args.outage_burst or highest != args.outage_burst:
        problems.append(f"outage: journal {journal}, stored {highest}, expected {args.outage_burst} each")


def check_fields(args, amount: int, query, report: dict) -> None:
    """A line of the first burst by nodeId and level, with its fields."""
    problems = report["problems"]
    rows = logsql(args.store, f"{query(amount)} | limit 1")
    line = rows[0] if rows else {}
    report["fields"] = line
    expect = {"level": "error", "nodeId": args.node_id, "component": "balance-middleware",
              "service.name": "ilp-connector"}
    if args.host_name:
        expect["host.name"] = args.host_name
    if args.environment:
        expect["deployment.environment.name"] = args.environment
    for key, value in expect.items():
        if line.get(key) != value:
            problems.append(f"fields: {key} is {line.get(key)!r}, expected {value!r}")
    if "rejected balance update" not in line.get("_msg", ""):
        problems.append(f"fields: the message is {line.get('_msg')!r}")
    trace_id = line.get("traceId", "")
    if len(trace_id) != 32 or trace_id.strip("0123456789abcdef"):
        problems.append(f"fields: traceId is {trace_id!r}, expected 32 hex digits")


if __name__ == "__main__":
    sys.exit(main())
