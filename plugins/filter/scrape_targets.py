# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0), the license of the collection.
"""Filters of the scrape catalog: what Prometheus scrapes, as data.

scrape_jobs: the catalog with the inventory's changes merged in, checked, completed with
defaults, and left with the jobs whose group has hosts.
scrape_targets: each job's file_sd target list, read from the hosts' own variables.
Their documentation: scrape_jobs.yml and scrape_targets.yml beside this file.
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
}
ENTRY_FIELDS = frozenset(ENTRY_DEFAULTS) | {"job", "group", "port"}
# Fields a variant may replace (per host).
VARIANT_FIELDS = frozenset({"port", "port_vars", "address_vars", "path", "path_vars", "https_vars", "scheme"})
AUTH_DEFAULTS = {"username": "", "password": "", "ca": "", "secret": ""}
# Fields scrape_jobs adds; accepted (and recomputed) when its result is given again.
COMPUTED_FIELDS = frozenset({"hosts", "password_file", "ca_file", "secret_files"})
LIST_FIELDS = ("path_vars", "port_vars", "address_vars", "https_vars")
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
    return entry


def scrape_jobs(catalog, groups, overrides=None, secrets_dir="/etc/prometheus/secrets"):
    """The jobs Prometheus runs: catalog entries with `overrides` merged in by job name (mappings
    key by key, null values ignored, other values replaced; a new name adds a job), checked and
    completed with defaults, without disabled jobs and jobs whose group is missing or empty.
    Each job gets `hosts` (its group's hosts in inventory order), `password_file`, `ca_file` and
    `secret_files` (the files Prometheus reads the job's credentials from: dest, content, mode).
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
    return jobs


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


def _targets(entry, hostvars):
    job = entry["job"]
    groups = []
    for host in entry["hosts"]:
        variables = hostvars[host] if host in hostvars else {}
        fields = entry
        if entry["variant_var"]:
            name = to_text(_host_value(host, variables, entry["variant_var"]) or entry["variant_default"])
            if name not in entry["variants"]:
                raise AnsibleFilterError(f"scrape job {job}: host {host} has {entry['variant_var']}={name!r}, "
                                         f"expected one of {', '.join(sorted(entry['variants']))}")
            fields = dict(entry, **entry["variants"][name])

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

        labels = {"instance": host}
        for label, spec in entry["labels"].items():
            value = None
            if isinstance(spec, dict):
                for name in _as_list(job, f"labels.{label}.vars", spec.get("vars")):
                    value = _host_value(host, variables, name)
                    if value is not None:
                        break
                if value is None:
                    value = spec.get("default")
            else:
                value = spec
            if value is not None:
                labels[label] = to_text(value)
        if entry["path_label"] or path != entry["path"]:
            labels["__metrics_path__"] = path
        if scheme != entry["scheme"]:
            labels["__scheme__"] = scheme
        groups.append({"targets": [f"{_bracketed(address)}:{port}"], "labels": labels})
    return groups


def scrape_targets(catalog, groups, hostvars, overrides=None, job=None):
    """Job name -> file_sd target list (or, with `job`, that job's list); see DOCUMENTATION."""
    jobs = scrape_jobs(catalog, groups, overrides)
    if job is not None:
        return next((_targets(entry, hostvars) for entry in jobs if entry["job"] == job), [])
    return {entry["job"]: _targets(entry, hostvars) for entry in jobs}


class FilterModule:
    """The scrape catalog's filters."""

    def filters(self):
        return {
            "scrape_jobs": scrape_jobs,
            "scrape_targets": scrape_targets,
        }
