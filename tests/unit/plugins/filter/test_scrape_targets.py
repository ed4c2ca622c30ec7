# -*- coding: utf-8 -*-
# Copyright: ilp.observability contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of the scrape catalog filters (scrape_jobs, scrape_targets, scrape_job_regex) on plain data,
and of the catalog fields documented in scrape_jobs.yml against the fields the filter accepts."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError

try:
    from ansible_collections.ilp.observability.plugins.filter import scrape_targets as plugin
except ImportError:  # plain pytest from a clone: the playbook-adjacent collections/ folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "collections"))
    from ansible_collections.ilp.observability.plugins.filter import scrape_targets as plugin

CATALOG_FILE = Path(plugin.__file__).resolve().parents[2] / "roles" / "prometheus" / "defaults" / "main" / "scrape.yml"

NODE = {"job": "node", "role": "node_exporter", "group": "all", "port": 9100,
        "port_vars": ["node_exporter_listen_address"], "path_vars": ["node_exporter_metrics_path"],
        "https_vars": ["node_exporter_tls_cert"]}
CONNECTOR = {
    "job": "connector", "role": "connector", "group": "connectors", "interval": "10s", "path": "/metrics",
    "path_vars": ["connector_metrics_path"], "path_label": True,
    "labels": {"nodeId": {"vars": ["connector_node_id", "inventory_hostname"]},
               "environment": {"vars": ["connector_environment", "ilp_environment"], "default": "production"}},
    "variant_var": "connector_implementation", "variant_default": "interledgerjs",
    "variants": {"interledgerjs": {"port": 7780, "port_vars": ["connector_admin_api_port"],
                                   "address_vars": ["connector_admin_api_host"]},
                 "native": {"port": 8080, "port_vars": ["connector_health_check_port"]}},
}


def targets(entry, hostvars, groups=None, **kwargs):
    """The target list of `entry`'s job for hosts `hostvars` (all of them in its group by default)."""
    groups = groups if groups is not None else {entry["group"]: list(hostvars)}
    return plugin.scrape_targets([entry], groups, hostvars, job=entry["job"], **kwargs)


def target(entry, host_variables, host="h1"):
    """The one target group of a single host."""
    (group,) = targets(entry, {host: host_variables})
    return group


# --- ports, addresses, paths, schemes -------------------------------------------------------

@pytest.mark.parametrize("value, port", [
    (9200, 9200), ("9200", 9200), (":9200", 9200), ("0.0.0.0:9200", 9200), ("10.1.2.3:9200", 9200),
    ("[::]:9200", 9200), ("[fd00::1]:9200", 9200),
])
def test_a_port_variable_takes_a_port_or_an_address_with_a_port(value, port):
    assert target(NODE, {"node_exporter_listen_address": value})["targets"] == [f"h1:{port}"]


@pytest.mark.parametrize("value", ["abc", "0.0.0.0:", "70000", True])
def test_a_port_variable_that_is_no_port_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="node_exporter_listen_address of host h1"):
        target(NODE, {"node_exporter_listen_address": value})


def test_the_default_port_when_no_port_variable_is_set_or_it_is_empty():
    assert target(NODE, {})["targets"] == ["h1:9100"]
    assert target(NODE, {"node_exporter_listen_address": ""})["targets"] == ["h1:9100"]


def test_the_address_is_ansible_host_else_the_inventory_name_ipv6_in_brackets():
    assert target(NODE, {"ansible_host": "10.0.0.5"})["targets"] == ["10.0.0.5:9100"]
    assert target(NODE, {"ansible_host": "fd00::5"})["targets"] == ["[fd00::5]:9100"]
    assert target(NODE, {}, host="web-1")["targets"] == ["web-1:9100"]


@pytest.mark.parametrize("api_host, address", [
    ("10.9.9.9", "10.9.9.9"), ("0.0.0.0", "10.0.0.5"), ("::", "10.0.0.5"), ("", "10.0.0.5"), (None, "10.0.0.5"),
])
def test_address_variables_come_first_unless_they_are_wildcards(api_host, address):
    host = {"ansible_host": "10.0.0.5"}
    if api_host is not None:
        host["connector_admin_api_host"] = api_host
    assert target(CONNECTOR, host)["targets"] == [f"{address}:7780"]


def test_a_path_variable_puts_the_path_on_the_target_only_when_it_differs():
    assert "__metrics_path__" not in target(NODE, {})["labels"]
    assert "__metrics_path__" not in target(NODE, {"node_exporter_metrics_path": "/metrics"})["labels"]
    assert target(NODE, {"node_exporter_metrics_path": "/node"})["labels"]["__metrics_path__"] == "/node"


def test_path_label_puts_the_path_on_every_target():
    assert target(CONNECTOR, {})["labels"]["__metrics_path__"] == "/metrics"
    assert target(CONNECTOR, {"connector_metrics_path": "/m"})["labels"]["__metrics_path__"] == "/m"


def test_an_https_variable_set_on_a_host_makes_it_scraped_over_https():
    assert target(NODE, {"node_exporter_tls_cert": "PEM"})["labels"]["__scheme__"] == "https"
    assert "__scheme__" not in target(NODE, {"node_exporter_tls_cert": ""})["labels"]
    assert "__scheme__" not in target(dict(NODE, scheme="https"), {"node_exporter_tls_cert": "PEM"})["labels"]


# --- labels and variants ---------------------------------------------------------------------

def test_labels_take_the_first_host_variable_set_then_the_default():
    labels = target(CONNECTOR, {"connector_node_id": "n-1", "ilp_environment": "lab"})["labels"]
    assert labels == {"instance": "h1", "nodeId": "n-1", "environment": "lab", "__metrics_path__": "/metrics"}
    labels = target(CONNECTOR, {"connector_environment": "blue", "ilp_environment": "lab"})["labels"]
    assert (labels["nodeId"], labels["environment"]) == ("h1", "blue")  # nodeId: the inventory name
    assert target(CONNECTOR, {})["labels"]["environment"] == "production"


def test_constant_labels_and_labels_without_value_or_default():
    entry = dict(NODE, labels={"team": "payments", "rack": {"vars": ["rack"]}, "zone": {"vars": ["zone"], "default": 3}})
    assert target(entry, {})["labels"] == {"instance": "h1", "team": "payments", "zone": "3"}
    assert target(entry, {"rack": 7})["labels"]["rack"] == "7"


def test_a_variant_per_host_picks_port_and_address():
    hosts = {
        "js": {"ansible_host": "10.0.0.1", "connector_admin_api_host": "10.0.0.2", "connector_admin_api_port": 7790},
        "native": {"ansible_host": "10.0.0.3", "connector_implementation": "native",
                   "connector_admin_api_host": "10.0.0.4", "connector_health_check_port": "9080"},
        "default": {"connector_implementation": ""},
    }
    assert [group["targets"] for group in targets(CONNECTOR, hosts)] == [
        ["10.0.0.2:7790"], ["10.0.0.3:9080"], ["default:7780"]]


def test_an_unknown_variant_is_refused_with_the_choices():
    with pytest.raises(AnsibleFilterError, match=r"connector_implementation='rust'.*interledgerjs, native"):
        target(CONNECTOR, {"connector_implementation": "rust"})


# --- jobs: groups, changes, checks, secrets ---------------------------------------------------

def test_jobs_whose_group_is_missing_or_empty_are_left_out():
    catalog = [NODE, CONNECTOR]
    assert plugin.scrape_targets(catalog, {"all": ["a"]}, {"a": {}}) == {"node": [
        {"targets": ["a:9100"], "labels": {"instance": "a"}}]}
    assert [job["job"] for job in plugin.scrape_jobs(catalog, {"all": ["a"], "connectors": []})] == ["node"]
    assert targets(CONNECTOR, {}, groups={}) == []


def test_hosts_follow_the_inventory_order():
    groups = {"all": ["c", "a", "b"]}
    assert [g["labels"]["instance"] for g in plugin.scrape_targets([NODE], groups, {}, job="node")] == ["c", "a", "b"]


def test_changes_merge_by_job_name_add_jobs_and_disable_them():
    catalog = [NODE, CONNECTOR]
    changes = [
        {"job": "connector", "interval": "5s", "group": None,
         "labels": {"environment": {"default": "staging"}}, "variants": {"native": {"port": 9999}}},
        {"job": "node", "enabled": False},
        {"job": "made-up", "group": "made_up", "port": 4242, "path": "/stats"},
    ]
    groups = {"all": ["a"], "connectors": ["c"], "made_up": ["m"]}
    jobs = {job["job"]: job for job in plugin.scrape_jobs(catalog, groups, changes)}
    assert list(jobs) == ["connector", "made-up"]
    connector = jobs["connector"]
    assert (connector["interval"], connector["group"]) == ("5s", "connectors")  # null leaves the catalog's value
    assert connector["labels"]["environment"] == {"vars": ["connector_environment", "ilp_environment"], "default": "staging"}
    assert connector["variants"]["native"] == {"port": 9999, "port_vars": ["connector_health_check_port"]}
    assert jobs["made-up"]["role"] == "external" and jobs["made-up"]["path"] == "/stats"
    assert plugin.scrape_targets(catalog, {"made_up": ["m"]}, {}, changes, job="made-up") == [
        {"targets": ["m:4242"], "labels": {"instance": "m"}}]
    # The catalog itself is left as it was.
    assert CONNECTOR["variants"]["native"]["port"] == 8080 and "enabled" not in NODE


@pytest.mark.parametrize("catalog, message", [
    ([dict(NODE, prot=9100)], "unknown entry field.*prot"),
    ([{k: v for k, v in NODE.items() if k != "port"}], "no default port"),
    ([{k: v for k, v in NODE.items() if k != "group"}], "no inventory group"),
    ([NODE, NODE], "listed twice"),
    ([dict(NODE, job="bad name")], "valid job name"),
    ([dict(NODE, scheme="ftp")], "scheme must be http or https"),
    ([dict(CONNECTOR, variant_var="")], "variants need variant_var"),
    ([dict(CONNECTOR, variants={"native": {"port": 8080, "labels": {}}})], "unknown variant native field.*labels"),
    ([dict(NODE, auth={"user": "x"})], "unknown auth field.*user"),
    ([dict(NODE, port_vars={"a": 1})], "port_vars must be a list"),
])
def test_entries_are_checked(catalog, message):
    with pytest.raises(AnsibleFilterError, match=message):
        plugin.scrape_jobs(catalog, {"all": ["a"], "connectors": ["c"]})


def test_basic_auth_and_ca_become_secret_files_named_after_the_job_or_secret():
    entry = dict(NODE, auth={"username": "scraper", "password": "pw", "ca": "PEM"}, tls_config={"insecure_skip_verify": False})
    (job,) = plugin.scrape_jobs([entry], {"all": ["a"]}, secrets_dir="/etc/prometheus/secrets/")
    assert job["password_file"] == "/etc/prometheus/secrets/node.password"
    assert job["tls_config"] == {"ca_file": "/etc/prometheus/secrets/node-ca.crt"}  # false values left out
    assert job["secret_files"] == [
        {"content": "pw", "dest": "/etc/prometheus/secrets/node.password"},
        {"content": "PEM", "dest": "/etc/prometheus/secrets/node-ca.crt", "mode": "0644"}]
    (job,) = plugin.scrape_jobs([dict(entry, auth=dict(entry["auth"], secret="node_exporter"))], {"all": ["a"]})
    assert job["password_file"] == "/etc/prometheus/secrets/node_exporter.password"


def test_no_username_no_basic_auth():
    (job,) = plugin.scrape_jobs([dict(NODE, auth={"username": "", "password": "pw"})], {"all": ["a"]})
    assert (job["password_file"], job["secret_files"], job["tls_config"]) == ("", [], {})


def test_the_result_of_scrape_jobs_can_be_given_again():
    groups = {"all": ["a"], "connectors": ["c"]}
    jobs = plugin.scrape_jobs([NODE, dict(CONNECTOR, auth={"username": "u", "password": "p"})], groups)
    assert plugin.scrape_jobs(jobs, groups) == jobs
    assert plugin.scrape_targets(jobs, groups, {}) == plugin.scrape_targets([NODE, CONNECTOR], groups, {})


def test_the_shipped_catalog_is_valid_and_scrapes_the_connectors_per_implementation():
    catalog = yaml.safe_load(CATALOG_FILE.read_text())["prometheus__scrape_catalog"]
    groups = {"all": ["mon", "js", "nat"], "prometheus": ["mon"], "alertmanager": ["mon"], "connectors": ["js", "nat"]}
    hostvars = {"mon": {}, "js": {"connector_admin_api_host": "0.0.0.0"},
                "nat": {"connector_implementation": "native", "ilp_environment": "lab"}}
    result = plugin.scrape_targets(catalog, groups, hostvars)
    # otel_collector: the log agent runs on every host (group all)
    assert list(result) == ["prometheus", "node", "alertmanager", "connector", "otel_collector"]
    assert [(g["targets"], g["labels"]["nodeId"], g["labels"]["environment"]) for g in result["connector"]] == [
        (["js:7780"], "js", "{{ prometheus_external_labels.environment }}"),  # not templated here
        (["nat:8080"], "nat", "lab")]
    assert [job["job"] for job in plugin.scrape_jobs(catalog, groups) if job["alerting"]] == ["alertmanager"]


# --- probes (blackbox jobs) -----------------------------------------------------------------

BLACKBOX = {"job": "blackbox", "role": "blackbox_exporter", "group": "blackbox", "port": 9115,
            "port_vars": ["blackbox_exporter_listen_address"], "https_vars": ["blackbox_exporter_tls_cert"],
            "auth": {"username": "prober", "password": "secret", "secret": "blackbox_exporter"}}
PROBED_CONNECTOR = dict(CONNECTOR, probes=[{"module": "http_health", "variants": {
    "interledgerjs": {"port": 7780, "port_vars": ["connector_admin_api_port"], "path": "/status"},
    "native": {"port": 8080, "port_vars": ["connector_health_check_port"], "path": "/health/ready"}}}])
PROBED_JAEGER = {"job": "jaeger", "group": "jaeger", "port": 8888, "probes": [
    {"module": "http_2xx", "port": 13133, "port_vars": ["jaeger_health_listen_address"], "path": "/status"},
    {"module": "tls", "target": "address", "port": 4317, "when_vars": ["jaeger_otlp_tls_cert"]}]}


def test_probe_jobs_one_per_module_through_the_prober():
    groups = {"connectors": ["c1"], "jaeger": ["j1"], "blackbox": ["mon"]}
    jobs = plugin.scrape_jobs([PROBED_CONNECTOR, PROBED_JAEGER, BLACKBOX], groups)
    assert [job["job"] for job in jobs] == ["connector", "jaeger", "blackbox", "blackbox_http_health",
                                            "blackbox_http_2xx", "blackbox_tls"]
    probe = jobs[3]
    assert (probe["probe_module"], probe["prober"], probe["path"]) == ("http_health", "blackbox", "/probe")
    assert probe["hosts"] == ["mon"]
    # The prober's credentials, written once (by the blackbox job).
    assert probe["password_file"] == jobs[2]["password_file"] == "/etc/prometheus/secrets/blackbox_exporter.password"
    assert probe["secret_files"] == [] and len(jobs[2]["secret_files"]) == 1
    assert all(job["probe_module"] == "" for job in jobs[:3])


def test_no_probe_jobs_without_prober_hosts():
    jobs = plugin.scrape_jobs([PROBED_CONNECTOR, BLACKBOX], {"connectors": ["c1"], "blackbox": []})
    assert [job["job"] for job in jobs] == ["connector"]
    jobs = plugin.scrape_jobs([PROBED_CONNECTOR, BLACKBOX], {"connectors": ["c1"], "blackbox": ["m"]},
                              [{"job": "connector", "probes": []}])
    assert [job["job"] for job in jobs] == ["connector", "blackbox"]


def test_probe_targets_per_variant_at_the_scraped_address():
    groups = {"connectors": ["c1", "c2"], "blackbox": ["mon"]}
    hostvars = {"c1": {"connector_admin_api_host": "10.0.1.1", "connector_node_id": "a"},
                "c2": {"connector_implementation": "native", "ansible_host": "10.0.1.2", "connector_health_check_port": 9080},
                "mon": {"ansible_host": "10.0.0.1"}}
    groups_of = plugin.scrape_targets([PROBED_CONNECTOR, BLACKBOX], groups, hostvars, job="blackbox_http_health")
    assert groups_of == [
        {"targets": ["http://10.0.1.1:7780/status"],
         "labels": {"instance": "c1", "nodeId": "a", "environment": "production", "component": "connector",
                    "prober": "mon", "__tmp_prober_address": "10.0.0.1:9115"}},
        {"targets": ["http://10.0.1.2:9080/health/ready"],
         "labels": {"instance": "c2", "nodeId": "c2", "environment": "production", "component": "connector",
                    "prober": "mon", "__tmp_prober_address": "10.0.0.1:9115"}}]


def test_probe_targets_through_every_prober_with_its_scheme_and_when_vars():
    groups = {"jaeger": ["j1", "j2"], "blackbox": ["m1", "m2"]}
    hostvars = {"j1": {"jaeger_otlp_tls_cert": "PEM", "jaeger_health_listen_address": "0.0.0.0:14133"}, "j2": {},
                "m1": {"blackbox_exporter_tls_cert": "PEM"}, "m2": {"blackbox_exporter_listen_address": ":9200"}}
    targets_of = plugin.scrape_targets([PROBED_JAEGER, BLACKBOX], groups, hostvars)
    assert [(g["targets"][0], g["labels"]["prober"], g["labels"]["__tmp_prober_address"], g["labels"].get("__scheme__"))
            for g in targets_of["blackbox_http_2xx"]] == [
        ("http://j1:14133/status", "m1", "m1:9115", "https"), ("http://j1:14133/status", "m2", "m2:9200", None),
        ("http://j2:13133/status", "m1", "m1:9115", "https"), ("http://j2:13133/status", "m2", "m2:9200", None)]
    # Only the host with a certificate gets a tls probe, by address.
    assert [g["targets"] for g in targets_of["blackbox_tls"]] == [["j1:4317"], ["j1:4317"]]


def test_probe_https_vars_and_a_disabled_variant():
    entry = dict(PROBED_CONNECTOR, probes=[dict(PROBED_CONNECTOR["probes"][0], https_vars=["connector_tls_cert"],
                                                variants={"interledgerjs": {"port": 7780, "path": "/status"},
                                                          "native": {"port": 8080, "enabled": False}})])
    groups = {"connectors": ["c1", "c2"], "blackbox": ["mon"]}
    hostvars = {"c1": {"connector_tls_cert": "PEM"}, "c2": {"connector_implementation": "native"}, "mon": {}}
    assert [g["targets"] for g in plugin.scrape_targets([entry, BLACKBOX], groups, hostvars, job="blackbox_http_health")] \
        == [["https://c1:7780/status"]]


def test_scrape_targets_of_scrape_jobs_output_are_the_same():
    groups = {"connectors": ["c1"], "jaeger": ["j1"], "blackbox": ["mon"]}
    hostvars = {"c1": {}, "j1": {"jaeger_otlp_tls_cert": "PEM"}, "mon": {}}
    catalog = [PROBED_CONNECTOR, PROBED_JAEGER, BLACKBOX]
    jobs = plugin.scrape_jobs(catalog, groups)
    assert plugin.scrape_targets(jobs, groups, hostvars) == plugin.scrape_targets(catalog, groups, hostvars)


@pytest.mark.parametrize("probes, message", [
    ([{"port": 80}], "needs a blackbox module name"),
    ([{"module": "http_2xx"}], "has no default port"),
    ([{"module": "http_2xx", "port": 80, "target": "host"}], "target must be url or address"),
    ([{"module": "http_2xx", "port": 80, "timeout": "5s"}], "unknown probes[0] field(s) timeout"),
    ([{"module": "http_2xx", "port": 80, "scheme": "ftp"}], "scheme must be http or https"),
    ([{"module": "http_2xx", "port": 80, "variants": {"a": {"module": "x"}}}], "unknown probes[0].variants.a field(s) module"),
    ({"module": "http_2xx"}, "probes must be a list"),
])
def test_a_wrong_probe_is_refused(probes, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        plugin.scrape_jobs([dict(NODE, probes=probes)], {"all": ["h1"]})


def test_probe_variants_need_the_entrys_variant_var():
    with pytest.raises(AnsibleFilterError, match="need the entry's variant_var"):
        plugin.scrape_jobs([dict(NODE, probes=[{"module": "m", "variants": {"a": {"port": 1}}}])], {"all": ["h1"]})


def test_a_job_named_like_a_probe_job_is_refused():
    with pytest.raises(AnsibleFilterError, match="blackbox_http_health is also the probe job"):
        plugin.scrape_jobs([PROBED_CONNECTOR, BLACKBOX, dict(NODE, job="blackbox_http_health")],
                           {"connectors": ["c1"], "blackbox": ["m"], "all": ["h1"]})


def test_the_shipped_catalog_probes_every_component():
    catalog = yaml.safe_load(CATALOG_FILE.read_text())["prometheus__scrape_catalog"]
    probed = {entry["job"]: [probe["module"] for probe in entry.get("probes", [])] for entry in catalog}
    assert probed["connector"] == ["http_health"]
    for job in ("prometheus", "alertmanager", "grafana", "jaeger", "otel_collector", "victorialogs", "loki"):
        assert "http_2xx" in probed[job], job


# --- the catalog's fields: documented once (scrape_jobs.yml), equal to what the filter accepts -----

DOC_FILE = Path(plugin.__file__).with_name("scrape_jobs.yml")
ENTRY_DOC = yaml.safe_load(DOC_FILE.read_text())["DOCUMENTATION"]["options"]["_input"]["suboptions"]


def listed_fields(description) -> set:
    """The C(field) names a description lists after its colon ("... replaces for its hosts: C(port), ...")."""
    text = " ".join(description) if isinstance(description, list) else description
    return set(re.findall(r"C\(([a-z_]+)\)", text.split(":", 1)[1]))


def test_the_documented_entry_fields_are_the_fields_the_filter_accepts_with_its_defaults():
    assert set(ENTRY_DOC) == plugin.ENTRY_FIELDS
    assert {name: spec["default"] for name, spec in ENTRY_DOC.items() if "default" in spec} == plugin.ENTRY_DEFAULTS
    assert ENTRY_DOC["scheme"]["choices"] == ["http", "https"]
    assert [name for name, spec in ENTRY_DOC.items() if spec.get("required")] == ["job"]


def test_the_documented_auth_and_probe_fields_are_the_fields_the_filter_accepts_with_its_defaults():
    auth = ENTRY_DOC["auth"]["suboptions"]
    assert {name: spec["default"] for name, spec in auth.items()} == plugin.AUTH_DEFAULTS
    probe = ENTRY_DOC["probes"]["suboptions"]
    assert set(probe) == plugin.PROBE_FIELDS
    assert ({name: spec["default"] for name, spec in probe.items() if "default" in spec}
            == {name: value for name, value in plugin.PROBE_DEFAULTS.items() if value is not None})
    assert probe["target"]["choices"] == list(plugin.PROBE_TARGETS)


def test_the_documented_variant_fields_are_the_fields_the_filter_accepts():
    assert listed_fields(ENTRY_DOC["variants"]["description"]) == plugin.VARIANT_FIELDS
    assert listed_fields(ENTRY_DOC["probes"]["suboptions"]["variants"]["description"]) == plugin.PROBE_VARIANT_FIELDS


def test_an_entry_with_every_documented_field_is_accepted():
    entry = dict(CONNECTOR, group="connectors", port=7780, port_vars=[], address_vars=[], scheme="http", https_vars=[],
                 auth={name: "" for name in ENTRY_DOC["auth"]["suboptions"]}, tls_config={}, alerting=False,
                 enabled=True, probes=[{name: spec.get("default") for name, spec in
                                        ENTRY_DOC["probes"]["suboptions"].items()} | {"module": "http_2xx", "port": 1}])
    assert set(entry) == set(ENTRY_DOC)
    (job,) = plugin.scrape_jobs([entry], {"connectors": ["c1"]}, prober="")
    assert job["job"] == "connector" and job["probes"][0]["module"] == "http_2xx"


# --- scrape_job_regex: the job names the rules select, by kind ------------------------------------

def test_the_shipped_catalog_gives_the_rules_their_job_names():
    catalog = yaml.safe_load(CATALOG_FILE.read_text())["prometheus__scrape_catalog"]
    jobs = plugin.scrape_job_regex(catalog)
    assert {kind: jobs[kind] for kind in ("connector", "connector_probe", "probe", "tigerbeetle", "node_exporter",
                                          "prometheus", "alertmanager", "jaeger", "otel_collector", "victorialogs",
                                          "loki")} == {
        "connector": "connector", "connector_probe": "blackbox_http_health", "probe": "blackbox_.+",
        "tigerbeetle": "tigerbeetle", "node_exporter": "node", "prometheus": "prometheus",
        "alertmanager": "alertmanager", "jaeger": "jaeger", "otel_collector": "otel_collector",
        "victorialogs": "victorialogs", "loki": "loki"}


def test_a_job_added_with_a_role_is_selected_with_that_roles_jobs():
    overrides = [{"job": "connector-eu", "role": "connector", "group": "eu", "port": 7780,
                  "probes": [{"module": "tcp_connect", "port": 7780}]},
                 {"job": "ledger", "group": "tb", "port": 3000}]
    jobs = plugin.scrape_job_regex([CONNECTOR, dict(PROBED_CONNECTOR, job="c2")], overrides, prober="bb")
    assert jobs["connector"] == "connector|c2|connector-eu"
    assert jobs["connector_probe"] == "bb_http_health|bb_tcp_connect"
    assert jobs["ledger"] == "ledger"  # an external job: its own kind
    assert jobs["probe"] == "bb_.+"


def test_overrides_change_a_jobs_role_and_probes_and_disabled_jobs_stay_selected():
    overrides = [{"job": "node", "role": "external"}, {"job": "connector", "probes": [], "enabled": False}]
    jobs = plugin.scrape_job_regex([NODE, PROBED_CONNECTOR], overrides)
    assert "node_exporter" not in jobs and jobs["node"] == "node"
    assert jobs["connector"] == "connector" and "connector_probe" not in jobs


def test_scrape_job_regex_of_scrape_jobs_output_skips_the_probe_jobs():
    jobs = plugin.scrape_jobs([PROBED_CONNECTOR, BLACKBOX], {"connectors": ["c1"], "blackbox": ["m"]})
    assert plugin.scrape_job_regex(jobs) == plugin.scrape_job_regex([PROBED_CONNECTOR, BLACKBOX])


@pytest.mark.parametrize("catalog, overrides", [("connector", None), ([{"group": "x"}], None), ([NODE], [{"port": 1}])])
def test_scrape_job_regex_refuses_entries_without_a_job(catalog, overrides):
    with pytest.raises(AnsibleFilterError):
        plugin.scrape_job_regex(catalog, overrides)
