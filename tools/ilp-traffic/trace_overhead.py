#!/usr/bin/env python3
"""Packets per second through two real ilp-connector 23.0.2 processes, with and without ilp-trace.js.

Three pairs of connectors run side by side on loopback, from the release mirror's bundle on the mirror's
Node.js, as the connector role runs them (json-log.js, log level info, static routes, no CCP):

  off       json-log.js only (no packet tracing)
  sampled   json-log.js + ilp-trace.js, every packet span recorded and exported (parent-based, the sender's
            traceparent has the sampled flag), OTLP/HTTP protobuf to a local receiver that discards it
  unsampled json-log.js + ilp-trace.js with sampling ratio 0 and no traceparent from the sender (--trace
            off): the hooks and the context propagation without recording

tools/ilp-traffic sends --packets raw Prepares (--mode packets, one at a time: each waits for its
Fulfill) from A's child to B's child; the runs alternate between the pairs (one warm-up run each, not
counted, then --runs rounds). Packets per second = fulfilled packets / the sender's elapsed seconds.

  tools/ilp-traffic/trace_overhead.py [--packets 2000] [--runs 3] [--json]

Needs the mirror's ilp-connector bundle and Node.js (~/.cache/ilp-observability/mirror, or ILP_CACHE_DIR),
and node + npm for tools/ilp-traffic (installed by its install.sh).
"""
from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
FILES = TOP / "roles" / "connector" / "files"
CACHE = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
BUNDLE = CACHE / "mirror" / "ilp-connector" / "v23.0.2" / "ilp-connector-23.0.2-bundle.tar.gz"
NODE = CACHE / "mirror" / "dist" / "v24.21.0" / "node-v24.21.0-linux-x64.tar.xz"
WORK = CACHE / "ilp-trace-test"


def unpack_once(archive: Path, name: str) -> Path:
    final = WORK / f"{name}-{hashlib.sha256(archive.read_bytes()).hexdigest()[:16]}"
    if not (final / ".complete").exists():
        work = WORK / f".{final.name}.tmp-{os.getpid()}"
        work.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            tar.extractall(work)
        (work / ".complete").write_text("ok\n")
        try:
            work.rename(final)
        except OSError:
            pass
    return final


class Sink(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that reads and discards what it is sent (counts requests and bytes)."""
    protocol_version = "HTTP/1.1"
    received = {"requests": 0, "bytes": 0}

    def do_POST(self):  # noqa: N802
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            size = 1
            while size:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                Sink.received["bytes"] += len(self.rfile.read(size))
                self.rfile.readline()
        else:
            Sink.received["bytes"] += len(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        Sink.received["requests"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(port: int):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/status", timeout=2) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def start_pair(name: str, node: str, release: Path, logs: Path, traced: bool, ratio: str, sink_url: str) -> dict:
    ports = {k: free_port() for k in ("a_kids", "a_peer", "a_admin", "b_kids", "b_admin")}
    usd = {"assetCode": "USD", "assetScale": 9}

    def accounts(kids: int, peer: str, options: dict) -> str:
        return json.dumps({"kids": {"relation": "child", "plugin": "ilp-plugin-mini-accounts", **usd,
                                    "options": {"port": kids}},
                           peer: {"relation": "peer", "plugin": "ilp-plugin-btp", **usd, "options": options,
                                  "sendRoutes": False, "receiveRoutes": False}})

    base = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECTOR_", "ILP_", "DEBUG", "OTEL_"))}
    base.update(CONNECTOR_BACKEND="one-to-one", CONNECTOR_STORE="memory", CONNECTOR_ADMIN_API="true",
                CONNECTOR_ADMIN_API_HOST="127.0.0.1", NODE_ENV="production", ILP_LOG_LEVEL="info",
                DEBUG="*:info,*:warn,*:error", ILP_ENVIRONMENT="bench", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=sink_url,
                OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/protobuf", OTEL_TRACES_SAMPLER="parentbased_traceidratio",
                OTEL_TRACES_SAMPLER_ARG=ratio)
    procs = []
    for side, address, route, kids, admin, peer, options in (
            ("a", "test.a", "test.b", ports["a_kids"], ports["a_admin"], "b",
             {"listener": {"port": ports["a_peer"], "secret": "s3cret"}}),
            ("b", "test.b", "test.a", ports["b_kids"], ports["b_admin"], "a",
             {"server": f"btp+ws://:s3cret@127.0.0.1:{ports['a_peer']}"})):
        env = dict(base, ILP_NODE_ID=f"{name}-{side}", OTEL_SERVICE_NAME=f"{name}-{side}", CONNECTOR_ILP_ADDRESS=address,
                   CONNECTOR_ADMIN_API_PORT=str(admin), CONNECTOR_ACCOUNTS=accounts(kids, peer, options),
                   CONNECTOR_ROUTES=json.dumps([{"targetPrefix": route, "peerId": peer}]))
        command = [node, "--no-warnings", "--require", str(FILES / "json-log.js")]
        if traced:
            command += ["--require", str(FILES / "ilp-trace.js")]
        command.append(str(release / "node_modules" / "ilp-connector" / "dist" / "index.js"))
        with open(logs / f"{name}-{side}.log", "wb") as out:
            procs.append(subprocess.Popen(command, cwd=release, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 30
    while True:
        sa, sb = status(ports["a_admin"]), status(ports["b_admin"])
        if sa and sb and all(sa["connected"].values()) and all(sb["connected"].values()):
            return {"name": name, "ports": ports, "procs": procs}
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            stop_pair({"procs": procs})
            sys.exit(f"pair {name} did not start; logs in {logs}")
        time.sleep(0.2)


def stop_pair(pair: dict) -> None:
    for proc in pair["procs"]:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in pair["procs"]:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def run(tool_dir: Path, pair: dict, packets: int, trace: str) -> dict:
    ports = pair["ports"]
    command = ["node", "send.js", "--sender", f"btp+ws://alice:secret@127.0.0.1:{ports['a_kids']}",
               "--receiver", f"btp+ws://bob:secret@127.0.0.1:{ports['b_kids']}", "--mode", "packets",
               "--packets", str(packets), "--amount", "1000", "--max-seconds", "120", "--packet-timeout", "10",
               "--trace", trace, "--json"]
    proc = subprocess.run(command, cwd=tool_dir, capture_output=True, text=True, timeout=150, check=False)
    summary = json.loads(proc.stdout)
    fulfilled = summary["packets"]["fulfilled"]
    if summary["exit_code"] != 0 or fulfilled != packets:
        sys.exit(f"{pair['name']}: run failed: {json.dumps(summary)[:2000]}")
    return {"packets": fulfilled, "seconds": summary["elapsed_seconds"],
            "pps": round(fulfilled / summary["elapsed_seconds"], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packets", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for path in (BUNDLE, NODE):
        if not path.is_file():
            sys.exit(f"missing {path} (build the release mirror)")
    release = unpack_once(BUNDLE, "bundle") / "ilp-connector-23.0.2"
    node = str(unpack_once(NODE, "node") / "node-v24.21.0-linux-x64" / "bin" / "node")
    tool_dir = Path(subprocess.run([str(TOP / "tools" / "ilp-traffic" / "install.sh")], capture_output=True,
                                   text=True, check=True).stdout.strip().splitlines()[-1])
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{sink.server_address[1]}/v1/traces"
    logs = WORK / "overhead-logs"
    logs.mkdir(parents=True, exist_ok=True)
    setups = [("off", False, "1", "on"), ("sampled", True, "1", "on"), ("unsampled", True, "0", "off")]
    pairs = {}
    try:
        for name, traced, ratio, _trace in setups:
            pairs[name] = start_pair(name, node, release, logs, traced, ratio, sink_url)
        results = {name: [] for name, *_ in setups}
        for round_ in range(args.runs + 1):  # round 0 warms up
            for name, _traced, _ratio, trace in setups:
                result = run(tool_dir, pairs[name], args.packets, trace)
                if round_:
                    results[name].append(result)
                if not args.json:
                    print(f"{'warm-up' if not round_ else 'run ' + str(round_)} {name:9} {result['pps']:8.1f} packets/s "
                          f"({result['packets']} in {result['seconds']} s)", flush=True)
    finally:
        for pair in pairs.values():
            stop_pair(pair)
        sink.shutdown()
    summary = {name: {"runs": [r["pps"] for r in runs], "median": statistics.median(r["pps"] for r in runs)}
               for name, runs in results.items()}
    base = summary["off"]["median"]
    for name in summary:
        summary[name]["vs_off"] = f"{(summary[name]['median'] / base - 1) * 100:+.1f} %"
    summary["_exported"] = dict(Sink.received)
    summary["_cpus"] = os.cpu_count()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for name, _traced, _ratio, _trace in setups:
            s = summary[name]
            print(f"{name:9} median {s['median']:8.1f} packets/s ({s['vs_off']}), runs {s['runs']}")
        print(f"OTLP export: {Sink.received['requests']} requests, {Sink.received['bytes']} bytes; {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
