"""What Jaeger stored of the payments tools/ilp-traffic made: checked trace by trace, as one JSON report.

  jaeger_traces.py --jaeger http://HOST:16686 --stream S.json --fail-at-a A.json --fail-at-b B.json
                   --connectors ilp-connector-a,ilp-connector-b [--share 0.1] [--timeout 180]

The summaries are send.js --json outputs: --stream, STREAM payments across both connectors (successful
ones: their trace ids minus failed_ids); --fail-at-a, raw Prepares the first connector rejects (no route);
--fail-at-b, raw Prepares the second connector rejects. Each trace is read from Jaeger's query API
(/api/traces/<id>) and must have exactly the spans its shape implies, parented through the traceparent
entries of the BTP messages:

  successful   payment.send (ilp-traffic) <- packet.process (A) <- packet.process (B), all fulfilled,
               B's ilp.amount = A's ilp.outgoing_amount, one ilp.destination
  fail at A    payment.send <- packet.process (A): reject F02, error.type UnreachableError, status ERROR
  fail at B    payment.send <- packet.process (A) <- packet.process (B): both reject F02 triggered by B

Every failed payment's trace must be stored (Jaeger keeps traces with an ERROR span). Of the successful
ones, the stored count must lie in the central 99.9 % interval of Binomial(n, share) (the chance of a
correct sampler falling outside is at most 0.1 %); --share 1 means all. The connectors' operations must be
packet.process only (the admin API, scraped by Prometheus every few seconds, is not traced).
Exit 0 with the report on stdout, 1 with the report and its "problems" when something is wrong.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
import urllib.error
import urllib.request

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the test network, never a proxy


def get(url: str):
    try:
        with OPENER.open(url, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise


def interval(n: int, share: float, coverage: float = 0.999) -> tuple[int, int]:
    """The central `coverage` interval [lo, hi] of Binomial(n, share): P(X < lo) and P(X > hi) <= (1-coverage)/2."""
    if share >= 1:
        return n, n
    tail = (1 - coverage) / 2
    pmf = [math.comb(n, k) * share ** k * (1 - share) ** (n - k) for k in range(n + 1)]
    lo, below = 0, 0.0
    while lo < n and below + pmf[lo] <= tail:
        below += pmf[lo]
        lo += 1
    hi, above = n, 0.0
    while hi > 0 and above + pmf[hi] <= tail:
        above += pmf[hi]
        hi -= 1
    return lo, hi


def spans_of(jaeger: str, trace_id: str) -> list[dict] | None:
    """The trace's spans as {service, name, spanId, parent, tags}, or None when Jaeger has not stored it."""
    body = get(f"{jaeger}/api/traces/{trace_id}")
    if not body or not body.get("data"):
        return None
    trace = body["data"][0]
    processes = trace.get("processes", {})
    out = []
    for span in trace["spans"]:
        parents = [r["spanID"] for r in span.get("references", []) if r.get("refType") == "CHILD_OF"]
        out.append({"service": processes.get(span["processID"], {}).get("serviceName"),
                    "name": span["operationName"], "spanId": span["spanID"], "parent": parents[0] if parents else "",
                    "tags": {t["key"]: t["value"] for t in span.get("tags", [])}})
    return out


def check(spans: list[dict], shape: str, connectors: tuple[str, str]) -> list[str]:
    """What is wrong with one trace of the given shape (success, fail-a, fail-b); [] when nothing."""
    a_name, b_name = connectors
    want = {"success": ["ilp-traffic", a_name, b_name], "fail-b": ["ilp-traffic", a_name, b_name],
            "fail-a": ["ilp-traffic", a_name]}[shape]
    services = sorted(s["service"] for s in spans)
    if services != sorted(want):
        return [f"services {services}, expected {sorted(want)}"]
    by = {s["service"]: s for s in spans}
    root, span_a = by["ilp-traffic"], by[a_name]
    problems = []
    if root["name"] != "payment.send" or root["parent"]:
        problems.append(f"root span {root['name']} with parent {root['parent']!r}")
    if span_a["name"] != "packet.process" or span_a["parent"] != root["spanId"]:
        problems.append(f"{a_name}: {span_a['name']} not a child of the payment's span")
    chain = [span_a]
    if b_name in by:
        span_b = by[b_name]
        chain.append(span_b)
        if span_b["name"] != "packet.process" or span_b["parent"] != span_a["spanId"]:
            problems.append(f"{b_name}: {span_b['name']} not a child of {a_name}'s span")
        if span_b["tags"].get("ilp.amount") != span_a["tags"].get("ilp.outgoing_amount"):
            problems.append("B's ilp.amount is not A's ilp.outgoing_amount")
    destination = root["tags"].get("ilp.destination")
    for span in chain:
        tags = span["tags"]
        if tags.get("ilp.destination") != destination or not tags.get("peer.source"):
            problems.append(f"{span['service']}: ilp.destination/peer.source {tags}")
        if shape == "success":
            if tags.get("ilp.result") != "fulfill" or tags.get("error") is True:
                problems.append(f"{span['service']}: not fulfilled: {tags}")
        elif tags.get("ilp.result") != "reject" or tags.get("ilp.error_code") != "F02" \
                or tags.get("otel.status_code") != "ERROR":
            problems.append(f"{span['service']}: not an F02 reject with status ERROR: {tags}")
    if shape == "fail-a" and span_a["tags"].get("error.type") != "UnreachableError":
        problems.append(f"{a_name}: error.type {span_a['tags'].get('error.type')!r}, expected UnreachableError")
    if shape == "fail-b" and any(s["tags"].get("ilp.triggered_by") != "test.b" for s in chain):
        problems.append("the reject was not triggered by test.b on both spans")
    if root["tags"].get("ilp.result") != ("fulfill" if shape == "success" else "reject"):
        problems.append(f"payment span: {root['tags']}")
    return problems


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--jaeger", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--fail-at-a", required=True)
    parser.add_argument("--fail-at-b", required=True)
    parser.add_argument("--connectors", required=True, help="service names of the first and second connector")
    parser.add_argument("--share", type=float, default=0.1, help="share of successful traces Jaeger keeps")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--settle", type=float, default=15, help="seconds to wait after the failed traces are in")
    args = parser.parse_args()
    jaeger = args.jaeger.rstrip("/")
    connectors = tuple(args.connectors.split(","))
    stream, fail_a, fail_b = (read_json(path) for path in (args.stream, args.fail_at_a, args.fail_at_b))
    expected = {}
    for trace_id in stream["traces"]["ids"]:
        expected[trace_id] = "fail-stream" if trace_id in stream["traces"]["failed_ids"] else "success"
    for summary, shape in ((fail_a, "fail-a"), (fail_b, "fail-b")):
        for trace_id in summary["traces"]["ids"]:
            expected[trace_id] = shape
    failed = [t for t, shape in expected.items() if shape in ("fail-a", "fail-b")]
    successful = [t for t, shape in expected.items() if shape == "success"]
    problems, stored, examples = [], {}, {}

    # every failed payment's trace, complete (spans arrive from three processes at their own times)
    deadline = time.monotonic() + args.timeout
    pending = set(failed)
    while pending and time.monotonic() < deadline:
        for trace_id in sorted(pending):
            spans = spans_of(jaeger, trace_id)
            if spans is not None and not check(spans, expected[trace_id], connectors):
                stored[trace_id] = spans
                pending.discard(trace_id)
        if pending:
            time.sleep(3)
    for trace_id in sorted(pending):
        spans = spans_of(jaeger, trace_id)
        problems.append(f"failed payment {trace_id} ({expected[trace_id]}): "
                        + ("not stored" if spans is None else "; ".join(check(spans, expected[trace_id], connectors))))

    # the successful ones: sampled; what is stored must be complete and correctly parented
    time.sleep(args.settle)
    for trace_id in successful:
        spans = spans_of(jaeger, trace_id)
        if spans is None:
            continue
        wrong = check(spans, "success", connectors)
        for _attempt in range(5):  # a span may still be on its way
            if not wrong:
                break
            time.sleep(3)
            spans = spans_of(jaeger, trace_id)
            wrong = check(spans, "success", connectors)
        stored[trace_id] = spans
        if wrong:
            problems.append(f"successful payment {trace_id}: " + "; ".join(wrong))
    stored_success = [t for t in successful if t in stored]
    lo, hi = interval(len(successful), args.share)
    if not lo <= len(stored_success) <= hi:
        problems.append(f"{len(stored_success)} of {len(successful)} successful payments stored, outside the 99.9 % "
                        f"interval [{lo}, {hi}] of Binomial({len(successful)}, {args.share})")

    operations = {}
    for service in connectors:
        operations[service] = sorted((get(f"{jaeger}/api/services/{service}/operations") or {}).get("data") or [])
        if operations[service] != ["packet.process"]:
            problems.append(f"{service} has operations {operations[service]}, expected only packet.process")

    for shape in ("success", "fail-a", "fail-b"):
        for trace_id, spans in stored.items():
            if expected[trace_id] == shape:
                examples[shape] = {"traceId": trace_id, "spans": spans}
                break
    report = {
        "sent": {"successful": len(successful), "failed_at_a": len(fail_a["traces"]["ids"]),
                 "failed_at_b": len(fail_b["traces"]["ids"]), "stream_failed": len(stream["traces"]["failed_ids"])},
        "stored": {"successful": len(stored_success), "failed": len([t for t in failed if t in stored])},
        "successful_bound": {"share": args.share, "interval_99_9": [lo, hi]},
        "operations": operations,
        "examples": examples,
        "problems": problems,
    }
    print(json.dumps(report, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
