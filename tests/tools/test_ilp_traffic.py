"""tools/ilp-traffic/send.js against two real ilp-connector 23.0.2 processes on loopback.

A (test.a): mini-accounts children on :17768, BTP peer listener on :17769, admin API :17780.
B (test.b): mini-accounts children on :27768, BTP client to A's :17769, admin API :27780.
alice pays bob (A's child -> A -> B -> B's child); the sender's summary must match what both connectors
count in `ilp_connector_incoming_ilp_packets` / `ilp_connector_outgoing_ilp_packets`, packet for packet.
Then B is stopped: the sender must report rejections and exit 2 within --max-seconds.

The sender is installed by tools/ilp-traffic/install.sh (cached under ~/.cache/ilp-observability/
ilp-traffic/, keyed by its package-lock); the connector with its plugins is cached under
~/.cache/ilp-observability/ilp-traffic-test/, keyed by the pins.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
TOOL = TOP / "tools" / "ilp-traffic"
CACHE = Path.home() / ".cache" / "ilp-observability" / "ilp-traffic-test"
CONNECTOR_PINS = ["ilp-connector@23.0.2", "ilp-plugin-btp@1.5.0", "ilp-plugin-mini-accounts@4.2.0"]
DEFAULT_PORTS = {"a_kids": 17768, "a_peer": 17769, "a_admin": 17780, "b_kids": 27768, "b_admin": 27780}
NETWORK_ERRORS = ("ENOTFOUND", "ECONNREFUSED", "ETIMEDOUT", "EAI_AGAIN", "ECONNRESET", "network")


# ------------------------------------------------------------------------------------------------
# environment, installs


def node_env() -> dict:
    env = dict(os.environ)
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    if "NODE_EXTRA_CA_CERTS" not in env and os.path.exists(bundle):
        env["NODE_EXTRA_CA_CERTS"] = bundle  # behind a TLS-intercepting proxy
    env.update(npm_config_audit="false", npm_config_fund="false", npm_config_update_notifier="false")
    for key in [k for k in env if k.startswith("CONNECTOR_") or k == "DEBUG"]:
        del env[key]
    return env


def require_node() -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed: the ilp-traffic check needs Node.js and npm")
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 18:
        pytest.skip(f"node {version} is too old for send.js (needs >= 18.3)")


def cached_install(name: str, key: str, prepare, command: list[str]) -> Path:
    """Runs `command` in a fresh folder made by `prepare(folder)`, once per key; returns the folder."""
    final = CACHE / f"{name}-{key[:16]}"
    if (final / ".complete").exists():
        return final
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    prepare(work)
    proc = subprocess.run(command, cwd=work, env=node_env(), capture_output=True, text=True, timeout=300,
                          check=False)
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        output = proc.stdout + proc.stderr
        if any(word in output for word in NETWORK_ERRORS):
            pytest.skip(f"{' '.join(command)} could not reach the npm registry:\n{output[-2000:]}")
        pytest.fail(f"{' '.join(command)} failed ({proc.returncode}):\n{output[-4000:]}")
    (work / ".complete").write_text(key + "\n")
    try:
        work.rename(final)
    except OSError:  # another run finished first
        shutil.rmtree(work, ignore_errors=True)
    return final


@pytest.fixture(scope="module")
def tool_dir() -> Path:
    """send.js installed the way the lab and the Molecule scenario install it (install.sh: a cached
    `npm ci --omit=dev` of its package-lock.json outside the work tree)."""
    require_node()
    proc = subprocess.run([str(TOOL / "install.sh")], env=node_env(), capture_output=True, text=True,
                          timeout=300, check=False)
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        if any(word in output for word in NETWORK_ERRORS):
            pytest.skip(f"install.sh could not reach the npm registry:\n{output[-2000:]}")
        pytest.fail(f"install.sh failed ({proc.returncode}):\n{output[-4000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def connector_dir() -> Path:
    require_node()
    key = hashlib.sha256(" ".join(CONNECTOR_PINS).encode()).hexdigest()

    def prepare(work: Path) -> None:
        (work / "package.json").write_text('{"name": "connector-under-test", "private": true}\n')

    command = ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--omit=dev", *CONNECTOR_PINS]
    return cached_install("connector", key, prepare, command)


# ------------------------------------------------------------------------------------------------
# two connectors


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_ports() -> dict:
    if all(port_free(p) for p in DEFAULT_PORTS.values()):
        return dict(DEFAULT_PORTS)
    ports, socks = {}, []
    for name in DEFAULT_PORTS:  # the usual ones are taken: any free loopback ports will do
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        socks.append(sock)
        ports[name] = sock.getsockname()[1]
    for sock in socks:
        sock.close()
    return ports


class Connector:
    def __init__(self, name: str, cwd: Path, env: dict, log: Path):
        self.name, self.cwd, self.env, self.log = name, cwd, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                ["node", "node_modules/ilp-connector/dist/index.js"], cwd=self.cwd, env=self.env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM: immediate exit, like `systemctl stop` without ExecStop
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=3) as resp:
        return json.loads(resp.read())


def scrape(admin_port: int) -> Counter:
    """ilp_connector_{incoming,outgoing}_ilp_packets samples as Counter[(name, account, result, code)]."""
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=3) as resp:
        text = resp.read().decode()
    samples = Counter()
    for line in text.splitlines():
        match = re.match(r"^(ilp_connector_(?:incoming|outgoing)_ilp_packets)\{(.*)\} (\S+)$", line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
            key = (match.group(1), labels.get("account"), labels.get("result"), labels.get("code"))
            samples[key] += int(float(match.group(3)))
    return samples


def delta(before: Counter, after: Counter, name: str, account: str) -> dict:
    """Increase of one account's packet counter: {'fulfilled': n, 'rejected': n, 'failed': n, codes...}."""
    out = Counter()
    for key in set(before) | set(after):
        if key[0] == name and key[1] == account:
            diff = after[key] - before[key]
            if diff:
                out[key[2]] += diff
                if key[3]:
                    out[f"code:{key[3]}"] += diff
    return dict(out)


@pytest.fixture(scope="module")
def connectors(connector_dir, tmp_path_factory):
    ports = choose_ports()
    logs = tmp_path_factory.mktemp("connectors")
    base = node_env()
    base.update(CONNECTOR_BACKEND="one-to-one", CONNECTOR_STORE="memory", CONNECTOR_ENV="test",
                CONNECTOR_ADMIN_API="true", CONNECTOR_ADMIN_API_HOST="127.0.0.1")

    # Static routes and no CCP between the peers: route updates and heartbeats are ILP packets too
    # (counted in the peer accounts' ilp_packets counters at their own times, which would make the
    # counts inexact), and a CCP route-control request that loses the startup race is only retried
    # after 30 s (ilp-connector's ROUTE_CONTROL_RETRY_INTERVAL), leaving test.b unroutable until then.
    def accounts(kids_port: int, peer_name: str, peer_options: dict) -> str:
        usd = {"assetCode": "USD", "assetScale": 9}
        return json.dumps({
            "kids": {"relation": "child", "plugin": "ilp-plugin-mini-accounts", **usd, "options": {"port": kids_port}},
            peer_name: {"relation": "peer", "plugin": "ilp-plugin-btp", **usd, "options": peer_options,
                        "sendRoutes": False, "receiveRoutes": False},
        })

    env_a = dict(base, CONNECTOR_ILP_ADDRESS="test.a", CONNECTOR_ADMIN_API_PORT=str(ports["a_admin"]),
                 CONNECTOR_ROUTES=json.dumps([{"targetPrefix": "test.b", "peerId": "b"}]),
                 CONNECTOR_ACCOUNTS=accounts(ports["a_kids"], "b",
                                             {"listener": {"port": ports["a_peer"], "secret": "s3cret"}}))
    env_b = dict(base, CONNECTOR_ILP_ADDRESS="test.b", CONNECTOR_ADMIN_API_PORT=str(ports["b_admin"]),
                 CONNECTOR_ROUTES=json.dumps([{"targetPrefix": "test.a", "peerId": "a"}]),
                 CONNECTOR_ACCOUNTS=accounts(ports["b_kids"], "a",
                                             {"server": f"btp+ws://:s3cret@127.0.0.1:{ports['a_peer']}"}))
    conn_a = Connector("A", connector_dir, env_a, logs / "a.log")
    conn_b = Connector("B", connector_dir, env_b, logs / "b.log")
    try:
        conn_a.start()
        conn_b.start()
        deadline = time.monotonic() + 30
        last = None
        while True:
            try:
                status_a = get_json(f"http://127.0.0.1:{ports['a_admin']}/status")
                status_b = get_json(f"http://127.0.0.1:{ports['b_admin']}/status")
                last = (status_a, status_b)
                if ("test.b" in status_a["localRoutingTable"] and "test.a" in status_b["localRoutingTable"]
                        and all(status_a["connected"].values()) and all(status_b["connected"].values())):
                    break
            except OSError as err:
                last = err
            for conn in (conn_a, conn_b):
                if conn.proc.poll() is not None:
                    pytest.fail(f"connector {conn.name} exited {conn.proc.returncode}:\n{conn.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"connectors not peered within 30 s: {last!r}\nA:\n{conn_a.tail()}\nB:\n{conn_b.tail()}")
            time.sleep(0.2)
        yield {"ports": ports, "a": conn_a, "b": conn_b}
    finally:
        conn_b.stop()
        conn_a.stop()


# ------------------------------------------------------------------------------------------------
# running the sender


def send(tool_dir: Path, ports: dict, *args: str, max_seconds: float = 20) -> tuple[int, dict, float, str]:
    command = ["node", "send.js",
               "--sender", f"btp+ws://alice:secret@127.0.0.1:{ports['a_kids']}",
               "--receiver", f"btp+ws://bob:secret@127.0.0.1:{ports['b_kids']}",
               "--max-seconds", str(max_seconds), "--json", *args]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=tool_dir, env=node_env(), capture_output=True, text=True,
                          timeout=max_seconds + 15, check=False)
    wall = time.monotonic() - started
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"send.js printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, summary, wall, proc.stderr


def incoming(counts: dict) -> dict:
    """A connector's incoming counter increase in the sender's terms: rejects it made count as `failed`."""
    return {"fulfilled": counts.get("fulfilled", 0), "rejected": counts.get("rejected", 0) + counts.get("failed", 0)}


def sent(summary_counts: dict) -> dict:
    return {"fulfilled": summary_counts["fulfilled"], "rejected": summary_counts["rejected"]}


def assert_matches_metrics(summary: dict, before_a, after_a, before_b, after_b) -> None:
    inc, out = "ilp_connector_incoming_ilp_packets", "ilp_connector_outgoing_ilp_packets"
    # alice -> A (child account "kids") -> B (peer account "a") -> bob (B's "kids")
    assert incoming(delta(before_a, after_a, inc, "kids")) == sent(summary["packets"])
    assert incoming(delta(before_b, after_b, inc, "a")) == sent(summary["packets"])
    b_out = delta(before_b, after_b, out, "kids")
    assert b_out.get("fulfilled", 0) == summary["receiver_received"]["fulfilled"]
    assert b_out.get("rejected", 0) == summary["receiver_received"]["rejected"]
    # what the receiver sent back (STREAM's own packets): bob -> B ("kids") -> A (peer "b") -> alice
    assert incoming(delta(before_b, after_b, inc, "kids")) == sent(summary["receiver_sent"])
    assert incoming(delta(before_a, after_a, inc, "b")) == sent(summary["receiver_sent"])


# ------------------------------------------------------------------------------------------------
# tests


def test_usage_error_exits_64(tool_dir):
    proc = subprocess.run(["node", "send.js", "--packets", "x"], cwd=tool_dir, env=node_env(),
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 64
    assert "--sender" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--destination", "test.x"], "--destination needs --mode packets"),
    (["--mode", "packets", "--destination", "not an address"], "--destination is not an ILP address"),
    (["--trace", "maybe"], "--trace must be on or off"),
    (["--otlp-endpoint", "ftp://x/v1/traces"], "--otlp-endpoint must be an http:// or https:// URL"),
])
def test_trace_and_destination_usage_errors_exit_64(tool_dir, args, message):
    urls = ["--sender", "btp+ws://a:b@127.0.0.1:1", "--receiver", "btp+ws://c:d@127.0.0.1:2"]
    proc = subprocess.run(["node", "send.js", *urls, *args], cwd=tool_dir, env=node_env(),
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 64, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_unreachable_sender_exits_2_within_max_seconds(tool_dir):
    closed = choose_ports()  # nothing listens there (or on the free ports chosen instead)
    if not port_free(closed["a_kids"]):
        pytest.skip("no free port to stand for an unreachable connector")
    unreachable = {"a_kids": closed["a_kids"], "b_kids": closed["b_kids"]}
    code, summary, wall, _stderr = send(tool_dir, unreachable, "--packets", "5", max_seconds=3)
    assert code == 2, summary
    assert summary["stop_reason"] == "sender-unreachable"
    assert summary["packets"]["attempted"] == 0
    assert summary["elapsed_seconds"] <= 3 and wall < 3 + 2


def test_stream_payments_match_connector_metrics(tool_dir, connectors):
    ports = connectors["ports"]
    before_a, before_b = scrape(ports["a_admin"]), scrape(ports["b_admin"])
    code, summary, wall, stderr = send(tool_dir, ports, "--packets", "50", "--amount", "1000",
                                       "--receiver-address", "test.b.kids.bob")
    after_a, after_b = scrape(ports["a_admin"]), scrape(ports["b_admin"])
    assert code == 0, (summary, stderr)
    assert summary["sender"]["address"] == "test.a.kids.alice"
    assert summary["receiver"]["address"] == "test.b.kids.bob"
    assert summary["payments"] == {"attempted": 50, "completed": 50, "failed": 0}
    # one STREAM packet per payment; the rate probe and the close add a few F99 rejects of STREAM's own
    assert summary["phases"]["pay"]["fulfilled"] == 50
    assert summary["packets"]["money_fulfilled"] == 50
    assert summary["phases"]["pay"]["amount_fulfilled"] == 50 * 1000
    assert set(summary["packets"]["reject_codes"]) <= {"F99"}
    for counts in (summary["packets"], summary["receiver_sent"], summary["receiver_received"]):
        assert counts["errored"] == 0 and counts["unanswered"] == 0, summary
    assert summary["amount"]["sent"] == 50 * 1000
    assert 0 < summary["amount"]["delivered"] <= summary["amount"]["sent"]  # spread 0.2 % per hop
    assert summary["errors"] == []
    assert_matches_metrics(summary, before_a, after_a, before_b, after_b)
    print(f"stream: {summary['packets']} receiver_sent={summary['receiver_sent']} "
          f"elapsed={summary['elapsed_seconds']}s wall={wall:.2f}s")


def test_raw_packets_match_connector_metrics(tool_dir, connectors):
    ports = connectors["ports"]
    before_a, before_b = scrape(ports["a_admin"]), scrape(ports["b_admin"])
    code, summary, wall, stderr = send(tool_dir, ports, "--mode", "packets", "--packets", "50", "--amount", "1000")
    after_a, after_b = scrape(ports["a_admin"]), scrape(ports["b_admin"])
    assert code == 0, (summary, stderr)
    assert summary["packets"]["attempted"] == summary["packets"]["fulfilled"] == 50
    assert summary["packets"]["rejected"] == 0 and summary["receiver_sent"]["attempted"] == 0
    assert_matches_metrics(summary, before_a, after_a, before_b, after_b)
    assert delta(before_a, after_a, "ilp_connector_incoming_ilp_packets", "kids") == {"fulfilled": 50}
    assert delta(before_b, after_b, "ilp_connector_incoming_ilp_packets", "a") == {"fulfilled": 50}
    assert delta(before_b, after_b, "ilp_connector_outgoing_ilp_packets", "kids") == {"fulfilled": 50}
    print(f"packets: {summary['packets']} elapsed={summary['elapsed_seconds']}s wall={wall:.2f}s")


@pytest.mark.parametrize("mode", ["stream", "packets"])
def test_max_seconds_stops_a_long_run_with_exact_counts(tool_dir, connectors, mode):
    ports = connectors["ports"]
    before_a, before_b = scrape(ports["a_admin"]), scrape(ports["b_admin"])
    code, summary, wall, stderr = send(tool_dir, ports, "--mode", mode, "--packets", "1000000", "--amount", "10",
                                       max_seconds=2)
    after_a, after_b = scrape(ports["a_admin"]), scrape(ports["b_admin"])
    assert code == 0, (summary, stderr)
    assert summary["stop_reason"] == "max-seconds"
    assert 0 < summary["payments"]["completed"] == summary["payments"]["attempted"] < 1000000
    assert summary["packets"]["unanswered"] == 0 and summary["packets"]["errored"] == 0, summary
    assert summary["elapsed_seconds"] <= 2 and wall < 2 + 2
    assert_matches_metrics(summary, before_a, after_a, before_b, after_b)
    print(f"{mode} for 2 s: {summary['payments']} elapsed={summary['elapsed_seconds']}s wall={wall:.2f}s")


def test_rejects_and_exit_2_when_second_connector_stopped(tool_dir, connectors):
    ports = connectors["ports"]
    connectors["b"].stop()
    deadline = time.monotonic() + 10
    while get_json(f"http://127.0.0.1:{ports['a_admin']}/status")["connected"].get("b"):
        assert time.monotonic() < deadline, "A still shows peer b connected 10 s after B stopped"
        time.sleep(0.1)
    before_a = scrape(ports["a_admin"])
    max_seconds = 8
    code, summary, wall, stderr = send(tool_dir, ports, "--packets", "50", "--amount", "1000",
                                       "--receiver-address", "test.b.kids.bob", "--connect-timeout", "2",
                                       max_seconds=max_seconds)
    after_a = scrape(ports["a_admin"])
    assert code == 2, (summary, stderr)
    assert summary["receiver"]["connected"] is False
    assert summary["packets"]["fulfilled"] == 0
    assert summary["packets"]["rejected"] == 50, summary
    assert set(summary["packets"]["reject_codes"]) <= {"F02", "T01", "T00", "R00"}, summary
    assert summary["elapsed_seconds"] <= max_seconds and wall < max_seconds + 2
    assert incoming(delta(before_a, after_a, "ilp_connector_incoming_ilp_packets", "kids")) == sent(summary["packets"])
    print(f"B stopped: {summary['packets']} A kids: {delta(before_a, after_a, 'ilp_connector_incoming_ilp_packets', 'kids')} "
          f"elapsed={summary['elapsed_seconds']}s wall={wall:.2f}s")
