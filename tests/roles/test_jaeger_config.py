"""The jaeger role's configuration, rendered by Ansible from the role's defaults and vars.

The default pipeline is OTLP -> tail_sampling -> batch -> badger, with the error-priority policies
on the attributes the connector's packet tracing sets; variables and jaeger_config change what
they should; the mirror's Jaeger 2.13 binary (`jaeger validate`) accepts what the role writes and
refuses an unknown key. The connector role's default ratio follows the jaeger group's tail
sampling.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tail_sampling_double import Condition, Span, decide  # noqa: E402  pylint: disable=wrong-import-position

TOP = Path(__file__).resolve().parents[2]
PLAYBOOK = TOP / "tests" / "roles" / "render-jaeger.yml"
CACHE = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
VERSION = yaml.safe_load((TOP / "roles/jaeger/defaults/main.yml").read_text())["jaeger_version"]
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
ARCHIVE = (CACHE / "mirror/jaegertracing/jaeger/releases/download" / f"v{VERSION}"
           / f"jaeger-{VERSION}-linux-{ARCH}.tar.gz")


def render(tmp_path: Path, extra: dict | None = None, inventory: dict | None = None) -> tuple[dict, dict, float]:
    out = tmp_path / "out"
    out.mkdir()
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({"out": str(out), "ansible_python_interpreter": sys.executable, **(extra or {})}))
    hosts = tmp_path / "hosts.json"
    hosts.write_text(json.dumps(inventory or {"all": {"hosts": {"localhost": {}}}}))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(PLAYBOOK), "-i", str(hosts), "-c", "local", "-e", f"@{extra_file}"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
                                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_LOCALHOST_WARNING="false"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return (yaml.safe_load((out / "jaeger.yml").read_text()), json.loads((out / "sampling-strategies.json").read_text()),
            float((out / "connector-ratio").read_text()))


def test_default_pipeline_stores_in_badger_after_error_priority_sampling(tmp_path):
    config, strategies, _ratio = render(tmp_path)
    service = config["service"]
    assert service["pipelines"] == {"traces": {"receivers": ["otlp"], "processors": ["tail_sampling", "batch"],
                                               "exporters": ["jaeger_storage_exporter"]}}
    assert service["extensions"] == ["jaeger_storage", "jaeger_query", "remote_sampling", "healthcheckv2"]
    assert service["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"] == {"host": "0.0.0.0", "port": 8888}
    badger = config["extensions"]["jaeger_storage"]["backends"]["main"]["badger"]
    assert badger == {"directories": {"keys": "/var/lib/jaeger/keys", "values": "/var/lib/jaeger/values"},
                      "ephemeral": False, "ttl": {"spans": "168h"}}
    assert config["exporters"]["jaeger_storage_exporter"] == {"trace_storage": "main"}
    query = config["extensions"]["jaeger_query"]
    assert query["http"] == {"endpoint": "0.0.0.0:16686"} and query["enable_tracing"] is False
    assert config["extensions"]["healthcheckv2"] == {"use_v2": True, "http": {"endpoint": "0.0.0.0:13133"}}
    assert config["extensions"]["remote_sampling"]["file"]["path"] == "/etc/jaeger/sampling-strategies.json"
    assert config["receivers"]["otlp"]["protocols"] == {"grpc": {"endpoint": "0.0.0.0:4317"},
                                                        "http": {"endpoint": "0.0.0.0:4318"}}
    tail = config["processors"]["tail_sampling"]
    assert tail["decision_wait"] == "10s" and tail["num_traces"] == 50000
    # Any policy that samples keeps the trace: a span that failed for real (one OTTL condition,
    # evaluated span by span: status ERROR or an ILP reject or failure, on the attributes the
    # connector's ilp-trace.js sets, unless the reject code is F99), and 10 % of the rest.
    # What these keep and drop: test_sampling_keeps_real_failures_and_samples_f99_like_success.
    assert tail["policies"] == [
        {"name": "failures", "type": "ottl_condition", "ottl_condition": {"error_mode": "ignore", "span": [
            '(status.code == STATUS_CODE_ERROR or attributes["ilp.result"] == "reject"'
            ' or attributes["ilp.result"] == "error") and not (attributes["ilp.error_code"] == "F99")']}},
        {"name": "share", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10.0}}]
    trace_js = (TOP / "roles/connector/files/ilp-trace.js").read_text()
    for name in ("'ilp.result'", "'reject'", "'error'", "'ilp.error_code'", "SpanStatusCode.ERROR"):
        assert name in trace_js, name
    # SDKs asking Jaeger send everything: the share is taken here.
    assert strategies == {"default_strategy": {"type": "probabilistic", "param": 1.0}, "service_strategies": []}


def test_variables_change_what_they_say(tmp_path):
    config, strategies, _ratio = render(tmp_path, {
        "jaeger_tail_sampling_enabled": False, "jaeger_sampling_probability": 0.25, "jaeger_retention": "72h",
        "jaeger_metrics_listen_address": "10.0.0.5:9888", "jaeger_data_dir": "/srv/jaeger",
        "jaeger_sampling_service_strategies": [{"service": "ilp-connector-a", "type": "probabilistic", "param": 0.5}],
        "jaeger_otlp_tls_cert": "CERT", "jaeger_otlp_tls_key": "KEY",
        "jaeger_config": {"service": {"telemetry": {"logs": {"level": "debug"}}}}})
    assert config["service"]["pipelines"]["traces"]["processors"] == ["batch"]
    assert "tail_sampling" not in config["processors"]
    assert strategies == {"default_strategy": {"type": "probabilistic", "param": 0.25},
                          "service_strategies": [{"service": "ilp-connector-a", "type": "probabilistic", "param": 0.5}]}
    telemetry = config["service"]["telemetry"]
    assert telemetry["logs"] == {"level": "debug"}, "jaeger_config merged in"
    assert telemetry["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"] == {"host": "10.0.0.5", "port": 9888}
    badger = config["extensions"]["jaeger_storage"]["backends"]["main"]["badger"]
    assert badger["ttl"] == {"spans": "72h"} and badger["directories"]["keys"] == "/srv/jaeger/keys"
    tls = {"cert_file": "/etc/jaeger/tls/otlp.crt", "key_file": "/etc/jaeger/tls/otlp.key"}
    assert config["receivers"]["otlp"]["protocols"]["http"] == {"endpoint": "0.0.0.0:4318", "tls": tls}
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["tls"] == tls
    assert "tls" not in config["extensions"]["jaeger_query"]["http"]


def test_connector_ratio_follows_the_jaeger_groups_tail_sampling(tmp_path):
    def ratio(case: str, jaeger_vars: dict | None) -> float:
        inventory = {"all": {"hosts": {"localhost": {}}}}
        if jaeger_vars is not None:
            inventory["all"]["children"] = {"jaeger": {"hosts": {"jaeger-1": jaeger_vars}}}
        (tmp_path / case).mkdir()
        return render(tmp_path / case, inventory=inventory)[2]

    assert ratio("no-group", None) == 0.1
    assert ratio("tail-sampling", {}) == 1.0
    assert ratio("head-sampling", {"jaeger_tail_sampling_enabled": False}) == 0.1


# ------------------------------------------------------------------------------------------------
# What the sampler keeps: the rendered policies decided by tail_sampling_double.py, a port of the
# tail_sampling processor's decision (v0.139.0, the one github.com/jaegertracing/jaeger v1.75.0 =
# Jaeger 2.12.0 builds in), for traces made of the spans ilp-trace.js writes (its finish():
# fulfill -> status UNSET; reject -> status ERROR with ilp.result reject, ilp.error_code <code>;
# thrown or no packet -> status ERROR with ilp.result error). One STREAM packet is one trace of
# one span per connector it crossed.

def packet_span(result: str, code: str | None = None) -> Span:
    if result == "fulfill":
        return Span("UNSET", {"ilp.result": "fulfill"})
    if result == "error":
        return Span("ERROR", {"ilp.result": "error", "error.type": "Error"})
    return Span("ERROR", {"ilp.result": "reject", "ilp.error_code": code, "error.type": code})


TRACES = {
    # normal traffic: sampled like a payment that went through
    "fulfilled payment (A and B)": ([packet_span("fulfill"), packet_span("fulfill")], False),
    # ilp-protocol-stream 2.7.1: the receiver's handlePrepare rejects every packet it does not
    # fulfil with FinalApplicationError (F99): the exchange-rate probes and connection close carry
    # a random condition (dist/src/connection.js sendTestPacket, sendConnectionClose) and fail the
    # condition check; A and B pass the receiver's F99 back
    "STREAM probe or close rejected F99 by the receiver": ([packet_span("reject", "F99"),
                                                           packet_span("reject", "F99")], False),
    # real failures: always kept
    "no route at A (F02)": ([packet_span("reject", "F02")], True),
    "no such child at B (F02 at A and B)": ([packet_span("reject", "F02"), packet_span("reject", "F02")], True),
    "insufficient liquidity (T04)": ([packet_span("reject", "T04"), packet_span("reject", "T04")], True),
    "peer unreachable (T01)": ([packet_span("reject", "T01")], True),
    "expired (R00)": ([packet_span("reject", "R00"), packet_span("reject", "R00")], True),
    "amount too large (F08)": ([packet_span("reject", "F08")], True),
    "bad packet at the receiver (F06)": ([packet_span("reject", "F06"), packet_span("reject", "F06")], True),
    "Reject ilp-trace.js could not parse (code unknown)": ([packet_span("reject", "unknown")], True),
    "connector handler threw": ([packet_span("error")], True),
    "F99 at B, F02 on the next packet's span in the same trace": ([packet_span("reject", "F99"),
                                                                   packet_span("reject", "F02")], True),
    "F99 reject and an ERROR span of another service": ([packet_span("reject", "F99"),
                                                         Span("ERROR", {"http.response.status_code": "500"})], True),
    "ERROR span without ILP attributes": ([Span("ERROR")], True),
}
# 400 trace ids, fixed (sha256 of a counter), the same for every run
TRACE_IDS = [hashlib.sha256(str(i).encode()).digest()[:16] for i in range(400)]


def kept_share(tail: dict, spans: list[Span]) -> tuple[int, list[bool]]:
    decisions = [decide(tail, trace_id, spans) for trace_id in TRACE_IDS]
    return sum(decisions), decisions


def test_sampling_keeps_real_failures_and_samples_f99_like_success(tmp_path):
    tail = render(tmp_path)[0]["processors"]["tail_sampling"]
    _count, success = kept_share(tail, TRACES["fulfilled payment (A and B)"][0])
    assert 20 <= sum(success) <= 60, f"about 10 % of 400 successes kept, got {sum(success)}"
    for case, (spans, always) in TRACES.items():
        count, decisions = kept_share(tail, spans)
        if always:
            assert count == len(TRACE_IDS), f"{case}: kept {count} of {len(TRACE_IDS)}, a real failure must always be kept"
        else:
            assert decisions == success, f"{case}: kept {count} of {len(TRACE_IDS)}, not like successes ({sum(success)})"


def test_normal_reject_codes_are_a_variable(tmp_path):
    (tmp_path / "none").mkdir()
    (tmp_path / "f08").mkdir()
    every_reject = render(tmp_path / "none", {"jaeger_tail_sampling_normal_reject_codes": []})[0]
    with_f08 = render(tmp_path / "f08", {"jaeger_tail_sampling_normal_reject_codes": ["F99", "F08"]})[0]
    f99 = TRACES["STREAM probe or close rejected F99 by the receiver"][0]
    f08, f02 = TRACES["amount too large (F08)"][0], TRACES["no route at A (F02)"][0]
    assert kept_share(every_reject["processors"]["tail_sampling"], f99)[0] == len(TRACE_IDS)
    tail = with_f08["processors"]["tail_sampling"]
    assert kept_share(tail, f99)[0] < len(TRACE_IDS) / 4 and kept_share(tail, f08)[0] < len(TRACE_IDS) / 4
    assert kept_share(tail, f02)[0] == len(TRACE_IDS)


@pytest.mark.skipif(os.environ.get("ILP_TAIL_SAMPLING_CROSSCHECK") != "1",
                    reason="set ILP_TAIL_SAMPLING_CROSSCHECK=1 (needs go and the Go module proxy; builds ~2 min)")
def test_double_agrees_with_the_processor(tmp_path):
    """tail_sampling_double.py against the processor itself (tail_sampling_crosscheck/main.go, built from the
    Go module proxy; the processor only, not Jaeger), on the role's policies and the old ones, every case of
    TRACES, 100 trace ids each."""
    if shutil.which("go") is None:
        pytest.fail("ILP_TAIL_SAMPLING_CROSSCHECK=1 but no `go` on PATH")
    binary = tmp_path / "crosscheck"
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=Path(__file__).resolve().parent / "tail_sampling_crosscheck",
                   check=True, timeout=900)
    old_policies = {"decision_wait": "10s", "num_traces": 50000, "policies": [
        {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "ilp-failed-packets", "type": "string_attribute",
         "string_attribute": {"key": "ilp.result", "values": ["reject", "error"]}},
        {"name": "share", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10.0}}]}
    configs = {"old": old_policies}
    for name, extra in (("defaults", {}), ("no normal codes", {"jaeger_tail_sampling_normal_reject_codes": []}),
                        ("F99 and F08", {"jaeger_tail_sampling_normal_reject_codes": ["F99", "F08"]})):
        (tmp_path / name).mkdir()
        configs[name] = render(tmp_path / name, extra)[0]["processors"]["tail_sampling"]
    for name, tail in configs.items():
        cases, expected = [], set()
        for case, (spans, _always) in TRACES.items():
            for i in range(100):
                trace_id = hashlib.sha256(f"{case}/{i}".encode()).digest()[:16]
                cases.append({"id": trace_id.hex(), "spans": [{"status": s.status, "attrs": s.attributes} for s in spans]})
                if decide(tail, trace_id, spans):
                    expected.add(trace_id.hex())
        (tmp_path / "tail.json").write_text(json.dumps(tail))
        (tmp_path / "cases.json").write_text(json.dumps(cases))
        proc = subprocess.run([str(binary), str(tmp_path / "tail.json"), str(tmp_path / "cases.json")],
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
        kept = set(json.loads(proc.stdout.strip().splitlines()[-1]))
        assert kept == expected, f"{name}: the processor and the double differ on {len(kept ^ expected)} traces"


# The keys the processor's configuration takes at v0.139.0 (config.go, mapstructure tags of Config,
# PolicyCfg/sharedPolicyCfg and each policy's Cfg struct); `jaeger validate` refuses any other key.
TAIL_SAMPLING_KEYS = {"decision_wait", "num_traces", "block_on_overflow", "expected_new_traces_per_sec", "policies",
                      "decision_cache", "sample_on_first_match"}
POLICY_KEYS = {"name", "type", "latency", "numeric_attribute", "probabilistic", "status_code", "string_attribute",
               "rate_limiting", "span_count", "trace_state", "boolean_attribute", "ottl_condition", "composite", "and",
               "drop"}
POLICY_CONFIG_KEYS = {"ottl_condition": {"error_mode", "span", "spanevent"},
                      "probabilistic": {"hash_salt", "sampling_percentage"},
                      "status_code": {"status_codes"},
                      "string_attribute": {"key", "values", "enabled_regex_matching", "cache_max_size", "invert_match"}}
OTTL_ERROR_MODES = {"ignore", "silent", "propagate"}  # pkg/ottl v0.139.0 config.go ErrorMode.UnmarshalText


def test_tail_sampling_keys_are_the_processors(tmp_path):
    tail = render(tmp_path)[0]["processors"]["tail_sampling"]
    assert set(tail) <= TAIL_SAMPLING_KEYS
    for policy in tail["policies"]:
        assert set(policy) <= POLICY_KEYS and policy["type"] in policy, policy
        assert set(policy[policy["type"]]) <= POLICY_CONFIG_KEYS[policy["type"]], policy
        if policy["type"] == "ottl_condition":
            assert policy["ottl_condition"]["error_mode"] in OTTL_ERROR_MODES
            for text in policy["ottl_condition"]["span"]:
                Condition(text)  # parses with the OTTL grammar (the paths and operators the double knows)


@pytest.fixture(scope="module")
def jaeger_binary(tmp_path_factory) -> Path:
    if not ARCHIVE.exists():
        pytest.skip(f"{ARCHIVE} not built (python3 tools/release-mirror/build.py jaeger)")
    folder = tmp_path_factory.mktemp("jaeger")
    with tarfile.open(ARCHIVE) as tar:
        member = tar.getmember(f"jaeger-{VERSION}-linux-{ARCH}/jaeger")
        member.name = "jaeger"
        tar.extract(member, folder, filter="data")
    return folder / "jaeger"


@pytest.mark.parametrize("case, extra, refused", [
    ("defaults", {}, None),
    ("head sampling, TLS, debug logs", {"jaeger_tail_sampling_enabled": False, "jaeger_otlp_tls_cert": "C",
                                        "jaeger_otlp_tls_key": "K", "jaeger_query_tls_cert": "C",
                                        "jaeger_query_tls_key": "K",
                                        "jaeger_config": {"service": {"telemetry": {"logs": {"level": "debug"}}}}}, None),
    ("unknown key", {"jaeger_config": {"receivers": {"otlp": {"protocols": {"http": {"no_such_key": 1}}}}}},
     "has invalid keys: no_such_key"),
    ("unconfigured receiver", {"jaeger_config": {"service": {"pipelines": {"traces": {"receivers": ["otlp", "zipkin"]}}}}},
     'references receiver "zipkin" which is not configured'),
])
def test_jaeger_validate_judges_what_the_role_writes(tmp_path, jaeger_binary, case, extra, refused):
    render(tmp_path, extra)
    proc = subprocess.run([str(jaeger_binary), "validate", f"--config={tmp_path / 'out' / 'jaeger.yml'}"],
                          capture_output=True, text=True, timeout=60, check=False)
    if refused is None:
        assert proc.returncode == 0, f"{case}: {proc.stderr}"
    else:
        assert proc.returncode != 0 and refused in proc.stderr, f"{case}: {proc.stderr}"
