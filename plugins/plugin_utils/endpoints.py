# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The endpoint model: where each component instance of the inventory answers, and how.

One table (CATALOG) says, per component and per listener clients use: the inventory group, the
role whose defaults hold its listen address, the host variables that set the listen address (or
host and port), the variable whose TLS certificate turns it to https, the path clients append,
and the variable of its basic-auth users. resolve() reads a host's variables over those role
defaults and gives the address a client uses (the bind address when it binds one, else
ansible_host, else the inventory name; IPv6 in brackets), port, scheme, URL and a REFERENCE to the
credentials (the variable and the user name, never the password). Every consumer (the connector's
trace exporter, the log agent's exporters, validate) reads the model instead of parsing listen
variables itself.

Plain Python: the filter plugin (plugins/filter/endpoints.py) and tools read the same code.
"""

from __future__ import annotations

import os
import re

WILDCARDS = frozenset(("", "0.0.0.0", "::", "[::]", "*"))

# component -> {group, role, endpoints: {name -> listener}}. A listener: `listen` (the host:port
# variable) or `listen_host` + `listen_port`, `tls` (certificate variable: set means https),
# `path` (appended to the URL), `basic_auth` (the users variable, {user: password}),
# `external_url` (the variable of the URL users reach it at: its path is the route prefix, part of
# base_url).
CATALOG = {
    "prometheus": {"group": "prometheus", "role": "prometheus", "endpoints": {
        "web": {"listen": "prometheus_listen_address", "tls": "prometheus_tls_cert",
                "basic_auth": "prometheus_basic_auth_users", "external_url": "prometheus_external_url"}}},
    "alertmanager": {"group": "alertmanager", "role": "alertmanager", "endpoints": {
        "web": {"listen": "alertmanager_listen_address", "tls": "alertmanager_tls_cert",
                "basic_auth": "alertmanager_basic_auth_users", "external_url": "alertmanager_external_url"}}},
    "node_exporter": {"group": "all", "role": "node_exporter", "endpoints": {
        "metrics": {"listen": "node_exporter_listen_address", "tls": "node_exporter_tls_cert",
                    "basic_auth": "node_exporter_basic_auth_users", "path": "/metrics"}}},
    "blackbox_exporter": {"group": "blackbox", "role": "blackbox_exporter", "endpoints": {
        "web": {"listen": "blackbox_exporter_listen_address", "tls": "blackbox_exporter_tls_cert",
                "basic_auth": "blackbox_exporter_basic_auth_users"}}},
    "jaeger": {"group": "jaeger", "role": "jaeger", "endpoints": {
        "otlp_http": {"listen": "jaeger_otlp_http_listen_address", "tls": "jaeger_otlp_tls_cert", "path": "/v1/traces"},
        "otlp_grpc": {"listen": "jaeger_otlp_grpc_listen_address", "tls": "jaeger_otlp_tls_cert"},
        "query": {"listen": "jaeger_query_listen_address", "tls": "jaeger_query_tls_cert"},
        "sampling": {"listen": "jaeger_sampling_listen_address"},
        "health": {"listen": "jaeger_health_listen_address", "path": "/status"},
        "metrics": {"listen": "jaeger_metrics_listen_address", "path": "/metrics"}}},
    "victorialogs": {"group": "victorialogs", "role": "victorialogs", "endpoints": {
        "http": {"listen": "victorialogs_listen_address"}}},
    "loki": {"group": "loki", "role": "loki", "endpoints": {
        "http": {"listen": "loki_http_listen_address"}}},
    "grafana": {"group": "grafana", "role": "grafana", "endpoints": {
        "http": {"listen_host": "grafana_listen_address", "listen_port": "grafana_listen_port", "tls": "grafana_tls_cert"}}},
    "otel_collector": {"group": "all", "role": "otel_collector", "endpoints": {
        "metrics": {"listen": "otel_collector_metrics_listen_address", "path": "/metrics"},
        "health": {"listen": "otel_collector_health_listen_address", "path": "/"}}},
}
# Where each log store takes OTLP logs (the agents' exporters) and how they are told apart: Loki
# when the inventory has Loki hosts, else VictoriaLogs.
LOG_STORES = (("loki", "http", "/otlp/v1/logs"), ("victorialogs", "http", "/insert/opentelemetry/v1/logs"))

_ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
_DEFAULTS = {}


class EndpointError(ValueError):
    """An inventory value the model cannot read; the message names the host and variable."""


def role_defaults(role, roles_dir=None):
    """The plain (untemplated) defaults of a collection role, read once per process."""
    import yaml  # PyYAML comes with ansible-core
    roles_dir = roles_dir or _ROLES
    key = (roles_dir, role)
    if key not in _DEFAULTS:
        values = {}
        base = os.path.join(roles_dir, role, "defaults")
        files = [os.path.join(base, "main.yml")]
        folder = os.path.join(base, "main")
        if os.path.isdir(folder):
            files += sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".yml", ".yaml")))
        for path in files:
            if os.path.isfile(path):
                with open(path) as stream:
                    values.update(yaml.safe_load(stream) or {})
        _DEFAULTS[key] = values
    return _DEFAULTS[key]


def split_listen(value, where):
    """(host, port) of a listen address: `host:port`, `:port`, `[v6]:port` or a bare port."""
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return "", int(text)
    match = re.fullmatch(r"\[([^\]]*)\]:(\d+)", text) or re.fullmatch(r"([^\[\]]*):(\d+)", text)
    if not match or ":" in match.group(1) and not text.startswith("["):
        raise EndpointError("%s: %r is not host:port, [ipv6]:port or a port" % (where, value))
    port = int(match.group(2))
    if not 0 < port < 65536:
        raise EndpointError("%s: port %d is out of range" % (where, port))
    return match.group(1), port


def _value(variables, defaults, name):
    value = variables.get(name) if hasattr(variables, "get") else None
    if value is None or value == "":
        value = defaults.get(name)
    return value


def resolve(component, endpoint, host, variables, roles_dir=None, address_var=""):
    """The endpoint `component`.`endpoint` of inventory host `host` whose variables are
    `variables` (its hostvars): address, port, scheme, url, bind, tls, credentials. A client that
    reaches hosts by other addresses names the host variable holding them (address_var, e.g.
    validate_address): it replaces the address of a wildcard bind."""
    if component not in CATALOG or endpoint not in CATALOG[component]["endpoints"]:
        raise EndpointError("no endpoint %s.%s in the model" % (component, endpoint))
    spec = CATALOG[component]["endpoints"][endpoint]
    defaults = role_defaults(CATALOG[component]["role"], roles_dir)
    if "listen" in spec:
        bind, port = split_listen(_value(variables, defaults, spec["listen"]), "%s of host %s" % (spec["listen"], host))
    else:
        bind = str(_value(variables, defaults, spec["listen_host"]) or "").strip().strip("[]")
        _bind, port = split_listen(_value(variables, defaults, spec["listen_port"]), "%s of host %s" % (spec["listen_port"], host))
    bind = bind.strip("[]")
    if bind in WILDCARDS:
        address = str((_value(variables, {}, address_var) if address_var else None)
                      or _value(variables, {}, "ansible_host") or host)
    else:
        address = bind
    address = "[%s]" % address if ":" in address and not address.startswith("[") else address
    tls = bool(spec.get("tls") and _value(variables, defaults, spec["tls"]))
    scheme = "https" if tls else "http"
    credentials = {}
    if spec.get("basic_auth"):
        users = _value(variables, defaults, spec["basic_auth"]) or {}
        if users:
            credentials = {"var": spec["basic_auth"], "username": sorted(users)[0]}
    prefix = ""
    if spec.get("external_url"):
        external = str(_value(variables, defaults, spec["external_url"]) or "")
        prefix = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*", "", external).rstrip("/")
    base = "%s://%s:%d%s" % (scheme, address, port, prefix)
    return {"component": component, "endpoint": endpoint, "host": host, "address": address, "port": port,
            "bind": bind, "scheme": scheme, "tls": tls, "prefix": prefix, "base_url": base, "url": base + spec.get("path", ""),
            "credentials": credentials}


def endpoints(groups, hostvars, component, endpoint, roles_dir=None):
    """The endpoint on every host of the component's group, in inventory order ([] when the
    inventory has no such group or it is empty)."""
    group = CATALOG[component]["group"] if component in CATALOG else None
    if group is None:
        raise EndpointError("no component %s in the model (known: %s)" % (component, ", ".join(sorted(CATALOG))))
    return [resolve(component, endpoint, host, hostvars[host], roles_dir) for host in (groups or {}).get(group) or []]


def log_store(groups):
    """The log store the agents ship to: 'loki' when the loki group has hosts, else
    'victorialogs' when that group has, else ''."""
    for component, _endpoint, _path in LOG_STORES:
        if (groups or {}).get(CATALOG[component]["group"]):
            return component
    return ""


def log_store_endpoints(groups, hostvars, roles_dir=None):
    """The OTLP/HTTP logs URL of every host of the log store in use."""
    kind = log_store(groups)
    for component, endpoint, path in LOG_STORES:
        if component == kind:
            return [dict(ep, url=ep["base_url"] + path, store=kind) for ep in endpoints(groups, hostvars, component, endpoint, roles_dir)]
    return []
