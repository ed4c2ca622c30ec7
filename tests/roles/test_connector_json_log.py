"""roles/connector/files/json-log.js against the real ilp-connector 23.0.2.

The preload is loaded with `node --require json-log.js node_modules/ilp-connector/dist/index.js` and must
turn every riverpig and `debug` log line into one JSON object per stdout line with level, time, nodeId,
correlationId, component and msg, dropping lines below ILP_LOG_LEVEL.

The connector comes from an existing npm install: the folder named by ILP_CONNECTOR_NODE_MODULES (a
node_modules folder), else the one tests/tools/test_ilp_traffic.py caches under
~/.cache/ilp-observability/ilp-traffic-test/connector-*/node_modules. Without node or such a folder the
tests are skipped. Every connector runs on free loopback ports, is stopped with SIGINT and, failing that,
killed with its process group.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
PRELOAD = TOP / "roles" / "connector" / "files" / "json-log.js"
CACHE = Path.home() / ".cache" / "ilp-observability" / "ilp-traffic-test"
FIELDS = {"level": str, "time": int, "nodeId": str, "correlationId": (str, type(None)), "component": str,
          "msg": str}
LEVELS = ["error", "warn", "info", "debug", "trace"]
START_TIMEOUT = 20  # seconds for /status to answer
STOP_TIMEOUT = 10  # seconds for a graceful SIGINT shutdown


@pytest.fixture(scope="module", name="node_modules")
def fixture_node_modules() -> Path:
    """The node_modules folder holding ilp-connector; skips when node or the install is missing."""
    if shutil.which("node") is None:
        pytest.skip("`node` is not installed: the connector JSON log test runs the real connector")
    override = os.environ.get("ILP_CONNECTOR_NODE_MODULES")
    if override:
        folder = Path(override)
        if not (folder / "ilp-connector" / "package.json").is_file():
            pytest.skip(f"ILP_CONNECTOR_NODE_MODULES={override} holds no ilp-connector")
        return folder
    found = sorted(CACHE.glob("connector-*/node_modules/ilp-connector/package.json"))
    if not found:
        pytest.skip(f"no ilp-connector install under {CACHE}/connector-*/node_modules (run "
                    "tests/tools/test_ilp_traffic.py once, or set ILP_CONNECTOR_NODE_MODULES)")
    return found[-1].parents[1]


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict:
    """The caller's environment without any connector, DEBUG or ILP_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONNECTOR_", "ILP_", "DEBUG", "NODE_OPTIONS"))}
    env.update(extra)
    return env


def get_status(port: int) -> dict | None:
    """The admin API's /status as JSON, or None while it does not answer (no proxy for loopback)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/status", timeout=2) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def parse_lines(text: str) -> list[dict]:
    """Every stdout line as a JSON object; fails naming the first line that is not one."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"stdout line {number} is not JSON: {line!r}\n--- stdout:\n{text}")
        assert isinstance(entry, dict), f"stdout line {number} is not a JSON object: {line!r}"
        entries.append(entry)
    return entries


def check_fields(entries: list[dict], node_id: str) -> None:
    """Each entry has the six fields with their types, a known level, `node_id` and a time in ms."""
    for entry in entries:
        for field, kind in FIELDS.items():
            assert field in entry, f"{field} missing in {entry}"
            assert isinstance(entry[field], kind) and not isinstance(entry[field], bool), \
                f"{field} has the wrong type in {entry}"
        assert entry["level"] in LEVELS, entry
        assert entry["nodeId"] == node_id, entry
        assert entry["time"] > 1_600_000_000_000, f"time is not epoch milliseconds: {entry}"


def run_connector(node_modules: Path, tmp_path: Path, debug: str, level: str | None) -> list[dict]:
    """Starts the connector with the preload, waits until it is up, stops it; returns its JSON lines."""
    admin_port, kids_port = free_port(), free_port()
    accounts = {"kids": {"relation": "child", "plugin": "ilp-plugin-mini-accounts", "assetCode": "USD",
                         "assetScale": 9, "options": {"port": kids_port}}}
    env = clean_env(CONNECTOR_ILP_ADDRESS="test.a", CONNECTOR_BACKEND="one-to-one", CONNECTOR_STORE="memory",
                    CONNECTOR_ADMIN_API="true", CONNECTOR_ADMIN_API_HOST="127.0.0.1",
                    CONNECTOR_ADMIN_API_PORT=str(admin_port), CONNECTOR_ACCOUNTS=json.dumps(accounts),
                    ILP_NODE_ID="connector-a", DEBUG=debug)
    if level is not None:
        env["ILP_LOG_LEVEL"] = level
    out_path, err_path = tmp_path / f"stdout-{level}.txt", tmp_path / f"stderr-{level}.txt"
    command = ["node", "--require", str(PRELOAD), str(node_modules / "ilp-connector" / "dist" / "index.js")]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(command, cwd=node_modules.parent, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            connected = (get_status(admin_port) or {}).get("connected")
            if connected and all(connected.values()):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"connector not up (exit {proc.poll()}) within {START_TIMEOUT}s\n"
                            f"--- stdout:\n{out_path.read_text()}\n--- stderr:\n{err_path.read_text()}")
            time.sleep(0.2)
        # The "connector ready" line follows the accounts' connection within milliseconds.
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        returncode = proc.wait(timeout=STOP_TIMEOUT)
        assert returncode == 0, f"connector exited {returncode} after SIGINT\n{err_path.read_text()}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
    stderr = err_path.read_text()
    entries = parse_lines(out_path.read_text())
    check_fields(entries, "connector-a")
    assert "connector:" not in stderr and "ilp-plugin" not in stderr, f"plain log lines on stderr:\n{stderr}"
    return entries


def test_info_level_startup_logs_are_json(node_modules, tmp_path):
    """Default level info: info and warn lines from riverpig and the plugin, nothing below info."""
    entries = run_connector(node_modules, tmp_path, "*:info,*:warn,*:error", None)
    levels = {e["level"] for e in entries}
    components = {e["component"] for e in entries}
    assert "info" in levels and "warn" in levels, levels
    assert levels <= {"error", "warn", "info"}, levels
    assert {"app", "accounts", "admin-api", "ilp-plugin-mini-accounts[kids]"} <= components, components
    ready = [e for e in entries if e["component"] == "app" and e["msg"].startswith("connector ready")]
    assert ready and ready[0]["level"] == "info" and "address=test.a" in ready[0]["msg"], entries


def test_warn_level_drops_info_lines(node_modules, tmp_path):
    """ILP_LOG_LEVEL=warn drops riverpig's always-on info lines too."""
    entries = run_connector(node_modules, tmp_path, "*:info,*:warn,*:error", "warn")
    levels = {e["level"] for e in entries}
    assert "warn" in levels, entries  # the memory store warns at every start
    assert levels <= {"error", "warn"}, levels


@pytest.mark.parametrize("level", ["debug", "trace"])
def test_debug_levels_show_debug_lines(node_modules, tmp_path, level):
    """DEBUG=* with ILP_LOG_LEVEL=debug shows debug lines; trace lines only at trace."""
    entries = run_connector(node_modules, tmp_path, "*", level)
    levels = {e["level"] for e in entries}
    debug_components = {e["component"] for e in entries if e["level"] == "debug"}
    # riverpig's .debug (hoisted debug 3.x, namespace connector:app) and a plain namespace of the nested
    # debug 4.x copy (ilp-protocol-ildcp) both come out as level debug.
    assert {"app", "ilp-protocol-ildcp"} <= debug_components, entries
    assert any(e["msg"] == "shutting down." for e in entries if e["component"] == "app"), entries
    assert ("trace" in levels) == (level == "trace"), levels


SCRIPT = r"""
const riverpig = require('riverpig');
const log = riverpig('connector:unit');
log.setOutputStream(process.stderr);  // harmless: JSON still goes to stdout
log.error('payment failed. requestId=%s amount=%d', 'req-42', 7, new Error('boom'));
log.info('dropped at level warn');
const btp = require('ilp-logger')('ilp-plugin-btp');
btp.warn('socket closed. id=%s state=%o', 'sock-1', { open: false });
btp.info('dropped at level warn');
const plain = require('debug')('plain-namespace');
plain('dropped at level warn');
"""


def test_error_keeps_stack_and_ids(node_modules):
    """An Error argument keeps its stack in msg; ids become correlationId; nodeId falls back to the address."""
    env = clean_env(ILP_LOG_LEVEL="warn", DEBUG="*", CONNECTOR_ILP_ADDRESS="test.fallback")
    proc = subprocess.run(["node", "--require", str(PRELOAD), "-e", SCRIPT], cwd=node_modules.parent, env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    entries = parse_lines(proc.stdout)
    check_fields(entries, "test.fallback")
    assert [(e["level"], e["component"]) for e in entries] == [("error", "unit"), ("warn", "ilp-plugin-btp")], \
        entries
    error, warn = entries[0], entries[1]
    assert error["msg"].startswith("payment failed. requestId=req-42 amount=7 Error: boom\n    at "), error
    assert error["correlationId"] == "req-42", error
    assert warn["msg"] == "socket closed. id=sock-1 state={ open: false }", warn
    assert warn["correlationId"] == "sock-1", warn


def test_uncaught_exception_and_warnings_are_json_lines(tmp_path):
    """What Node would print as plain text (a crash at start, a process warning) is JSON too."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    script = tmp_path / "crash.js"
    script.write_text('process.emitWarning("careful now")\nsetTimeout(() => { throw new Error("broken at start") }, 10)\n')
    proc = subprocess.run(["node", "--no-warnings", "--require", str(PRELOAD), str(script)],
                          env=clean_env(ILP_NODE_ID="connector-x"), capture_output=True, text=True,
                          timeout=30, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == ""
    entries = parse_lines(proc.stdout)
    check_fields(entries, "connector-x")
    assert [(e["level"], e["component"]) for e in entries] == [("warn", "process"), ("error", "process")]
    assert "careful now" in entries[0]["msg"]
    assert "broken at start" in entries[1]["msg"] and "crash.js" in entries[1]["msg"]
