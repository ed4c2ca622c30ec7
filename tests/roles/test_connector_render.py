"""The connector role's settings files, rendered by Ansible from the role's defaults.

native: the config file's observability section and the environment variables must be exactly
what the connector's monitoring guide documents (configuration reference and environment table),
with the role's defaults; settings pass through beside them.
interledgerjs: every setting becomes CONNECTOR_<KEY> as ilp-connector reads it, secrets with
quotes and dollars survive systemd's EnvironmentFile parsing, and check-env.js (ilp-connector's
own loader) accepts the file and refuses an unknown key or a bad account.
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
PLAYBOOK = TOP / "tests" / "roles" / "render-connector.yml"
CHECK_ENV = TOP / "roles" / "connector" / "files" / "check-env.js"

# The monitoring guide's configuration reference, with the values the role defaults to
# (environment and nodeId come from the inventory; the guide's samplingRatio example is 0.1).
REFERENCE_OBSERVABILITY = {
    "prometheus": {
        "enabled": True,
        "metricsPath": "/metrics",
        "includeDefaultMetrics": True,
        "labels": {"environment": "production", "nodeId": "connector-1"},
    },
    "opentelemetry": {
        "enabled": True,
        "serviceName": "ilp-connector",
        "exporterEndpoint": "http://jaeger:4318/v1/traces",
        "samplingRatio": 0.1,
    },
    "sla": {
        "packetSuccessRateThreshold": 0.999,
        "settlementSuccessRateThreshold": 0.99,
        "p99LatencyThresholdMs": 10,
    },
}
REFERENCE_ENV = {
    "PROMETHEUS_ENABLED": "true",
    "PROMETHEUS_METRICS_PATH": "/metrics",
    "OTEL_ENABLED": "true",
    "OTEL_SERVICE_NAME": "ilp-connector",
    "OTEL_EXPORTER_ENDPOINT": "http://jaeger:4318/v1/traces",
    "OTEL_SAMPLING_RATIO": "0.1",
    "SLA_PACKET_SUCCESS_THRESHOLD": "0.999",
    "SLA_SETTLEMENT_SUCCESS_THRESHOLD": "0.99",
    "SLA_P99_LATENCY_MS": "10",
    "HEALTH_CHECK_PORT": "8080",
}


def parse_env_file(text: str) -> dict:
    """KEY=value lines as systemd's EnvironmentFile= reads them (double quotes with \\ escapes)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r'\\(["\\`$])', r"\1", value[1:-1])
        env[key.strip()] = value
    return env


def render(tmp_path: Path, extra: dict) -> tuple[dict, dict | None]:
    out = tmp_path / "out"
    out.mkdir()
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({"out": str(out), "ansible_python_interpreter": sys.executable, **extra}))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", f"@{extra_file}"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    env = parse_env_file((out / "connector.env").read_text())
    config_path = out / "connector-config.yaml"
    config = yaml.safe_load(config_path.read_text()) if config_path.exists() else None
    return env, config


NATIVE = {
    "connector_implementation": "native",
    "connector_node_id": "connector-1",
    "connector_environment": "production",
    "connector_otel_enabled": True,
    "connector_otel_exporter_endpoint": "http://jaeger:4318/v1/traces",
    "connector_settings": {
        "ilpAddress": "g.example.connector1",
        "peers": [{"id": "connector-2", "url": "btp+ws://connector-2:7769", "authToken": "s3cret"}],
        "settlement": {"enabled": True, "threshold": 1000000},
    },
}


def test_native_config_file_matches_the_configuration_reference(tmp_path):
    _env, config = render(tmp_path, NATIVE)
    assert config["observability"] == REFERENCE_OBSERVABILITY
    # Settings pass through beside the observability section, untouched.
    assert {k: v for k, v in config.items() if k != "observability"} == NATIVE["connector_settings"]


def test_native_environment_matches_the_reference_table(tmp_path):
    env, _config = render(tmp_path, NATIVE)
    assert {k: env[k] for k in REFERENCE_ENV} == REFERENCE_ENV
    assert env["CONNECTOR_CONFIG_FILE"] == "/etc/ilp-connector/connector-config.yaml"
    assert env["ILP_NODE_ID"] == "connector-1"
    assert not any(k.startswith("OTEL_TRACES") for k in env)  # no zero-code unless asked


def test_native_defaults_are_the_guides_defaults(tmp_path):
    """Without overrides: tracing off, endpoint from the jaeger group (none: localhost), 10 % sampling."""
    env, config = render(tmp_path, {"connector_implementation": "native", "connector_node_id": "n1"})
    assert env["OTEL_ENABLED"] == "false"
    assert env["OTEL_EXPORTER_ENDPOINT"] == "http://localhost:4318/v1/traces"
    assert config["observability"]["opentelemetry"]["samplingRatio"] == 0.1
    assert config["observability"]["sla"] == REFERENCE_OBSERVABILITY["sla"]
    assert config["observability"]["prometheus"]["labels"] == {"environment": "production", "nodeId": "n1"}


def test_zero_code_tracing_uses_the_sdk_variables_and_turns_the_builtin_off(tmp_path):
    env, config = render(tmp_path, dict(NATIVE, connector_otel_zero_code=True, connector_otel_sampling_ratio=0.25))
    assert env["OTEL_ENABLED"] == "false"
    assert config["observability"]["opentelemetry"]["enabled"] is False
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    assert env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "http://jaeger:4318/v1/traces"
    assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert env["OTEL_TRACES_SAMPLER_ARG"] == "0.25"


SECRET = 'pa"ss $HOME `x` \\ end'
INTERLEDGERJS = {
    "connector_node_id": "connector-a",
    "connector_admin_api_host": "10.0.0.5",
    "connector_settings": {
        "ilpAddress": "test.a",
        "spread": 0,
        "accounts": {
            "b": {"relation": "peer", "plugin": "ilp-plugin-btp", "assetCode": "USD", "assetScale": 9,
                  "options": {"listener": {"port": 7769, "secret": SECRET}}},
        },
        "routes": [{"targetPrefix": "test.b", "peerId": "b"}],
    },
}


def test_interledgerjs_settings_become_connector_variables(tmp_path):
    env, config = render(tmp_path, INTERLEDGERJS)
    assert config is None
    assert env["CONNECTOR_ILP_ADDRESS"] == "test.a"
    assert env["CONNECTOR_SPREAD"] == "0"
    assert json.loads(env["CONNECTOR_ACCOUNTS"]) == INTERLEDGERJS["connector_settings"]["accounts"]
    assert json.loads(env["CONNECTOR_ACCOUNTS"])["b"]["options"]["listener"]["secret"] == SECRET
    assert json.loads(env["CONNECTOR_ROUTES"]) == INTERLEDGERJS["connector_settings"]["routes"]
    assert env["CONNECTOR_ADMIN_API"] == "true"
    assert env["CONNECTOR_ADMIN_API_HOST"] == "10.0.0.5"
    assert env["CONNECTOR_ADMIN_API_PORT"] == "7780"
    assert env["CONNECTOR_STORE"] == "memory"
    assert env["CONNECTOR_COLLECT_DEFAULT_METRICS"] == "true"
    assert env["DEBUG"] == "*:info,*:warn,*:error"


def test_interledgerjs_packet_tracing_environment(tmp_path):
    """With tracing on, interledgerjs gets the packet tracing preload's settings, not zero-code's."""
    env, _config = render(tmp_path, dict(INTERLEDGERJS, connector_otel_enabled=True, connector_otel_zero_code=True,
                                         connector_environment="staging", connector_otel_sampling_ratio=0.5,
                                         connector_otel_exporter_endpoint="http://jaeger:4318/v1/traces"))
    assert {k: v for k, v in env.items() if k.startswith("OTEL_")} == {
        "OTEL_SERVICE_NAME": "ilp-connector",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://jaeger:4318/v1/traces",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.5",
        "OTEL_RESOURCE_ATTRIBUTES": "service.instance.id=connector-a,deployment.environment.name=staging",
    }
    assert env["ILP_NODE_ID"] == "connector-a" and env["ILP_ENVIRONMENT"] == "staging"


def test_interledgerjs_zero_code_only_without_packet_tracing(tmp_path):
    env, _config = render(tmp_path, dict(INTERLEDGERJS, connector_otel_enabled=True, connector_otel_zero_code=True,
                                         connector_otel_packet_tracing=False))
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    assert env["OTEL_NODE_RESOURCE_DETECTORS"] == "env,host,os,process"
    (tmp_path / "off").mkdir()
    off, _config = render(tmp_path / "off", dict(INTERLEDGERJS, connector_otel_packet_tracing=True))
    assert not any(k.startswith("OTEL_") for k in off)  # connector_otel_enabled is false by default


def connector_release() -> Path | None:
    """A folder with node_modules/ilp-connector: the mirror's bundle unpacked, or the tools cache."""
    home = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
    for pattern in ("mirror-work/**/ilp-connector-*/node_modules/ilp-connector",
                    "ilp-traffic-test/connector-*/node_modules/ilp-connector"):
        for hit in sorted(glob.glob(str(home / pattern), recursive=True)):
            return Path(hit).parents[1]
    return None


@pytest.fixture(scope="module")
def release() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    found = connector_release()
    if found is None:
        pytest.skip("no installed ilp-connector (build the mirror's ilp-connector bundle or run tests/tools)")
    return found


def check_env(release: Path, env_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(CHECK_ENV), str(release), str(env_file)], capture_output=True, text=True,
                          timeout=60, check=False)


def test_check_env_accepts_the_rendered_file(tmp_path, release):
    render(tmp_path, INTERLEDGERJS)
    proc = check_env(release, tmp_path / "out" / "connector.env")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


def test_check_env_refuses_an_unknown_setting(tmp_path, release):
    bad = dict(INTERLEDGERJS, connector_settings=dict(INTERLEDGERJS["connector_settings"], ilpAdress="typo"))
    render(tmp_path, bad)
    proc = check_env(release, tmp_path / "out" / "connector.env")
    assert proc.returncode == 1
    assert "CONNECTOR_ILP_ADRESS" in proc.stderr


def test_check_env_refuses_an_account_without_a_plugin(tmp_path, release):
    accounts = {"b": {"relation": "peer", "assetCode": "USD", "assetScale": 9, "options": {"secret": SECRET}}}
    bad = dict(INTERLEDGERJS, connector_settings=dict(INTERLEDGERJS["connector_settings"], accounts=accounts))
    render(tmp_path, bad)
    proc = check_env(release, tmp_path / "out" / "connector.env")
    assert proc.returncode == 1
    assert "plugin" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
