# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The endpoint model: wildcard binds, IPv6, TLS on and off, per-host overrides, a component
absent from the inventory, the log store, credentials by reference, and its filters."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ansible.errors import AnsibleFilterError

try:
    from ansible_collections.ilp.observability.plugins.plugin_utils import endpoints as model
    from ansible_collections.ilp.observability.plugins.filter import endpoints as filters
except ImportError:  # plain pytest from a clone: the playbook-adjacent collections/ folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "collections"))
    from ansible_collections.ilp.observability.plugins.plugin_utils import endpoints as model
    from ansible_collections.ilp.observability.plugins.filter import endpoints as filters

FILTERS = filters.FilterModule().filters()


def test_a_wildcard_bind_is_reached_at_ansible_host_else_the_inventory_name():
    assert model.resolve("prometheus", "web", "mon-1", {})["url"] == "http://mon-1:9090"
    ep = model.resolve("prometheus", "web", "mon-1", {"ansible_host": "10.0.0.5"})
    assert (ep["address"], ep["port"], ep["bind"], ep["scheme"]) == ("10.0.0.5", 9090, "0.0.0.0", "http")
    for bind in ("0.0.0.0:9091", ":9091", "[::]:9091", "9091"):
        assert model.resolve("prometheus", "web", "mon-1", {"prometheus_listen_address": bind, "ansible_host": "10.0.0.5"})[
            "url"] == "http://10.0.0.5:9091", bind


def test_a_bound_address_is_the_one_clients_use_ipv6_in_brackets():
    assert model.resolve("jaeger", "otlp_http", "j", {"jaeger_otlp_http_listen_address": "10.1.2.3:14318",
                                                      "ansible_host": "192.0.2.1"})["url"] == "http://10.1.2.3:14318/v1/traces"
    ep = model.resolve("loki", "http", "l", {"loki_http_listen_address": "[fd00::5]:3101"})
    assert (ep["address"], ep["url"]) == ("[fd00::5]", "http://[fd00::5]:3101")
    assert model.resolve("loki", "http", "l", {"ansible_host": "fd00::7"})["url"] == "http://[fd00::7]:3100"


def test_tls_makes_https_per_host():
    assert model.resolve("jaeger", "query", "j", {"jaeger_query_tls_cert": "PEM"})["url"] == "https://j:16686"
    assert model.resolve("jaeger", "query", "j", {"jaeger_query_tls_cert": ""})["scheme"] == "http"
    assert model.resolve("jaeger", "otlp_http", "j", {"jaeger_otlp_tls_cert": "PEM"})["url"] == "https://j:4318/v1/traces"


def test_grafana_listens_on_a_host_and_a_port_variable():
    assert model.resolve("grafana", "http", "g", {"grafana_listen_port": 3030, "ansible_host": "10.0.0.9"})["url"] == "http://10.0.0.9:3030"
    assert model.resolve("grafana", "http", "g", {"grafana_listen_address": "127.0.0.1", "grafana_tls_cert": "PEM"})[
        "url"] == "https://127.0.0.1:3000"


def test_credentials_are_a_reference_never_the_password():
    ep = model.resolve("prometheus", "web", "p", {"prometheus_basic_auth_users": {"grafana": "s3cret", "alice": "x"}})
    assert ep["credentials"] == {"var": "prometheus_basic_auth_users", "username": "alice"}
    assert "s3cret" not in repr(ep) and "x'" not in repr(ep["credentials"])
    assert model.resolve("prometheus", "web", "p", {})["credentials"] == {}


def test_an_address_var_replaces_ansible_host_for_one_client():
    ep = model.resolve("prometheus", "web", "p", {"ansible_host": "10.0.0.5", "validate_address": "127.0.0.1"},
                       address_var="validate_address")
    assert ep["url"] == "http://127.0.0.1:9090"
    assert model.resolve("prometheus", "web", "p", {"ansible_host": "10.0.0.5"}, address_var="validate_address")[
        "url"] == "http://10.0.0.5:9090"


def test_every_host_of_the_group_in_inventory_order_and_none_without_the_group():
    groups = {"jaeger": ["j2", "j1"], "all": ["j2", "j1"]}
    hostvars = {"j1": {"ansible_host": "10.0.0.1"}, "j2": {"jaeger_otlp_http_listen_address": "0.0.0.0:14318"}}
    assert [e["url"] for e in FILTERS["endpoints"](groups, hostvars, "jaeger", "otlp_http")] == [
        "http://j2:14318/v1/traces", "http://10.0.0.1:4318/v1/traces"]
    assert FILTERS["endpoints"]({"all": ["x"]}, {"x": {}}, "jaeger", "otlp_http") == []
    assert FILTERS["endpoints"]({"jaeger": []}, {}, "jaeger", "otlp_http") == []


def test_the_log_store_is_loki_else_victorialogs():
    hostvars = {"l": {}, "v": {"victorialogs_listen_address": "10.0.0.3:19428"}}
    assert FILTERS["log_store"]({"loki": ["l"], "victorialogs": ["v"]}) == "loki"
    assert FILTERS["log_store"]({"loki": [], "victorialogs": ["v"]}) == "victorialogs"
    assert FILTERS["log_store"]({}) == ""
    store = FILTERS["log_store"]({"victorialogs": ["v"]}, hostvars)
    assert store["kind"] == "victorialogs"
    assert [e["url"] for e in store["endpoints"]] == ["http://10.0.0.3:19428/insert/opentelemetry/v1/logs"]
    assert FILTERS["log_store"]({"loki": ["l"]}, hostvars)["endpoints"][0]["url"] == "http://l:3100/otlp/v1/logs"


def test_the_defaults_are_the_roles_own():
    for component, entry in model.CATALOG.items():
        defaults = model.role_defaults(entry["role"])
        for name, spec in entry["endpoints"].items():
            for key in ("listen", "listen_host", "listen_port", "tls", "basic_auth"):
                if key in spec:
                    assert spec[key] in defaults, f"{component}.{name}: roles/{entry['role']} has no default {spec[key]}"


def test_bad_input_says_which_host_and_variable():
    with pytest.raises(AnsibleFilterError, match=r"endpoint: prometheus_listen_address of host p: 'p:90x'"):
        FILTERS["endpoint"]("p", {"p": {"prometheus_listen_address": "p:90x"}}, "prometheus", "web")
    with pytest.raises(AnsibleFilterError, match="endpoint: .*port 70000 is out of range"):
        FILTERS["endpoint"]("p", {"p": {"prometheus_listen_address": ":70000"}}, "prometheus", "web")
    with pytest.raises(AnsibleFilterError, match="endpoints: no component nope in the model"):
        FILTERS["endpoints"]({}, {}, "nope", "web")
