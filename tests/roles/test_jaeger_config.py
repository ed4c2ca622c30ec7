"""The jaeger role's configuration, rendered by Ansible from the role's defaults and vars.

The default pipeline is OTLP -> tail_sampling -> batch -> badger, with the error-priority policies
on the attributes the connector's packet tracing sets; variables and jaeger_config change what
they should; the mirror's Jaeger 2.13 binary (`jaeger validate`) accepts what the role writes and
refuses an unknown key. The connector role's default ratio follows the jaeger group's tail
sampling.
"""
from __future__ import annotations

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
    # Any policy that samples keeps the trace: errors, ILP rejects and failures (the attribute the
    # connector's ilp-trace.js sets on every packet span), and 10 % of the rest.
    assert tail["policies"] == [
        {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "ilp-failed-packets", "type": "string_attribute",
         "string_attribute": {"key": "ilp.result", "values": ["reject", "error"]}},
        {"name": "share", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10.0}}]
    trace_js = (TOP / "roles/connector/files/ilp-trace.js").read_text()
    assert "'ilp.result'" in trace_js and "'reject'" in trace_js and "'error'" in trace_js
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
