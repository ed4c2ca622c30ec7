# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.
"""Filters of the scrape catalog: what Prometheus scrapes, as data.

scrape_jobs: the catalog with the inventory's changes merged in, checked, completed with
defaults, and left with the jobs whose group has hosts; then one probe job per blackbox module
that the entries' `probes` name, scraped through the hosts of the prober job (`blackbox`).
scrape_targets: each job's file_sd target list, read from the hosts' own variables (for a probe
job: one target per probed host and prober, the URL or address to probe).
scrape_job_regex: the job names of the catalog by kind (role), as the rule files select them.
Their documentation: scrape_jobs.yml (also of the catalog's fields), scrape_targets.yml and
scrape_job_regex.yml beside this file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

# Fields of a catalog entry, and their values when the entry does not set them. The other
# fields (job, group, port) have no default: a new job must set them.
ENTRY_DEFAULTS = {
    "role": "external",
    "enabled": True,
    "interval": "",
    "scheme": "http",
    "path": "/metrics",
    "path_vars": [],
    "path_label": False,
    "port_vars": [],
    "address_vars": [],
    "https_vars": [],
    "labels": {},
    "auth": {},
    "tls_config": {},
    "alerting": False,
    "variant_var": "",
    "variant_default": "",
    "variants": {},
    "probes": [],
}
ENTRY_FIELDS = frozenset(ENTRY_DEFAULTS) | {"job", "group", "port"}
# Fields a variant may replace (per host).
VARIANT_FIELDS = frozenset({"port", "port_vars", "address_vars", "path", "path_vars", "https_vars", "scheme"})
AUTH_DEFAULTS = {"username": "", "password": "", "ca": "", "secret": ""}
# Fields of a probe (an entry's `probes` item), and their defaults; module has none.
PROBE_DEFAULTS = {
    "enabled": True,
    "target": "url",
    "scheme": "http",
    "port": None,
    "port_vars": [],
    "address_vars": None,
    "path": "/",
    "path_vars": [],
    "https_vars": [],
    "when_vars": [],
    "variants": {},
}
PROBE_FIELDS = frozenset(PROBE_DEFAULTS) | {"module"}
PROBE_VARIANT_FIELDS = frozenset({"port", "port_vars", "address_vars", "path", "path_vars", "https_vars", "scheme",
                                  "enabled"})
PROBE_TARGETS = ("url", "address")
MODULE_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
# Fields scrape_jobs adds; accepted (and recomputed) when its result is given again.
COMPUTED_FIELDS = frozenset({"hosts", "password_file", "ca_file", "secret_files", "probe_module", "prober"})
LIST_FIELDS = ("path_vars", "port_vars", "address_vars", "https_vars")
PROBE_LIST_FIELDS = LIST_FIELDS + ("when_vars",)
WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})
JOB_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _plain(value):
    """A copy made of plain dicts and lists (Ansible's lazily templated containers are read through)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _merge(base, change):
    """`change` merged into `base`: mappings key by key, null values ignored, other values replaced."""
    if not isinstance(base, dict) or not isinstance(change, dict):
        return _strip_nulls(change)
    merged = dict(base)
    for key, value in change.items():
        if value is None:
            continue
        merged[key] = _merge(merged[key], value) if key in merged else _strip_nulls(value)
    return merged


def _strip_nulls(value):
    """`value` without null mapping values (nulls mean "unchanged" in overrides)."""
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    return value


def _as_list(job, field, value):
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [to_text(item) for item in value]
    raise AnsibleFilterError(f"scrape job {job}: {field} must be a list of host variable names, not {value!r}")


def _port(job, where, value):
    """A port number from 9100, "9100", ":9100", "0.0.0.0:9100" or "[::]:9100"."""
    if isinstance(value, bool):
        raise AnsibleFilterError(f"scrape job {job}: {where} is not a port: {value!r}")
    if isinstance(value, int):
        port = value
    else:
        text = to_text(value).strip().rsplit(":", 1)[-1]
        if not text.isdigit():
            raise AnsibleFilterError(f"scrape job {job}: {where} is not a port or an address with a port: {value!r}")
        port = int(text)
    if not 0 < port < 65536:
        raise AnsibleFilterError(f"scrape job {job}: {where} is not a port: {value!r}")
    return port


def _check_fields(job, entry, allowed, what):
    unknown = sorted(set(entry) - allowed - COMPUTED_FIELDS)
    if unknown:
        raise AnsibleFilterError(f"scrape job {job}: unknown {what} field(s) {', '.join(unknown)}; "
                                 f"known: {', '.join(sorted(allowed))}")


def _normalise(raw, secrets_dir):
    """One entry checked and completed with the defaults (without hosts)."""
    job = raw.get("job")
    if not isinstance(job, str) or not JOB_NAME_RE.match(job):
        raise AnsibleFilterError(f"scrape catalog entry without a valid job name (letters, digits, _ . -): {raw!r}")
    _check_fields(job, raw, ENTRY_FIELDS, "entry")
    entry = {key: _plain(raw[key] if raw.get(key) is not None else default) for key, default in ENTRY_DEFAULTS.items()}
    entry["job"] = job
    if not raw.get("group"):
        raise AnsibleFilterError(f"scrape job {job}: no inventory group (group)")
    entry["group"] = to_text(raw["group"])
    entry["enabled"] = bool(entry["enabled"])
    entry["path_label"] = bool(entry["path_label"])
    entry["alerting"] = bool(entry["alerting"])
    entry["interval"] = to_text(entry["interval"] or "")
    for field in LIST_FIELDS:
        entry[field] = _as_list(job, field, entry[field])
    for field in ("labels", "auth", "tls_config", "variants"):
        if not isinstance(entry[field], dict):
            raise AnsibleFilterError(f"scrape job {job}: {field} must be a mapping, not {entry[field]!r}")
    if entry["scheme"] not in ("http", "https"):
        raise AnsibleFilterError(f"scrape job {job}: scheme must be http or https, not {entry['scheme']!r}")

    variants = {}
    for name, variant in entry["variants"].items():
        if not isinstance(variant, dict):
            raise AnsibleFilterError(f"scrape job {job}: variant {name} must be a mapping")
        _check_fields(job, variant, VARIANT_FIELDS, f"variant {name}")
        variant = dict(variant)
        for field in LIST_FIELDS:
            if field in variant:
                variant[field] = _as_list(job, f"variants.{name}.{field}", variant[field])
        if variant.get("port") is not None:
            variant["port"] = _port(job, f"variants.{name}.port", variant["port"])
        variants[to_text(name)] = variant
    entry["variants"] = variants
    if variants and not entry["variant_var"]:
        raise AnsibleFilterError(f"scrape job {job}: variants need variant_var (the host variable that picks one)")
    if entry["variant_var"] and not variants:
        raise AnsibleFilterError(f"scrape job {job}: variant_var {entry['variant_var']} without variants")
    if raw.get("port") is not None:
        entry["port"] = _port(job, "port", raw["port"])
    elif not variants or any(variant.get("port") is None for variant in variants.values()):
        raise AnsibleFilterError(f"scrape job {job}: no default port (port, or port in every variant)")

    for name, spec in entry["labels"].items():
        if isinstance(spec, dict):
            _check_fields(job, spec, frozenset({"vars", "default"}), f"label {name}")

    _check_fields(job, entry["auth"], frozenset(AUTH_DEFAULTS), "auth")
    auth = dict(AUTH_DEFAULTS, **{k: v for k, v in entry["auth"].items() if v is not None})
    auth["secret"] = to_text(auth["secret"] or job)
    entry["auth"] = auth
    secret_files = []
    entry["password_file"] = entry["ca_file"] = ""
    if auth["username"]:
        entry["password_file"] = f"{secrets_dir}/{auth['secret']}.password"
        secret_files.append({"content": to_text(auth["password"]), "dest": entry["password_file"]})
    if auth["ca"]:
        entry["ca_file"] = f"{secrets_dir}/{auth['secret']}-ca.crt"
        secret_files.append({"content": to_text(auth["ca"]), "dest": entry["ca_file"], "mode": "0644"})
    entry["secret_files"] = secret_files
    # Prometheus' own tls_config: false and empty values are its defaults and left out.
    tls = {key: value for key, value in entry["tls_config"].items() if value not in (None, False, "")}
    if entry["ca_file"]:
        tls["ca_file"] = entry["ca_file"]
    entry["tls_config"] = tls
    entry["probes"] = _normalise_probes(job, entry)
    entry["probe_module"] = entry["prober"] = ""
    return entry


def _normalise_probe_fields(job, where, probe, allowed):
    _check_fields(job, probe, allowed, where)
    probe = dict(probe)
    for field in PROBE_LIST_FIELDS:
        if probe.get(field) is not None:
            probe[field] = _as_list(job, f"{where}.{field}", probe[field])
    if probe.get("port") is not None:
        probe["port"] = _port(job, f"{where}.port", probe["port"])
    if probe.get("scheme") is not None and probe["scheme"] not in ("http", "https"):
        raise AnsibleFilterError(f"scrape job {job}: {where}.scheme must be http or https, not {probe['scheme']!r}")
    if "enabled" in probe:
        probe["enabled"] = bool(probe["enabled"])
    return probe


def _normalise_probes(job, entry):
    """The entry's probes, checked and completed with the defaults."""
    raw_probes = entry["probes"]
    if not isinstance(raw_probes, list):
        raise AnsibleFilterError(f"scrape job {job}: probes must be a list, not {raw_probes!r}")
    probes = []
    for index, raw in enumerate(raw_probes):
        where = f"probes[{index}]"
        if not isinstance(raw, dict):
            raise AnsibleFilterError(f"scrape job {job}: {where} must be a mapping, not {raw!r}")
        module = to_text(raw.get("module") or "")
        if not MODULE_RE.match(module):
            raise AnsibleFilterError(f"scrape job {job}: {where} needs a blackbox module name (letters, digits, _ . -)")
        probe = dict(PROBE_DEFAULTS, **{k: v for k, v in _normalise_probe_fields(job, where, raw, PROBE_FIELDS).items()
                                        if v is not None})
        probe["module"] = module
        if probe["target"] not in PROBE_TARGETS:
            raise AnsibleFilterError(f"scrape job {job}: {where}.target must be url or address, not {probe['target']!r}")
        if not isinstance(probe["variants"], dict):
            raise AnsibleFilterError(f"scrape job {job}: {where}.variants must be a mapping")
        variants = {}
        for name, variant in probe["variants"].items():
            if not isinstance(variant, dict):
                raise AnsibleFilterError(f"scrape job {job}: {where}.variants.{name} must be a mapping")
            variants[to_text(name)] = _normalise_probe_fields(job, f"{where}.variants.{name}", variant,
                                                              PROBE_VARIANT_FIELDS)
        if variants and not entry["variant_var"]:
            raise AnsibleFilterError(f"scrape job {job}: {where}.variants need the entry's variant_var")
        probe["variants"] = variants
        if probe["port"] is None and (not variants or any(v.get("port") is None for v in variants.values())):
            raise AnsibleFilterError(f"scrape job {job}: {where} has no default port (port, or port in every variant)")
        probes.append(probe)
    return probes


def _probe_jobs(jobs, prober):
    """One job per blackbox module the jobs' probes name (in order of first mention), scraped through
    the hosts of the prober job: its address, port, scheme, credentials and TLS settings."""
    source = next((entry for entry in jobs if entry["job"] == prober), None)
    if source is None:
        return []
    modules = []
    for entry in jobs:
        for probe in entry["probes"]:
            if probe["module"] not in modules and (probe["enabled"] or any(
                    variant.get("enabled") for variant in probe["variants"].values())):
                modules.append(probe["module"])
    probe_jobs = []
    for module in modules:
        job = dict(source, job=f"{prober}_{module}", path="/probe", path_vars=[], path_label=False, labels={},
                   alerting=False, probes=[], secret_files=[], probe_module=module, prober=prober)
        probe_jobs.append(job)
    return probe_jobs


def scrape_jobs(catalog, groups, overrides=None, secrets_dir="/etc/prometheus/secrets", prober="blackbox"):
    """The jobs Prometheus runs: catalog entries with `overrides` merged in by job name (mappings
    key by key, null values ignored, other values replaced; a new name adds a job), checked and
    completed with defaults, without disabled jobs and jobs whose group is missing or empty.
    Each job gets `hosts` (its group's hosts in inventory order), `password_file`, `ca_file` and
    `secret_files` (the files Prometheus reads the job's credentials from: dest, content, mode).
    Then, when the `prober` job has hosts, one probe job `<prober>_<module>` per blackbox module
    named by the jobs' `probes` (`probe_module`, `prober` set; the prober's hosts, port, scheme,
    credentials and TLS settings, path /probe).
    """
    if isinstance(catalog, (str, Mapping)) or not hasattr(catalog, "__iter__"):
        raise AnsibleFilterError(f"scrape_jobs: the catalog must be a list of entries, not {type(catalog).__name__}")
    merged = {}
    for raw in _plain(catalog):
        if not isinstance(raw, dict) or "job" not in raw:
            raise AnsibleFilterError(f"scrape catalog entry without a job name: {raw!r}")
        if raw["job"] in merged:
            raise AnsibleFilterError(f"scrape catalog: job {raw['job']} is listed twice (change it through overrides)")
        merged[raw["job"]] = {k: v for k, v in raw.items() if k not in COMPUTED_FIELDS}
    for change in _plain(overrides or []):
        if not isinstance(change, dict) or not change.get("job"):
            raise AnsibleFilterError(f"scrape job change without a job name: {change!r}")
        name = change["job"]
        merged[name] = _merge(merged[name], change) if name in merged else _strip_nulls(change)
    jobs = []
    for raw in merged.values():
        entry = _normalise(raw, secrets_dir.rstrip("/"))
        if not entry["enabled"]:
            continue
        entry["hosts"] = [to_text(host) for host in (groups or {}).get(entry["group"]) or []]
        if entry["hosts"]:
            jobs.append(entry)
    names = {entry["job"] for entry in jobs}
    probe_jobs = _probe_jobs(jobs, to_text(prober)) if prober else []
    for job in probe_jobs:
        if job["job"] in names:
            raise AnsibleFilterError(f"scrape catalog: job {job['job']} is also the probe job of module "
                                     f"{job['probe_module']}; rename it")
    return jobs + probe_jobs


def _kind(job, role):
    """The kind of a job the rules select by: its role, or its job name for role external."""
    return job if role in (None, "", "external") else to_text(role)


def scrape_job_regex(catalog, overrides=None, prober="blackbox"):
    """Kind -> regular expression of the job names of that kind; see scrape_job_regex.yml.

    Reads only job, role and the probes' modules of the catalog with the overrides merged in
    (by job name; a new name adds a job), so it needs no host and templates nothing else.
    """
    if isinstance(catalog, (str, Mapping)) or not hasattr(catalog, "__iter__"):
        raise AnsibleFilterError(
            f"scrape_job_regex: the catalog must be a list of entries, not {type(catalog).__name__}")
    merged = {}
    for raw in list(catalog) + list(overrides or []):
        if not isinstance(raw, Mapping) or not raw.get("job"):
            raise AnsibleFilterError(f"scrape catalog entry or change without a job name: {raw!r}")
        if raw.get("probe_module"):
            continue
        job = to_text(raw["job"])
        entry = merged.setdefault(job, {"role": "external", "modules": []})
        if raw.get("role") is not None:
            entry["role"] = to_text(raw["role"])
        if raw.get("probes") is not None:
            entry["modules"] = [to_text(probe["module"]) for probe in raw["probes"]
                                if isinstance(probe, Mapping) and probe.get("module")]
    kinds = {}
    for job, entry in merged.items():
        kind = _kind(job, entry["role"])
        kinds.setdefault(kind, []).append(job)
        for module in entry["modules"]:
            name = f"{prober}_{module}"
            probe_jobs = kinds.setdefault(f"{kind}_probe", [])
            if name not in probe_jobs:
                probe_jobs.append(name)
    result = {kind: "|".join(jobs) for kind, jobs in kinds.items()}
    result["probe"] = f"{prober}_.+"
    return result


def _host_value(host, variables, name):
    """A host variable, None when the host does not set it (or sets it empty)."""
    if name == "inventory_hostname":
        return host
    if name not in variables:
        return None
    value = variables[name]
    return None if value is None or value == "" else value


def _bracketed(address):
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def _endpoint(job, host, variables, fields):
    """(address, port, path, scheme) of a host, from the fields of its entry, variant or probe."""
    address = host
    for name in list(fields["address_vars"]) + ["ansible_host"]:
        value = _host_value(host, variables, name)
        if value is not None and to_text(value).strip() not in WILDCARDS:
            address = to_text(value).strip()
            break

    port = fields["port"]
    for name in fields["port_vars"]:
        value = _host_value(host, variables, name)
        if value is not None:
            port = _port(job, f"{name} of host {host}", value)
            break

    path = fields["path"]
    for name in fields["path_vars"]:
        value = _host_value(host, variables, name)
        if value is not None:
            path = to_text(value)
            break

    https = any(_host_value(host, variables, name) for name in fields["https_vars"])
    scheme = "https" if https else fields["scheme"]
    return address, port, path, scheme


def _variant(entry, host, variables):
    """The name of the entry's variant a host uses ("" without variants)."""
    if not entry["variant_var"]:
        return ""
    name = to_text(_host_value(host, variables, entry["variant_var"]) or entry["variant_default"])
    if name not in entry["variants"]:
        raise AnsibleFilterError(f"scrape job {entry['job']}: host {host} has {entry['variant_var']}={name!r}, "
                                 f"expected one of {', '.join(sorted(entry['variants']))}")
    return name


def _labels(entry, host, variables):
    """The instance label and the entry's labels of a host."""
    labels = {"instance": host}
    for label, spec in entry["labels"].items():
        value = None
        if isinstance(spec, dict):
            for name in _as_list(entry["job"], f"labels.{label}.vars", spec.get("vars")):
                value = _host_value(host, variables, name)
                if value is not None:
                    break
            if value is None:
                value = spec.get("default")
        else:
            value = spec
        if value is not None:
            labels[label] = to_text(value)
    return labels


def _targets(entry, hostvars):
    groups = []
    for host in entry["hosts"]:
        variables = hostvars[host] if host in hostvars else {}
        variant = _variant(entry, host, variables)
        fields = dict(entry, **entry["variants"][variant]) if variant else entry
        address, port, path, scheme = _endpoint(entry["job"], host, variables, fields)
        labels = _labels(entry, host, variables)
        if entry["path_label"] or path != entry["path"]:
            labels["__metrics_path__"] = path
        if scheme != entry["scheme"]:
            labels["__scheme__"] = scheme
        groups.append({"targets": [f"{_bracketed(address)}:{port}"], "labels": labels})
    return groups


def _probe_targets(probe_job, jobs, hostvars):
    """A probe job's targets: for each probe of its module, each host of the probe's entry (that
    sets one of the probe's when_vars, if any), through each host of the prober job."""
    prober = next(entry for entry in jobs if entry["job"] == probe_job["prober"])
    probers = _targets(prober, hostvars)
    groups = []
    for entry in jobs:
        if entry["probe_module"]:
            continue
        for probe in entry["probes"]:
            if probe["module"] != probe_job["probe_module"]:
                continue
            for host in entry["hosts"]:
                variables = hostvars[host] if host in hostvars else {}
                variant = _variant(entry, host, variables)
                fields = dict(probe, **probe["variants"].get(variant, {}))
                if fields["address_vars"] is None:
                    # Unset: the host is probed at the address it is scraped at.
                    scraped = dict(entry, **entry["variants"][variant]) if variant else entry
                    fields["address_vars"] = scraped["address_vars"]
                if not fields["enabled"]:
                    continue
                if fields["when_vars"] and not any(_host_value(host, variables, name) for name in fields["when_vars"]):
                    continue
                address, port, path, scheme = _endpoint(entry["job"], host, variables, fields)
                endpoint = f"{_bracketed(address)}:{port}"
                if fields["target"] == "url":
                    endpoint = f"{scheme}://{endpoint}{path if path.startswith('/') else '/' + path}"
                labels = _labels(entry, host, variables)
                labels["component"] = entry["job"]
                for through in probers:
                    group_labels = dict(labels, prober=through["labels"]["instance"],
                                        __tmp_prober_address=through["targets"][0])
                    if "__scheme__" in through["labels"]:
                        group_labels["__scheme__"] = through["labels"]["__scheme__"]
                    groups.append({"targets": [endpoint], "labels": group_labels})
    return groups


def _job_targets(entry, jobs, hostvars):
    return _probe_targets(entry, jobs, hostvars) if entry["probe_module"] else _targets(entry, hostvars)


def scrape_targets(catalog, groups, hostvars, overrides=None, job=None, prober="blackbox"):
    """Job name -> file_sd target list (or, with `job`, that job's list); see DOCUMENTATION."""
    jobs = scrape_jobs([entry for entry in catalog if not (isinstance(entry, Mapping) and entry.get("probe_module"))],
                       groups, overrides, prober=prober)
    if job is not None:
        return next((_job_targets(entry, jobs, hostvars) for entry in jobs if entry["job"] == job), [])
    return {entry["job"]: _job_targets(entry, jobs, hostvars) for entry in jobs}


class FilterModule:
    """The scrape catalog's filters."""

    def filters(self):
        return {
            "scrape_jobs": scrape_jobs,
            "scrape_targets": scrape_targets,
            "scrape_job_regex": scrape_job_regex,
        }
