"""The scrape catalog (prometheus__scrape_catalog in roles/prometheus/defaults/main/scrape.yml)
agrees with the roles it scrapes.

For every entry owned by a role of this collection (role other than "external"): the default port
(per variant) is the port of the owning role's default for the first port variable it names (the
listen address or port variable), the default path is the role's metrics path default, every host
variable the entry names with the role's prefix exists in the role's defaults, and variants match
the role's choices for the variable that picks them; each probe's default port is the owning
role's default for its first port variable, and the variables it names exist. The failing cases show the check catches a
wrong default.

The catalog's fields are documented once, in plugins/filter/scrape_jobs.yml (tested against the
filter in tests/unit/plugins/filter/test_scrape_targets.py): the role's spec points there. The
rule files select jobs by the catalog's roles, so a job added with a role is in its alerts.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
ROLES = TOP / "roles"
CATALOG = yaml.safe_load((ROLES / "prometheus" / "defaults" / "main" / "scrape.yml").read_text())["prometheus__scrape_catalog"]
ENTRY_DEFAULTS = {"path": "/metrics", "port_vars": [], "path_vars": [], "address_vars": [], "https_vars": []}


def role_defaults(role: str) -> dict:
    """Every variable of a role's defaults files (defaults/main.yml, defaults/main/*.yml)."""
    base = ROLES / role / "defaults"
    files = [base / "main.yml"] if (base / "main.yml").exists() else sorted((base / "main").glob("*.yml"))
    assert files, f"role {role} has no defaults"
    values: dict = {}
    for path in files:
        values.update(yaml.safe_load(path.read_text()) or {})
    return values


def role_choices(role: str, variable: str) -> list | None:
    spec = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    option = spec["argument_specs"]["main"]["options"].get(variable) or {}
    return option.get("choices")


def port_of(value) -> int:
    """9100, "9100", ":9100" or "0.0.0.0:9100" -> 9100."""
    return int(value) if isinstance(value, int) else int(str(value).rsplit(":", 1)[-1])


def catalog_problems(catalog: list[dict]) -> list[str]:
    """Where the catalog disagrees with the defaults of the roles it names."""
    problems = []
    for entry in catalog:
        role = entry.get("role", "external")
        if role == "external":
            continue
        job = entry["job"]
        if not (ROLES / role).is_dir():
            problems.append(f"{job}: role {role} does not exist (use role: external)")
            continue
        defaults = role_defaults(role)
        named = [v for field in ("port_vars", "path_vars", "address_vars", "https_vars") for v in entry.get(field, [])]
        named += [v for spec in (entry.get("labels") or {}).values() if isinstance(spec, dict) for v in spec.get("vars", [])]
        variants = entry.get("variants") or {None: {}}
        if entry.get("variant_var"):
            named.append(entry["variant_var"])
            if entry.get("variant_default") != defaults.get(entry["variant_var"]):
                problems.append(f"{job}: variant_default {entry.get('variant_default')!r} is not the role's default "
                                f"{entry['variant_var']}={defaults.get(entry['variant_var'])!r}")
            choices = role_choices(role, entry["variant_var"])
            if choices is not None and sorted(variants) != sorted(choices):
                problems.append(f"{job}: variants {sorted(variants)} are not the choices of {entry['variant_var']} {choices}")
        for variant in variants.values():
            named += [v for field in ("port_vars", "path_vars", "address_vars", "https_vars") for v in variant.get(field, [])]
        for variable in named:
            if variable.startswith(f"{role}_") and variable not in defaults:
                problems.append(f"{job}: {variable} is not a variable of role {role}")
        # Every metrics path variable of the role is one the entry reads.
        for variable in defaults:
            if variable.endswith("metrics_path") and variable not in entry.get("path_vars", []):
                problems.append(f"{job}: role {role} has {variable}, not in path_vars")

        for name, variant in variants.items():
            fields = {**ENTRY_DEFAULTS, **entry, **variant}
            where = job if name is None else f"{job} ({entry['variant_var']}={name})"
            owned = [v for v in fields["port_vars"] if v in defaults]
            if not owned:
                problems.append(f"{where}: none of port_vars {fields['port_vars']} is a default of role {role}")
            elif port_of(defaults[owned[0]]) != fields["port"]:
                problems.append(f"{where}: port {fields['port']} but role {role} defaults {owned[0]} to "
                                f"{defaults[owned[0]]!r}")
            for variable in fields["path_vars"]:
                if variable in defaults and defaults[variable] != fields["path"]:
                    problems.append(f"{where}: path {fields['path']} but role {role} defaults {variable} to "
                                    f"{defaults[variable]!r}")
        problems += probe_problems(entry, role, defaults)
    return problems


def probe_problems(entry: dict, role: str, defaults: dict) -> list[str]:
    """Where the entry's probes disagree with the owning role: each probe's default port (per
    variant) is the role's default of its first port variable, and every variable it names with
    the role's prefix exists."""
    problems = []
    job = entry["job"]
    for index, probe in enumerate(entry.get("probes") or []):
        variants = probe.get("variants") or {None: {}}
        if probe.get("variants") and sorted(probe["variants"]) != sorted(entry.get("variants") or {}):
            problems.append(f"{job}: probes[{index}] variants {sorted(probe['variants'])} are not the entry's")
        for name, variant in variants.items():
            fields = {"port_vars": [], "path_vars": [], "address_vars": [], "https_vars": [], "when_vars": [],
                      **probe, **variant}
            where = f"{job} probes[{index}]" + ("" if name is None else f" ({entry['variant_var']}={name})")
            for field in ("port_vars", "path_vars", "address_vars", "https_vars", "when_vars"):
                for variable in fields[field] or []:
                    if variable.startswith(f"{role}_") and variable not in defaults:
                        problems.append(f"{where}: {variable} is not a variable of role {role}")
            owned = [v for v in fields["port_vars"] if v in defaults]
            if not owned:
                problems.append(f"{where}: none of port_vars {fields['port_vars']} is a default of role {role}")
            elif port_of(defaults[owned[0]]) != fields.get("port"):
                problems.append(f"{where}: port {fields.get('port')} but role {role} defaults {owned[0]} to "
                                f"{defaults[owned[0]]!r}")
    return problems


def test_each_entry_port_and_path_are_the_owning_roles_defaults():
    assert catalog_problems(CATALOG) == []


def test_every_role_that_serves_metrics_has_an_entry():
    owners = {entry.get("role") for entry in CATALOG}
    for role in ("prometheus", "node_exporter", "alertmanager", "connector", "jaeger", "blackbox_exporter"):
        assert role in owners
    jobs = [entry["job"] for entry in CATALOG]
    assert "alloy" not in jobs  # Grafana Alloy is out of this project


def wrong(job: str, change) -> list[dict]:
    catalog = copy.deepcopy(CATALOG)
    change(next(entry for entry in catalog if entry["job"] == job))
    return catalog


@pytest.mark.parametrize("job, change, message", [
    ("node", lambda e: e.update(port=9101), "node: port 9101 but role node_exporter defaults node_exporter_listen_address"),
    ("node", lambda e: e.update(path="/node-metrics"), "node: path /node-metrics but role node_exporter defaults "
                                                       "node_exporter_metrics_path"),
    ("node", lambda e: e.update(path_vars=[]), "role node_exporter has node_exporter_metrics_path, not in path_vars"),
    ("connector", lambda e: e["variants"]["native"].update(port=8081),
     "connector (connector_implementation=native): port 8081 but role connector defaults connector_health_check_port"),
    ("connector", lambda e: e["variants"]["interledgerjs"].update(port_vars=["connector_admin_api_prot"]),
     "connector_admin_api_prot is not a variable of role connector"),
    ("connector", lambda e: e["variants"].pop("native"), "variants ['interledgerjs'] are not the choices"),
    ("alertmanager", lambda e: e.update(port=9094), "alertmanager: port 9094"),
    ("jaeger", lambda e: e.update(port=14269), "jaeger: port 14269 but role jaeger defaults jaeger_metrics_listen_address"),
    ("jaeger", lambda e: e.update(port_vars=["jaeger_metrics_port"]), "jaeger_metrics_port is not a variable of role jaeger"),
    ("prometheus", lambda e: e.update(role="prometheus_server"), "role prometheus_server does not exist"),
    ("jaeger", lambda e: e["probes"][0].update(port=13134),
     "jaeger probes[0]: port 13134 but role jaeger defaults jaeger_health_listen_address"),
    ("connector", lambda e: e["probes"][0]["variants"]["native"].update(port=8081),
     "connector probes[0] (connector_implementation=native): port 8081 but role connector defaults "
     "connector_health_check_port"),
    ("grafana", lambda e: e["probes"][0].update(https_vars=["grafana_tls_certificate"]),
     "grafana probes[0]: grafana_tls_certificate is not a variable of role grafana"),
])
def test_a_wrong_default_is_caught(job, change, message):
    problems = catalog_problems(wrong(job, change))
    assert any(message in problem for problem in problems), problems


def test_the_role_spec_points_to_the_filter_documentation_instead_of_restating_the_fields():
    spec = yaml.safe_load((ROLES / "prometheus" / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    for name in ("prometheus_scrape_catalog", "prometheus_scrape_jobs"):
        assert (options[name]["type"], options[name]["elements"]) == ("list", "dict"), name
        assert "options" not in options[name], f"{name} restates the catalog's fields"
        assert "P(ilp.observability.scrape_jobs#filter)" in " ".join(options[name]["description"]), name


def render_rules(tmp_path: Path, extra: dict) -> dict:
    """The rule files as tools/ci/render-rules.yml renders them with `extra`, file name -> text."""
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps({"rules_dest": str(tmp_path / "rules"), **extra}))
    ansible = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    proc = subprocess.run([ansible, "-i", "localhost,", str(TOP / "tools" / "ci" / "render-rules.yml"),
                           "-e", f"@{extra_file}"], capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
                                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {path.name: path.read_text() for path in (tmp_path / "rules").glob("*.yml")}


def test_the_rules_select_a_job_added_with_a_role_and_not_an_external_one(tmp_path):
    rules = render_rules(tmp_path, {"prometheus_scrape_jobs": [
        {"job": "connector-eu", "role": "connector", "group": "eu", "port": 7780},
        {"job": "node-dmz", "role": "node_exporter", "group": "dmz", "port": 9100},
        {"job": "ledger", "group": "ledger", "port": 3000}]})
    connector_alerts = rules["connector-alerts.rules.yml"]
    assert 'up{job=~"connector|connector-eu"} == 0' in connector_alerts
    assert 'node_filesystem_readonly{job=~"node|node-dmz"}' in rules["stack-alerts.rules.yml"]
    # TargetDown leaves out the jobs with alerts of their own; an external job of its own is not one.
    target_down = rules["stack-alerts.rules.yml"]
    assert 'up{job!~"connector|connector-eu|tigerbeetle|jaeger|otel_collector|victorialogs|loki|blackbox_.+"}' \
        in target_down
    assert "ledger" not in target_down
