"""The lifecycle's contract: each entry point validates a component role's inputs against its
own argument spec before any task runs, and refuses to be used without a component role.
Runs ansible-playbook on localhost; every case fails before anything could change."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
PLAYBOOK = TOP / "tests" / "roles" / "lifecycle-contract.yml"
SPEC = yaml.safe_load((TOP / "roles" / "service_lifecycle" / "meta" / "argument_specs.yml").read_text())["argument_specs"]

VALID = {
    "main": {"service_lifecycle_name": "fake", "service_lifecycle_version": "1.0.0",
             "service_lifecycle_archive_url": "file:///nonexistent/fake-1.0.0.tar.gz",
             "service_lifecycle_exec_start": ["/usr/local/bin/fake"]},
    "archive": {"service_lifecycle_name": "fake", "service_lifecycle_version": "1.0.0",
                "service_lifecycle_archive_url": "file:///nonexistent/fake-1.0.0.tar.gz"},
    "activate": {"service_lifecycle_name": "fake", "service_lifecycle_version": "1.0.0"},
    "service": {"service_lifecycle_name": "fake", "service_lifecycle_version": "1.0.0",
                "service_lifecycle_exec_start": ["/usr/local/bin/fake"]},
}


def run(tmp_path, entry_point, inputs, direct=False):
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(dict(inputs, fake_entry_point=entry_point, direct=direct)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
               ANSIBLE_ROLES_PATH=str(TOP / "tests" / "roles" / "fixtures" / "roles"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([shutil.which("ansible-playbook") or "ansible-playbook", str(PLAYBOOK), "-e", f"@{extra}"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_every_entry_point_has_a_spec():
    assert set(SPEC) == {"main", "archive", "activate", "service"}
    for name, spec in SPEC.items():
        assert spec.get("short_description") and spec.get("description"), name
        for option, body in spec["options"].items():
            assert body.get("description"), f"{name}: {option} has no description"
            assert body.get("type"), f"{name}: {option} has no type"


@pytest.mark.parametrize("entry_point", sorted(VALID))
def test_a_forgotten_required_input_fails_with_the_specs_message(tmp_path, entry_point):
    required = sorted(k for k, v in SPEC[entry_point]["options"].items() if v.get("required"))
    assert required, entry_point
    inputs = {k: v for k, v in VALID[entry_point].items() if k != required[-1]}
    rc, out = run(tmp_path, entry_point, inputs)
    assert rc != 0
    assert f"arg spec '{entry_point}'" in out, out[-2000:]
    assert "missing required arguments: " + required[-1] in out, out[-2000:]


@pytest.mark.parametrize("entry_point", ["main", "service"])
def test_a_wrong_type_fails_with_the_specs_message(tmp_path, entry_point):
    inputs = dict(VALID[entry_point], service_lifecycle_ready_timeout="soon", service_lifecycle_directories=["/etc/fake"])
    rc, out = run(tmp_path, entry_point, inputs)
    assert rc != 0
    assert "service_lifecycle_ready_timeout" in out and "int" in out, out[-2000:]
    assert "service_lifecycle_directories" in out, out[-2000:]


def test_valid_inputs_pass_validation_and_direct_use_is_refused(tmp_path):
    # Valid inputs get past validation; without a component role the lifecycle's first task
    # refuses to go on (before it reads or changes anything).
    rc, out = run(tmp_path, "main", VALID["main"], direct=True)
    assert rc != 0
    assert "Validating arguments against arg spec 'main'" in out
    assert "is internal to the collection" in out, out[-2000:]
