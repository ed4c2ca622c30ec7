"""The systemd unit the service lifecycle writes, rendered by Ansible (render-unit.yml) with the
lifecycle's own defaults and vars: every [Service] key is written once, and a key a component
gives in service_lifecycle_unit_settings replaces the lifecycle's own (the hardening, the restart
policy, and the keys the template writes from other inputs), or removes it when null. The
components' unit settings are read from their roles' include of the lifecycle."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
PLAYBOOK = TOP / "tests" / "roles" / "render-unit.yml"
BASE = {"service_lifecycle_name": "fake", "service_lifecycle_version": "1.0.0",
        "service_lifecycle_exec_start": ["/usr/local/bin/fake", "--config=/etc/fake/fake.yml"]}


def render(tmp_path: Path, inputs: dict) -> dict[str, list[str]]:
    """[Service] of the rendered unit: key -> every value it is given, in order."""
    out = tmp_path / "fake.service"
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(dict(BASE, **inputs, out=str(out))))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_NOCOLOR="1")
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(PLAYBOOK), "-e", f"@{extra}"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    section = out.read_text().split("[Service]\n", 1)[1].split("\n[", 1)[0]
    # ExecStart continues on indented lines after a trailing backslash.
    lines = section.replace("\\\n", " ").splitlines()
    settings: dict[str, list[str]] = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def once(settings: dict[str, list[str]]) -> dict[str, str]:
    """The settings, failing on a key written twice (Environment lines are a list by design)."""
    twice = {k: v for k, v in settings.items() if len(v) > 1 and k not in ("Environment", "EnvironmentFile")}
    assert not twice, f"written more than once: {twice}"
    return {k: v[0] for k, v in settings.items()}


def component_unit_settings() -> dict[str, dict]:
    """Component role -> the service_lifecycle_unit_settings its include of the lifecycle gives, when a literal dict."""
    found = {}
    for tasks in sorted(TOP.glob("roles/*/tasks/*.yml")):
        for task in yaml.safe_load(tasks.read_text()) or []:
            include = task.get("ansible.builtin.include_role") or {}
            settings = (task.get("vars") or {}).get("service_lifecycle_unit_settings")
            if include.get("name") == "ilp.observability.service_lifecycle" and isinstance(settings, dict):
                found[tasks.parts[-3]] = settings
    return found


def test_prometheus_stop_timeout_is_written_once_with_its_value(tmp_path):
    # The case: Prometheus asks for 300 s to stop (flushing its head block) over the
    # lifecycle's 60 s; the unit used to carry both lines.
    settings = component_unit_settings()["prometheus"]
    assert settings["TimeoutStopSec"] == "300s"
    unit = once(render(tmp_path, {"service_lifecycle_unit_settings": settings}))
    assert unit["TimeoutStopSec"] == "300s"
    assert unit["LimitNOFILE"] == settings["LimitNOFILE"]


COMPONENTS = component_unit_settings()


@pytest.mark.parametrize("role", sorted(COMPONENTS))
def test_every_components_unit_settings_replace_the_defaults(tmp_path, role):
    # A value the component templates from its own variables stands as a plain string here.
    settings = {k: "templated-by-" + role if "{{" in str(v) else v for k, v in COMPONENTS[role].items()}
    unit = once(render(tmp_path, {"service_lifecycle_unit_settings": settings}))
    for key, value in settings.items():
        if value is None:
            assert key not in unit, key
        else:
            assert unit[key] == str(value), key


def test_keys_the_template_writes_itself_are_replaced_or_removed(tmp_path):
    overrides = {"Type": "notify", "Restart": "always", "RestartSec": "1s", "User": "other", "ExecReload": None,
                 "SystemCallFilter": None, "ReadWritePaths": "/srv/fake", "MemoryDenyWriteExecute": "no"}
    unit = once(render(tmp_path, {
        "service_lifecycle_unit_settings": overrides,
        "service_lifecycle_directories": [{"path": "/var/lib/fake", "owner": "fake", "writable": True}],
        "service_lifecycle_environment": {"A": "1", "B": "2"}}))
    assert unit["Type"] == "notify" and unit["Restart"] == "always" and unit["RestartSec"] == "1s"
    assert unit["User"] == "other" and unit["Group"] == "fake"
    assert "ExecReload" not in unit and "SystemCallFilter" not in unit
    assert unit["ReadWritePaths"] == "/srv/fake"
    assert unit["MemoryDenyWriteExecute"] == "no"


def test_defaults_without_settings(tmp_path):
    # Without unit settings: the restart policy and hardening once each, writable folders and
    # extra paths in ReadWritePaths once each, and an empty ExecReload leaves the key out.
    settings = render(tmp_path, {
        "service_lifecycle_exec_reload": "",
        "service_lifecycle_read_write_paths": ["/var/lib/fake", "/run/fake"],
        "service_lifecycle_directories": [{"path": "/var/lib/fake", "writable": True}, {"path": "/etc/fake"}],
        "service_lifecycle_environment": {"A": "1", "B": "2"}})
    assert settings["Environment"] == ['"A=1"', '"B=2"']
    unit = once(settings)
    assert unit["Restart"] == "on-failure" and unit["TimeoutStopSec"] == "60s"
    assert unit["ProtectSystem"] == "strict" and unit["CapabilityBoundingSet"] == ""
    assert unit["ReadWritePaths"] == "/var/lib/fake /run/fake"
    assert "ExecReload" not in unit
    assert unit["ExecStart"].split() == BASE["service_lifecycle_exec_start"]
