"""The blackbox_exporter role's files, rendered by Ansible from the role's defaults and vars.

The default modules are http_2xx, http_health, tcp_connect and tls, without icmp and without any
capability in the unit; icmp adds the module and CAP_NET_RAW alone; a CA and extra modules land
where they should; the mirror's blackbox_exporter (`--config.check`) accepts what the role writes
and refuses a broken module.
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
PLAYBOOK = TOP / "tests" / "roles" / "render-blackbox_exporter.yml"
CACHE = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
VERSION = yaml.safe_load((TOP / "roles/blackbox_exporter/defaults/main.yml").read_text())["blackbox_exporter_version"]
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
TOPDIR = f"blackbox_exporter-{VERSION}.linux-{ARCH}"
ARCHIVE = CACHE / "mirror/prometheus/blackbox_exporter/releases/download" / f"v{VERSION}" / f"{TOPDIR}.tar.gz"


def render(tmp_path: Path, extra: dict | None = None) -> tuple[dict, dict]:
    out = tmp_path / "out"
    out.mkdir()
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({"out": str(out), "ansible_python_interpreter": sys.executable, **(extra or {})}))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", f"@{extra_file}"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
                                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_LOCALHOST_WARNING="false"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return yaml.safe_load((out / "blackbox.yml").read_text()), json.loads((out / "settings.json").read_text())


def test_default_modules_and_a_unit_without_capabilities(tmp_path):
    config, settings = render(tmp_path)
    modules = config["modules"]
    assert sorted(modules) == ["http_2xx", "http_health", "tcp_connect", "tls"]
    assert modules["http_2xx"]["prober"] == "http" and modules["http_2xx"]["http"]["follow_redirects"] is True
    # A health endpoint that redirects is not healthy.
    assert modules["http_health"]["http"]["follow_redirects"] is False
    assert modules["tls"] == {"prober": "tcp", "timeout": "5s",
                              "tcp": {"preferred_ip_protocol": "ip4", "ip_protocol_fallback": True, "tls": True,
                                      "tls_config": {}}}
    assert all(module["timeout"] == "5s" for module in modules.values())
    assert settings["args"] == ["/usr/local/bin/blackbox_exporter", "--config.file=/etc/blackbox_exporter/blackbox.yml",
                                "--web.listen-address=0.0.0.0:9115", "--log.level=info"]
    assert "AmbientCapabilities" not in settings["unit"] and "CapabilityBoundingSet" not in settings["unit"]
    assert settings["unit"]["ProcSubset"] == "pid"
    assert settings["ready"] == "http://127.0.0.1:9115"
    assert settings["secrets"] == []


def test_icmp_gets_its_module_and_cap_net_raw_only(tmp_path):
    config, settings = render(tmp_path, {"blackbox_exporter_icmp_enabled": True})
    assert config["modules"]["icmp"]["prober"] == "icmp"
    assert settings["unit"]["AmbientCapabilities"] == "CAP_NET_RAW"
    assert settings["unit"]["CapabilityBoundingSet"] == "CAP_NET_RAW"
    assert "ProcSubset" not in settings["unit"]


def test_ca_web_config_and_extra_modules(tmp_path):
    config, settings = render(tmp_path, {
        "blackbox_exporter_probe_ca_cert": "-----BEGIN CERTIFICATE-----\n",
        "blackbox_exporter_basic_auth_users": {"prometheus": "secret"},
        "blackbox_exporter_listen_address": "10.0.0.5:9200",
        "blackbox_exporter_modules": {"http_2xx": {"http": {"valid_status_codes": [200]}},
                                      "http_auth": {"prober": "http", "http": {"basic_auth": {"username": "u"}}}}})
    modules = config["modules"]
    ca = {"ca_file": "/etc/blackbox_exporter/probe-ca.crt"}
    assert modules["http_2xx"]["http"]["tls_config"] == ca and modules["http_health"]["http"]["tls_config"] == ca
    assert modules["tls"]["tcp"]["tls_config"] == ca
    # Merged key by key: the role's settings stay beside the inventory's.
    assert modules["http_2xx"]["http"]["valid_status_codes"] == [200] and modules["http_2xx"]["http"]["method"] == "GET"
    assert modules["http_auth"]["http"]["basic_auth"] == {"username": "u"}
    assert "--web.config.file=/etc/blackbox_exporter/web.yml" in settings["args"]
    assert "--web.listen-address=10.0.0.5:9200" in settings["args"]
    assert settings["ready"] == "http://10.0.0.5:9200"
    assert settings["secrets"] == ["/etc/blackbox_exporter/probe-ca.crt"]


@pytest.fixture(scope="module")
def blackbox_binary(tmp_path_factory) -> Path:
    if not ARCHIVE.exists():
        pytest.skip(f"{ARCHIVE} not built (python3 tools/release-mirror/build.py blackbox_exporter)")
    folder = tmp_path_factory.mktemp("blackbox")
    with tarfile.open(ARCHIVE) as tar:
        member = tar.getmember(f"{TOPDIR}/blackbox_exporter")
        member.name = "blackbox_exporter"
        tar.extract(member, folder, filter="data")
    return folder / "blackbox_exporter"


def check(binary: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), "--config.check", f"--config.file={config}"],
                          capture_output=True, text=True, timeout=30, check=False)


def test_the_binary_accepts_what_the_role_writes_and_refuses_a_broken_module(tmp_path, blackbox_binary):
    render(tmp_path, {"blackbox_exporter_icmp_enabled": True})
    proc = check(blackbox_binary, tmp_path / "out" / "blackbox.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    render(broken, {"blackbox_exporter_modules": {"http_2xx": {"http": {"fail_if_body_matches_regexp": ["("]}}}})
    proc = check(blackbox_binary, broken / "out" / "blackbox.yml")
    assert proc.returncode != 0
    assert "http_2xx" in proc.stdout + proc.stderr or "regexp" in (proc.stdout + proc.stderr).lower()
