"""What the prometheus role writes for scraping, rendered by Ansible for a few inventories and
compared with golden files (parsed YAML: prometheus.yml, every file_sd file, the scrape secret
files as data), and checked by promtool (check config, which reads the file_sd files too) when
the release mirror holds Prometheus' archive.

The golden files under golden/prometheus/<case>/<host>/ (named like the rendered files, plus
".golden" so that linters leave them alone) were rendered with the templates as they were before
the scrape catalog (one branch per job), and rewritten once since, for one intended change: the
log agent's job (otel_collector, every host) and the loki job's place after jaeger's; and once
more for the probe jobs: a blackbox group added to the components, native and secured inventories
brings the blackbox job and one blackbox_<module> job per probed module, nothing else changed.
ILP_UPDATE_GOLDEN=1 rewrites them from the current templates; do that only for an intended change
of output, and say why in the commit.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PLAYBOOK = HERE / "render-prometheus.yml"
GOLDEN = HERE / "golden" / "prometheus"
INVENTORIES = HERE / "inventories"
UPDATE = os.environ.get("ILP_UPDATE_GOLDEN") == "1"


def stack_scenario_inventory(tmp_path: Path) -> Path:
    """The full-stack Molecule scenario's hosts, groups and inventory variables, as an inventory."""
    for folder in ("extensions/molecule", "molecule"):
        scenario = TOP / folder / "stack" / "molecule.yml"
        if scenario.exists():
            break
    else:
        pytest.fail("the full-stack Molecule scenario (extensions/molecule/stack/molecule.yml) is missing")
    config = yaml.safe_load(scenario.read_text())
    inventory = config["provisioner"]["inventory"]
    groups: dict = {}
    for platform in config["platforms"]:
        for group in platform.get("groups", []):
            groups.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = {}
    for group, variables in inventory.get("group_vars", {}).items():
        if group != "all":
            groups.setdefault(group, {"hosts": {}})["vars"] = variables
    hosts = dict(inventory.get("host_vars", {}))
    data = {"all": {"vars": inventory.get("group_vars", {}).get("all", {}), "hosts": hosts, "children": groups}}
    path = tmp_path / "stack-scenario.json"
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


# case name -> inventory (a path, a list of paths, or a factory of either) and extra variables.
CASES = {
    "lab": dict(inventory=TOP / "inventories" / "lab"),
    "stack-scenario": dict(inventory=stack_scenario_inventory),
    # extensions/molecule/stack/verify.yml: a connector taken out of the scraped group through
    # prometheus_scrape_jobs.
    "stack-scenario-without-b": dict(
        inventory=with_group(stack_scenario_inventory, "connectors_without_b", ["ilp-stack-a"]),
        extra={"prometheus_scrape_jobs":
               "{{ molecule_scrape_jobs + [{'job': 'connector', 'group': 'connectors_without_b'}] }}"}),
    "secured": dict(inventory=INVENTORIES / "scrape-secured.yml"),
    "native": dict(inventory=INVENTORIES / "scrape-native.yml"),
    "components": dict(inventory=INVENTORIES / "scrape-components.yml"),
    # Every job's hosts in another group, with other ports, intervals and node_exporter credentials.
    "scrape-jobs": dict(inventory=[INVENTORIES / "scrape-groups.yml", INVENTORIES / "scrape-jobs.yml"]),
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


@pytest.fixture(scope="module")
def promtool(tmp_path_factory) -> Path | None:
    """promtool of the version the role pins, from the release mirror's archive; None without it."""
    defaults = (TOP / "roles" / "prometheus" / "defaults" / "main" / "main.yml").read_text()
    version = re.search(r'^prometheus_version: "?([0-9.]+)"?', defaults, re.MULTILINE).group(1)
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    cache = Path(os.environ.get("ILP_CACHE_DIR", Path.home() / ".cache" / "ilp-observability"))
    archive = (cache / "mirror" / "prometheus" / "prometheus" / "releases" / "download" / f"v{version}"
               / f"prometheus-{version}.linux-{arch}.tar.gz")
    if not archive.exists():
        return None
    folder = tmp_path_factory.mktemp("promtool")
    with tarfile.open(archive) as tar:
        member = tar.getmember(f"prometheus-{version}.linux-{arch}/promtool")
        member.name = "promtool"
        tar.extract(member, folder)  # nosec B202 - the mirror's own archive, one named member
    return folder / "promtool"


def promtool_check(promtool: Path, host_out: Path, tmp_path: Path) -> None:
    """promtool check config on a rendered prometheus.yml, with /etc/prometheus moved to tmp_path."""
    etc = tmp_path / "etc-prometheus"
    shutil.copytree(host_out, etc)
    (etc / "rules").mkdir()
    config = (etc / "prometheus.yml").read_text().replace("/etc/prometheus", str(etc))
    (etc / "prometheus.yml").write_text(config)
    for secret in yaml.safe_load((etc / "secrets.yml").read_text()) or []:
        dest = Path(secret["dest"].replace("/etc/prometheus", str(etc)))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(secret["content"])
    proc = subprocess.run([str(promtool), "check", "config", str(etc / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


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
def test_rendered_scrape_configuration_matches_the_golden_files(tmp_path, name, promtool):
    case = CASES[name]
    golden = GOLDEN / name
    out = render(tmp_path, case)
    if UPDATE:
        write_golden(out, golden)
    assert golden.is_dir(), f"no golden files for {name}: run with ILP_UPDATE_GOLDEN=1"
    assert files(out) == files(golden)
    if promtool is not None:
        for host_out in sorted(out.iterdir()):
            promtool_check(promtool, host_out, tmp_path / host_out.name)
