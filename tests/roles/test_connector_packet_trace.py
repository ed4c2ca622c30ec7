"""roles/connector/files/ilp-trace.js against two real ilp-connector 23.0.2 processes on loopback.

A (test.a) and B (test.b) run from the release mirror's offline bundle (the one the role installs, with
@opentelemetry/auto-instrumentations-node and so the OpenTelemetry SDK) on the mirror's Node.js, each with
`node --require json-log.js --require ilp-trace.js`, peered over BTP with static routes (no CCP), each with
a mini-accounts child account. tools/ilp-traffic pays from A's child alice to B's child bob.

The spans go to an OTLP/HTTP receiver double in this test (127.0.0.1, POST /v1/traces). The connectors
export with OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json, so the test reads the OTLP JSON encoding
(OTLP specification 1.x, "JSON Protobuf Encoding", https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding:
traceId/spanId as hex strings, enum values as integers, 64-bit integers as strings; messages as in
opentelemetry-proto's trace/v1/trace.proto). The default protocol of the role, http/protobuf, is checked
on one connector by finding the trace id's 16 raw bytes and the attribute strings in the protobuf body.

Skipped without the mirror's ilp-connector bundle (~/.cache/ilp-observability/mirror/ilp-connector/
v23.0.2/, built by tools/release-mirror), or without node/npm for tools/ilp-traffic.
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
FILES = TOP / "roles" / "connector" / "files"
JSON_LOG, ILP_TRACE = FILES / "json-log.js", FILES / "ilp-trace.js"
TOOL = TOP / "tools" / "ilp-traffic"
CACHE_DIR = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
MIRROR = CACHE_DIR / "mirror"
CONNECTOR_VERSION, NODE_VERSION = "23.0.2", "24.21.0"
WORK = CACHE_DIR / "ilp-trace-test"
NETWORK_ERRORS = ("ENOTFOUND", "ECONNREFUSED", "ETIMEDOUT", "EAI_AGAIN", "ECONNRESET", "network")
SERVER, CLIENT = 2, 3  # OTLP Span.SpanKind
UNSET, OK, ERROR = 0, 1, 2  # OTLP Status.StatusCode
WAIT = 15  # seconds for spans to arrive


# ------------------------------------------------------------------------------------------------
# the release and the tools


def unpack_once(archive: Path, name: str) -> Path:
    """`archive` unpacked under WORK/<name>-<sha256[:16]>, once; returns that folder."""
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    final = WORK / f"{name}-{digest}"
    if (final / ".complete").exists():
        return final
    WORK.mkdir(parents=True, exist_ok=True)
    work = WORK / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "tar_filter"):
            tar.extractall(work, filter="tar")
        else:
            tar.extractall(work)  # Python without extraction filters (before 3.11.4)
    (work / ".complete").write_text(digest + "\n")
    try:
        work.rename(final)
    except OSError:  # another run finished first
        shutil.rmtree(work, ignore_errors=True)
    return final


@pytest.fixture(scope="module")
def release() -> Path:
    """The folder holding node_modules/ilp-connector and the OpenTelemetry packages (the mirror's bundle)."""
    bundle = MIRROR / "ilp-connector" / f"v{CONNECTOR_VERSION}" / f"ilp-connector-{CONNECTOR_VERSION}-bundle.tar.gz"
    if not bundle.is_file():
        pytest.skip(f"no {bundle} (build it with tools/release-mirror)")
    return unpack_once(bundle, "bundle") / f"ilp-connector-{CONNECTOR_VERSION}"


@pytest.fixture(scope="module")
def node() -> str:
    """The mirror's Node.js (what the role runs the connector on), else the node on PATH."""
    archive = MIRROR / "dist" / f"v{NODE_VERSION}" / f"node-v{NODE_VERSION}-linux-x64.tar.xz"
    if archive.is_file():
        return str(unpack_once(archive, "node") / f"node-v{NODE_VERSION}-linux-x64" / "bin" / "node")
    if shutil.which("node") is None:
        pytest.skip("no node")
    return "node"


@pytest.fixture(scope="module")
def tool_dir() -> Path:
    """tools/ilp-traffic installed by its install.sh (as the lab and the Molecule scenario do)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed: tools/ilp-traffic needs it")
    env = dict(os.environ)
    if "NODE_EXTRA_CA_CERTS" not in env and os.path.exists("/etc/ssl/certs/ca-certificates.crt"):
        env["NODE_EXTRA_CA_CERTS"] = "/etc/ssl/certs/ca-certificates.crt"
    proc = subprocess.run([str(TOOL / "install.sh")], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        if any(word in output for word in NETWORK_ERRORS):
            pytest.skip(f"install.sh could not reach the npm registry:\n{output[-2000:]}")
        pytest.fail(f"install.sh failed ({proc.returncode}):\n{output[-4000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------
# the OTLP/HTTP receiver double


def flatten(value: dict):
    """An OTLP JSON AnyValue as a Python value (intValue is a string in the JSON encoding)."""
    (kind, inner), = value.items()
    if kind == "intValue":
        return int(inner)
    if kind == "arrayValue":
        return [flatten(v) for v in inner.get("values", [])]
    return inner


def attributes(items: list) -> dict:
    return {a["key"]: flatten(a["value"]) for a in items or []}


class Receiver:
    """Accepts POST /v1/traces (JSON or protobuf, chunked or not, gzip or not); keeps what came."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's name)
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        body += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "type": self.headers.get("Content-Type", ""),
                                              "body": body})
                json_reply = "json" in self.headers.get("Content-Type", "")
                reply = b"{}" if json_reply else b""  # an empty ExportTraceServiceResponse
                self.send_response(200)
                self.send_header("Content-Type", "application/json" if json_reply else "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def spans(self) -> list[dict]:
        """Every span received as JSON: service, resource, traceId, spanId, parent, name, kind, status, attrs."""
        out = []
        with self.lock:
            requests = list(self.requests)
        for request in requests:
            assert request["path"] == "/v1/traces", request["path"]
            if "json" not in request["type"]:
                continue
            for resource_spans in json.loads(request["body"]).get("resourceSpans", []):
                resource = attributes(resource_spans.get("resource", {}).get("attributes"))
                for scope_spans in resource_spans.get("scopeSpans", []):
                    for span in scope_spans.get("spans", []):
                        out.append({"service": resource.get("service.name"), "resource": resource,
                                    "traceId": span["traceId"], "spanId": span["spanId"],
                                    "parent": span.get("parentSpanId") or "", "name": span["name"],
                                    "kind": span.get("kind"), "status": span.get("status", {}).get("code", UNSET),
                                    "attrs": attributes(span.get("attributes"))})
        return out

    def wait_for(self, predicate, what: str) -> list[dict]:
        deadline = time.monotonic() + WAIT
        while True:
            spans = self.spans()
            if predicate(spans):
                return spans
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {WAIT}s; spans: {json.dumps(spans, indent=1)[:6000]}")
            time.sleep(0.1)


@pytest.fixture(name="receiver")
def fixture_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


# ------------------------------------------------------------------------------------------------
# connectors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=3) as response:
        return response.read()


class Connector:
    """One ilp-connector process with the given preloads, on free loopback ports."""

    def __init__(self, name: str, node: str, release: Path, logs: Path, preloads: list[Path], env: dict):
        self.name, self.node, self.release, self.preloads = name, node, release, preloads
        self.log = logs / f"{name}.log"
        self.admin = int(env["CONNECTOR_ADMIN_API_PORT"])
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.node, "--no-warnings"]
        for preload in self.preloads:
            command += ["--require", str(preload)]
        command.append(str(self.release / "node_modules" / "ilp-connector" / "dist" / "index.js"))
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(command, cwd=self.release, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def status(self) -> dict | None:
        try:
            return json.loads(get(f"http://127.0.0.1:{self.admin}/status"))
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 10) -> int | None:
        """SIGINT (ilp-connector's graceful shutdown, as the unit's KillSignal), then the process group."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        return self.proc.returncode

    def lines(self) -> list[dict]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"unparsed": line})
        return out

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONNECTOR_", "ILP_", "DEBUG", "NODE_OPTIONS", "OTEL_"))}
    env.update(extra)
    return env


def start_pair(node: str, release: Path, logs: Path, receiver: Receiver, *, b_traced: bool = True,
               a_env: dict | None = None) -> tuple[Connector, Connector, dict]:
    """A (traced) and B (traced unless b_traced is False), peered over BTP; waits until both are up."""
    ports = {name: free_port() for name in ("a_kids", "a_peer", "a_admin", "b_kids", "b_admin")}
    usd = {"assetCode": "USD", "assetScale": 9}

    def accounts(kids_port: int, peer: str, options: dict) -> str:
        return json.dumps({
            "kids": {"relation": "child", "plugin": "ilp-plugin-mini-accounts", **usd, "options": {"port": kids_port}},
            peer: {"relation": "peer", "plugin": "ilp-plugin-btp", **usd, "options": options,
                   "sendRoutes": False, "receiveRoutes": False},
        })

    base = clean_env(CONNECTOR_BACKEND="one-to-one", CONNECTOR_STORE="memory", CONNECTOR_ADMIN_API="true",
                     CONNECTOR_ADMIN_API_HOST="127.0.0.1", ILP_ENVIRONMENT="test", ILP_LOG_LEVEL="trace", DEBUG="*",
                     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/json",
                     OTEL_TRACES_SAMPLER="parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG="1",
                     OTEL_BSP_SCHEDULE_DELAY="100")
    env_a = dict(base, ILP_NODE_ID="connector-a", OTEL_SERVICE_NAME="ilp-connector-a", CONNECTOR_ILP_ADDRESS="test.a",
                 CONNECTOR_ADMIN_API_PORT=str(ports["a_admin"]),
                 CONNECTOR_ROUTES=json.dumps([{"targetPrefix": "test.b", "peerId": "b"}]),
                 CONNECTOR_ACCOUNTS=accounts(ports["a_kids"], "b",
                                             {"listener": {"port": ports["a_peer"], "secret": "s3cret"}}),
                 **(a_env or {}))
    env_b = dict(base, ILP_NODE_ID="connector-b", OTEL_SERVICE_NAME="ilp-connector-b", CONNECTOR_ILP_ADDRESS="test.b",
                 CONNECTOR_ADMIN_API_PORT=str(ports["b_admin"]),
                 CONNECTOR_ROUTES=json.dumps([{"targetPrefix": "test.a", "peerId": "a"}]),
                 CONNECTOR_ACCOUNTS=accounts(ports["b_kids"], "a",
                                             {"server": f"btp+ws://:s3cret@127.0.0.1:{ports['a_peer']}"}))
    conn_a = Connector("a", node, release, logs, [JSON_LOG, ILP_TRACE], env_a)
    conn_b = Connector("b", node, release, logs, [JSON_LOG, ILP_TRACE] if b_traced else [JSON_LOG], env_b)
    conn_a.start()
    conn_b.start()
    deadline = time.monotonic() + 30
    while True:
        status_a, status_b = conn_a.status(), conn_b.status()
        if (status_a and status_b and all(status_a["connected"].values()) and all(status_b["connected"].values())
                and "test.b" in status_a["localRoutingTable"] and "test.a" in status_b["localRoutingTable"]):
            return conn_a, conn_b, ports
        for conn in (conn_a, conn_b):
            if conn.proc.poll() is not None:
                conn_a.stop()
                conn_b.stop()
                pytest.fail(f"connector {conn.name} exited {conn.proc.returncode}:\n{conn.tail()}")
        if time.monotonic() > deadline:
            conn_a.stop()
            conn_b.stop()
            pytest.fail(f"connectors not peered within 30 s\nA:\n{conn_a.tail()}\nB:\n{conn_b.tail()}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def pair_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def pair(node, release, pair_receiver, tmp_path_factory):
    """Both connectors traced, exporting OTLP/JSON to the module's receiver."""
    conn_a, conn_b, ports = start_pair(node, release, tmp_path_factory.mktemp("traced"), pair_receiver)
    yield {"a": conn_a, "b": conn_b, "ports": ports, "receiver": pair_receiver}
    for conn in (conn_b, conn_a):
        assert conn.stop() == 0, f"connector {conn.name} did not shut down cleanly:\n{conn.tail()}"


def send(tool_dir: Path, ports: dict, *args: str, max_seconds: float = 20) -> dict:
    command = ["node", "send.js", "--sender", f"btp+ws://alice:secret@127.0.0.1:{ports['a_kids']}",
               "--receiver", f"btp+ws://bob:secret@127.0.0.1:{ports['b_kids']}", "--max-seconds", str(max_seconds),
               "--json", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "NODE_OPTIONS"))}
    proc = subprocess.run(command, cwd=tool_dir, env=env, capture_output=True, text=True,
                          timeout=max_seconds + 15, check=False)
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"send.js printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    summary["_stderr"] = proc.stderr
    return summary


def by_service(spans: list[dict], trace_id: str) -> dict:
    found = {}
    for span in spans:
        if span["traceId"] == trace_id:
            assert span["service"] not in found, f"two spans of {span['service']} in one trace: {spans}"
            found[span["service"]] = span
    return found


# ------------------------------------------------------------------------------------------------
# tests


def test_one_stream_payment_is_one_trace_across_both_connectors(pair, tool_dir):
    receiver = pair["receiver"]
    summary = send(tool_dir, pair["ports"], "--packets", "1", "--amount", "1000",
                   "--receiver-address", "test.b.kids.bob", "--otlp-endpoint", receiver.url)
    assert summary["exit_code"] == 0, summary
    assert summary["payments"] == {"attempted": 1, "completed": 1, "failed": 0}
    traces = summary["traces"]
    assert traces["enabled"] and len(traces["ids"]) == 1 and traces["failed_ids"] == [], traces
    assert traces["exported"] == 1 and traces["export_error"] is None, traces
    trace_id = traces["ids"][0]
    services = {"ilp-traffic", "ilp-connector-a", "ilp-connector-b"}
    spans = receiver.wait_for(lambda s: set(by_service(s, trace_id)) >= services, "the payment's three spans")
    trace = by_service(spans, trace_id)
    assert set(trace) == services, trace
    root, span_a, span_b = trace["ilp-traffic"], trace["ilp-connector-a"], trace["ilp-connector-b"]

    # parented: sender -> A -> B, through the traceparent entries of the BTP messages
    assert root["parent"] == "" and root["name"] == "payment.send" and root["kind"] == CLIENT
    assert span_a["parent"] == root["spanId"]
    assert span_b["parent"] == span_a["spanId"]

    destination = root["attrs"]["ilp.destination"]
    assert destination.startswith("test.b.kids.bob."), root
    for span in (span_a, span_b):
        assert span["name"] == "packet.process" and span["kind"] == SERVER, span
        assert span["status"] == UNSET, span
        assert span["attrs"]["ilp.destination"] == destination
        assert span["attrs"]["ilp.result"] == "fulfill"
        assert "ilp.error_code" not in span["attrs"] and "error.type" not in span["attrs"]
    # amounts as strings (uint64); the default spread takes 0.2 % per hop: 1000 -> 998 -> 996
    assert {k: span_a["attrs"][k] for k in ("ilp.amount", "ilp.outgoing_amount", "peer.source", "peer.destination")} \
        == {"ilp.amount": "1000", "ilp.outgoing_amount": "998", "peer.source": "kids", "peer.destination": "b"}
    assert {k: span_b["attrs"][k] for k in ("ilp.amount", "ilp.outgoing_amount", "peer.source", "peer.destination")} \
        == {"ilp.amount": "998", "ilp.outgoing_amount": "996", "peer.source": "a", "peer.destination": "kids"}
    assert {k: span_a["resource"].get(k) for k in ("nodeId", "environment", "service.instance.id",
                                                   "deployment.environment.name")} \
        == {"nodeId": "connector-a", "environment": "test", "service.instance.id": "connector-a",
            "deployment.environment.name": "test"}
    assert span_b["resource"]["nodeId"] == "connector-b"


def test_a_packet_without_a_route_is_an_error_span(pair, tool_dir):
    receiver = pair["receiver"]
    summary = send(tool_dir, pair["ports"], "--mode", "packets", "--packets", "1", "--destination", "test.nowhere.x",
                   "--otlp-endpoint", receiver.url, max_seconds=10)
    assert summary["exit_code"] == 2 and summary["packets"]["reject_codes"] == {"F02": 1}, summary
    trace_id, = summary["traces"]["failed_ids"]
    assert summary["traces"]["ids"] == [trace_id]
    spans = receiver.wait_for(lambda s: {"ilp-traffic", "ilp-connector-a"} <= set(by_service(s, trace_id)),
                              "the rejected packet's spans")
    trace = by_service(spans, trace_id)
    assert "ilp-connector-b" not in trace  # A rejected it: B never saw it
    span_a = trace["ilp-connector-a"]
    assert span_a["status"] == ERROR
    assert span_a["parent"] == trace["ilp-traffic"]["spanId"]
    assert {k: span_a["attrs"].get(k) for k in ("ilp.result", "ilp.error_code", "ilp.triggered_by", "error.type",
                                                "ilp.destination", "ilp.amount", "peer.source")} \
        == {"ilp.result": "reject", "ilp.error_code": "F02", "ilp.triggered_by": "test.a", "error.type": "UnreachableError",
            "ilp.destination": "test.nowhere.x", "ilp.amount": "1000", "peer.source": "kids"}
    assert "no route found" in span_a["attrs"]["ilp.error_message"]
    assert "peer.destination" not in span_a["attrs"]
    root = trace["ilp-traffic"]
    assert root["status"] == ERROR and root["attrs"]["ilp.result"] == "reject" and root["attrs"]["ilp.error_code"] == "F02"


def test_a_packet_the_second_connector_cannot_deliver_fails_on_both(pair, tool_dir):
    """B has a route (its child account) but no such child: both spans are rejects, B's made by B."""
    receiver = pair["receiver"]
    summary = send(tool_dir, pair["ports"], "--mode", "packets", "--packets", "1", "--destination",
                   "test.b.kids.nobody", "--otlp-endpoint", receiver.url, max_seconds=10)
    assert summary["exit_code"] == 2 and summary["packets"]["reject_codes"] == {"F02": 1}, summary
    trace_id, = summary["traces"]["failed_ids"]
    services = {"ilp-traffic", "ilp-connector-a", "ilp-connector-b"}
    trace = by_service(receiver.wait_for(lambda s: set(by_service(s, trace_id)) >= services, "three spans"), trace_id)
    span_a, span_b = trace["ilp-connector-a"], trace["ilp-connector-b"]
    assert span_b["parent"] == span_a["spanId"] and span_a["parent"] == trace["ilp-traffic"]["spanId"]
    for span in (span_a, span_b):
        assert span["status"] == ERROR, span
        assert {k: span["attrs"].get(k) for k in ("ilp.result", "ilp.error_code", "ilp.triggered_by", "error.type")} \
            == {"ilp.result": "reject", "ilp.error_code": "F02", "ilp.triggered_by": "test.b", "error.type": "F02"}, span
    assert span_a["attrs"]["peer.destination"] == "b" and span_b["attrs"]["peer.destination"] == "kids"


def test_admin_api_requests_make_no_spans(pair):
    """Prometheus' scrapes and the readiness check are not traced (nothing instruments HTTP)."""
    receiver = pair["receiver"]
    time.sleep(0.5)  # what earlier tests sent has been exported (the batch delay is 100 ms)
    before = len(receiver.spans())
    for conn in (pair["a"], pair["b"]):
        for path in ("/metrics", "/status", "/metrics", "/status"):
            get(f"http://127.0.0.1:{conn.admin}{path}")
    time.sleep(1.0)
    spans = receiver.spans()
    assert len(spans) == before, spans[before:]
    assert {s["name"] for s in spans} <= {"packet.process", "payment.send"}
    assert not any(k.startswith(("http.", "url.")) for s in spans for k in s["attrs"])


def test_log_lines_during_a_packet_carry_its_trace_and_span_ids(pair, tool_dir):
    receiver = pair["receiver"]
    summary = send(tool_dir, pair["ports"], "--mode", "packets", "--packets", "1", "--destination", "test.nowhere.y",
                   "--otlp-endpoint", receiver.url, max_seconds=10)
    trace_id, = summary["traces"]["ids"]
    spans = receiver.wait_for(lambda s: "ilp-connector-a" in by_service(s, trace_id), "A's span")
    trace = by_service(spans, trace_id)
    span_id = trace["ilp-connector-a"]["spanId"]
    lines = pair["a"].lines()
    with_ids = [line for line in lines if line.get("traceId") == trace_id]
    # route-builder's "no route found" (debug) and the error handler's "creating rejection" are
    # written inside the packet span
    inside = [line for line in with_ids if line.get("spanId") == span_id]
    components = {line["component"] for line in inside}
    assert {"route-builder", "error-handler-middleware[kids]"} <= components, with_ids
    # before the span starts (the BTP message being read) the lines carry the sender's span
    assert {line["spanId"] for line in with_ids} <= {span_id, trace["ilp-traffic"]["spanId"]}, with_ids
    # lines outside any packet have no ids
    ready = [line for line in lines if line.get("msg", "").startswith("connector ready")]
    assert ready and "traceId" not in ready[0] and "spanId" not in ready[0]
    assert all(isinstance(line.get("traceId"), str) and len(line["traceId"]) == 32 and len(line["spanId"]) == 16
               for line in lines if "traceId" in line)


def test_a_peer_without_the_preload_still_forwards_and_fulfils(node, release, tool_dir, receiver, tmp_path):
    """B runs without ilp-trace.js: the traceparent entry A adds to its BTP messages is ignored.

    A exports with the role's default protocol (http/protobuf) and a batch delay longer than the test,
    so its span arrives only through the flush at exit (SIGINT -> graceful shutdown -> process.exit).
    """
    a_env = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf", "OTEL_BSP_SCHEDULE_DELAY": "600000"}
    conn_a, conn_b, ports = start_pair(node, release, tmp_path, receiver, b_traced=False, a_env=a_env)
    try:
        summary = send(tool_dir, ports, "--packets", "3", "--amount", "1000", "--receiver-address", "test.b.kids.bob")
        assert summary["exit_code"] == 0, summary
        assert summary["payments"] == {"attempted": 3, "completed": 3, "failed": 0}
        assert summary["receiver_received"]["fulfilled"] == summary["packets"]["fulfilled"]
        time.sleep(0.5)
        assert receiver.requests == []  # the batch delay is 10 minutes
    finally:
        code_b = conn_b.stop()
        code_a = conn_a.stop()
    assert code_a == 0 and code_b == 0, conn_a.tail() + conn_b.tail()
    # B logged nothing about the unknown protocol-data entry: no error lines at all
    assert not [line for line in conn_b.lines() if line.get("level") == "error" or "unparsed" in line], conn_b.tail()
    # A's spans (protobuf) were flushed at exit: each payment's trace id, as 16 raw bytes, and the
    # attribute keys and values of a fulfilled, forwarded packet
    bodies = b"".join(r["body"] for r in receiver.requests)
    assert receiver.requests and all(r["type"] == "application/x-protobuf" for r in receiver.requests), receiver.requests
    for trace_id in summary["traces"]["ids"]:
        assert bytes.fromhex(trace_id) in bodies, trace_id
    for text in (b"packet.process", b"ilp-connector-a", b"ilp.result", b"fulfill", b"peer.destination",
                 b"ilp.destination", b"test.b.kids.bob"):
        assert text in bodies, text
    assert b"ilp-connector-b" not in bodies


def test_the_connector_runs_untraced_when_opentelemetry_is_missing(node, tmp_path):
    """Without @opentelemetry/api in reach the preload warns once (a JSON line) and changes nothing."""
    script = tmp_path / "main.js"
    script.write_text("console.log('still running')\n")
    (tmp_path / "node_modules").mkdir()
    proc = subprocess.run([node, "--no-warnings", "--require", str(JSON_LOG), "--require", str(ILP_TRACE), str(script)],
                          cwd=tmp_path, env=clean_env(ILP_NODE_ID="x"), capture_output=True, text=True, timeout=30,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "still running" in lines and len(lines) == 2, lines
    warning = json.loads(next(line for line in lines if line != "still running"))
    assert warning["level"] == "warn" and warning["component"] == "process", warning
    assert warning["msg"].startswith("Warning: ilp-trace: packet tracing is off: @opentelemetry/api not found"), warning
    assert "\n" not in warning["msg"], warning
