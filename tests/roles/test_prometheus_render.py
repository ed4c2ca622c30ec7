"""What the prometheus role writes for scraping, rendered by Ansible for a few inventories and
compared with golden files (parsed YAML: prometheus.yml, every file_sd file, the scrape secret
files as data).

The golden files under golden/prometheus/<case>/<host>/ (named like the rendered files, plus
".golden" so that linters leave them alone) were rendered with the templates as they were before
the scrape catalog (one branch per job). ILP_UPDATE_GOLDEN=1 rewrites them from the current
templates; do that only for an intended change of output, and say why in the commit.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PLAYBOOK = HERE / "render-prometheus.yml"
GOLDEN = HERE / "golden" / "prometheus"
INVENTORIES = HERE / "inventories"
UPDATE = os.environ.get("ILP_UPDATE_GOLDEN") == "1"


def connector_scenario_inventory(tmp_path: Path) -> Path:
    """The connector Molecule scenario's hosts, groups and inventory variables, as an inventory."""
    for folder in ("extensions/molecule", "molecule"):
        scenario = TOP / folder / "connector" / "molecule.yml"
        if scenario.exists():
            break
    else:
        pytest.fail("the connector Molecule scenario (extensions/molecule/connector/molecule.yml) is missing")
    config = yaml.safe_load(scenario.read_text())
    inventory = config["provisioner"]["inventory"]
    groups: dict = {}
    for platform in config["platforms"]:
        for group in platform.get("groups", []):
            groups.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = {}
    for group, variables in inventory.get("group_vars", {}).items():
        if group != "all":
            groups.setdefault(group, {"hosts": {}})["vars"] = variables
    hosts = {name: variables for name, variables in inventory.get("host_vars", {}).items()}
    data = {"all": {"vars": inventory.get("group_vars", {}).get("all", {}), "hosts": hosts, "children": groups}}
    path = tmp_path / "connector-scenario.json"
    path.write_text(json.dumps(data))
    return path


def with_group(inventory, name: str, hosts: list[str]):
    """An inventory factory: `inventory` plus a group (as an extra inventory source)."""
    def build(tmp_path: Path) -> list[Path]:
        base = inventory(tmp_path) if callable(inventory) else inventory
        extra = tmp_path / f"group-{name}.json"
        extra.write_text(json.dumps({"all": {"children": {name: {"hosts": {h: {} for h in hosts}}}}}))
        return [base, extra]
    return build


# case name -> (inventory path or factory, extra variables). Several cases may share a golden
# folder (the same output reached another way): golden is the folder name.
CASES = {
    "lab": dict(inventory=TOP / "inventories" / "lab"),
    "connector-scenario": dict(inventory=connector_scenario_inventory),
    # extensions/molecule/connector/verify.yml: a connector taken out of the scraped group.
    "connector-scenario-without-b": dict(
        inventory=with_group(connector_scenario_inventory, "connectors_without_b", ["ilp-conn-a"]),
        extra={"prometheus_connector_group": "connectors_without_b"}),
    "secured": dict(inventory=INVENTORIES / "scrape-secured.yml"),
    "native": dict(inventory=INVENTORIES / "scrape-native.yml"),
    "components": dict(inventory=INVENTORIES / "scrape-components.yml"),
    "legacy": dict(inventory=INVENTORIES / "scrape-legacy.yml"),
}


def render(tmp_path: Path, case: dict) -> Path:
    """Run render-prometheus.yml for the case; returns the output folder (one folder per host)."""
    out = tmp_path / "out"
    out.mkdir()
    inventory = case["inventory"]
    sources = inventory(tmp_path) if callable(inventory) else inventory
    sources = sources if isinstance(sources, list) else [sources]
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({"out": str(out), "ansible_connection": "local",
                                      "ansible_python_interpreter": sys.executable, **case.get("extra", {})}))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    command = [ansible, str(PLAYBOOK), "-e", f"@{extra_file}"]
    for source in sources:
        command += ["-i", str(source)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
                                   ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="true"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def files(folder: Path) -> dict[str, object]:
    """Relative path (without .golden) -> parsed YAML of every file under folder."""
    return {str(path.relative_to(folder)).removesuffix(".golden"): yaml.safe_load(path.read_text())
            for path in sorted(folder.rglob("*")) if path.is_file()}


def write_golden(out: Path, golden: Path) -> None:
    """The rendered files of `out` as the golden files of `golden`."""
    shutil.rmtree(golden, ignore_errors=True)
    for path in sorted(out.rglob("*")):
        if path.is_file():
            target = golden / f"{path.relative_to(out)}.golden"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_scrape_configuration_matches_the_golden_files(tmp_path, name):
    case = CASES[name]
    golden = GOLDEN / case.get("golden", name)
    out = render(tmp_path, case)
    if UPDATE and "golden" not in case:
        write_golden(out, golden)
    assert golden.is_dir(), f"no golden files for {name}: run with ILP_UPDATE_GOLDEN=1"
    assert files(out) == files(golden)
