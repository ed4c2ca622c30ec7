"""The grafana role's files, rendered by Ansible from the role's defaults and vars.

grafana.ini keeps Grafana's unsafe defaults off (sign-up, anonymous access, reporting home,
plugin downloads at start) and turns secure cookies on with TLS; no secret appears in a file that
is not a secret; the data sources follow the inventory (Prometheus, Alertmanager, Jaeger, and
Loki or VictoriaLogs) and link to each other both ways, with every `$` Grafana must see doubled
for its provisioning interpolation; the archive URL and the digest read from upstream's checksum
file follow the formats Grafana has used; the unit is hardened below systemd-analyze's 2.0. With
ILP_GRAFANA_ARCHIVE pointing at a Grafana release archive, Grafana itself runs briefly on loopback
with the rendered files (this project never fetches or runs Grafana on its own: it is AGPL).
"""
from __future__ import annotations

import base64
import configparser
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
ROLE = TOP / "roles" / "grafana"
PLAYBOOK = TOP / "tests" / "roles" / "render-grafana.yml"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
DIGEST = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
SKIP_LIVE = ("Grafana cannot run here (AGPL, not run in this project's tests): "
             "set ILP_GRAFANA_ARCHIVE to a release archive to run this")

PROM_PASSWORD = 'pr0m$ecret"`\\x'
AM_PASSWORD = "am-secret-1"
ADMIN_PASSWORD = "adm1n-S3cret"
SECRET_KEY = "sk-0123456789"
TLS_KEY = "-----BEGIN PRIVATE KEY-----\nTLSKEYMATERIAL\n-----END PRIVATE KEY-----\n"
TLS_CERT = "-----BEGIN CERTIFICATE-----\nCERTMATERIAL\n-----END CERTIFICATE-----\n"


def inventory(**groups: dict) -> dict:
    """An inventory of localhost plus the given groups ({group: {host: hostvars}})."""
    return {"all": {"hosts": {"localhost": {}},
                    "children": {name: {"hosts": hosts} for name, hosts in groups.items()}}}


# The monitoring host of the examples: every component on one host.
MON = {"ansible_host": "10.0.0.5"}
VICTORIALOGS_STORE = inventory(prometheus={"mon-1": MON}, alertmanager={"mon-1": MON}, jaeger={"mon-1": MON},
                               victorialogs={"mon-1": MON}, grafana={"mon-1": MON})
LOKI_STORE = inventory(prometheus={"mon-1": MON}, alertmanager={"mon-1": MON}, jaeger={"mon-1": MON},
                       loki={"mon-1": MON}, victorialogs={"mon-2": {"ansible_host": "10.0.0.6"}}, grafana={"mon-1": MON})
SECURED = inventory(
    prometheus={"mon-1": {**MON, "prometheus_listen_address": "10.0.1.5:9091", "prometheus_tls_cert": TLS_CERT,
                          "prometheus_tls_key": TLS_KEY, "prometheus_basic_auth_users": {"grafana": PROM_PASSWORD},
                          "prometheus_external_url": "https://prometheus.example.net/prom/", "prometheus_scrape_interval": "30s"}},
    alertmanager={"mon-1": {**MON, "alertmanager_basic_auth_users": {"ops": AM_PASSWORD}}},
    jaeger={"mon-1": {**MON, "jaeger_query_listen_address": "0.0.0.0:16687", "jaeger_query_tls_cert": TLS_CERT,
                      "jaeger_query_tls_key": TLS_KEY}},
    loki={"mon-1": {**MON, "loki_http_listen_address": "[::]:3101"}},
    grafana={"mon-1": MON})


class Rendered:
    """The files of one render: grafana.ini (parsed and raw), the provisioning files, the unit, derived values."""

    def __init__(self, out: Path):
        self.out = out
        self.ini_text = (out / "grafana.ini").read_text()
        self.ini = configparser.ConfigParser(interpolation=None)
        self.ini.read_string(self.ini_text)
        self.datasources_text = (out / "datasources.yml").read_text()
        self.datasources_file = yaml.safe_load(self.datasources_text)
        self.dashboards_text = (out / "dashboards.yml").read_text()
        self.unit = (out / "grafana.service").read_text()
        self.derived = json.loads((out / "derived.json").read_text())

    @property
    def datasources(self) -> dict:
        """uid -> data source, as written in the provisioning file."""
        return {ds["uid"]: ds for ds in self.datasources_file["datasources"]}

    def seen_by_grafana(self, value):
        """A provisioning value as Grafana reads it: `$$` is a literal `$` (Grafana's interpolateValue)."""
        if isinstance(value, str):
            return value.replace("$$", "$")
        if isinstance(value, dict):
            return {k: self.seen_by_grafana(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.seen_by_grafana(v) for v in value]
        return value

    def secret_content(self, dest_suffix: str) -> str:
        return next(f["content"] for f in self.derived["secret_files"] if f["dest"].endswith(dest_suffix))


def render(tmp_path: Path, extra: dict | None = None, hosts: dict | None = None, env: dict | None = None) -> Rendered:
    out = tmp_path / "out"
    out.mkdir(parents=True)
    extra_file = tmp_path / "extra.json"
    values = {"out": str(out), "ansible_python_interpreter": sys.executable, "grafana_admin_password": ADMIN_PASSWORD,
              "grafana_dashboards_src": str(tmp_path / "no-dashboards"), **(extra or {})}
    extra_file.write_text(json.dumps(values))
    hosts_file = tmp_path / "hosts.json"
    hosts_file.write_text(json.dumps(hosts or VICTORIALOGS_STORE))
    ansible = shutil.which("ansible-playbook") or str(TOP / ".venv" / "bin" / "ansible-playbook")
    proc = subprocess.run([ansible, str(PLAYBOOK), "-i", str(hosts_file), "-c", "local", "-e", f"@{extra_file}"],
                          capture_output=True, text=True, timeout=180, check=False,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / "collections"),
                                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_LOCALHOST_WARNING="false",
                                   **(env or {})))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Rendered(out)


# --- grafana.ini ------------------------------------------------------------------------------

def test_grafana_ini_keeps_unsafe_defaults_off(tmp_path):
    r = render(tmp_path)
    ini = r.ini
    assert ini["users"]["allow_sign_up"] == "false" and ini["users"]["allow_org_create"] == "false"
    assert ini["auth.anonymous"]["enabled"] == "false"
    assert dict(ini["analytics"]) == {"reporting_enabled": "false", "check_for_updates": "false",
                                      "check_for_plugin_updates": "false", "feedback_links_enabled": "false"}
    assert ini["news"]["news_feed_enabled"] == "false" and ini["snapshots"]["external_enabled"] == "false"
    # Offline: no plugin downloads at start, no signature key fetched from grafana.com.
    assert ini["plugins"]["preinstall_disabled"] == "true" and ini["plugins"]["public_key_retrieval_disabled"] == "true"
    # Prometheus' grafana job scrapes /metrics on grafana_listen_port.
    assert ini["metrics"]["enabled"] == "true"
    assert dict(ini["server"]) == {"protocol": "http", "http_addr": "0.0.0.0", "http_port": "3000", "enforce_domain": "false"}
    assert ini["security"]["cookie_secure"] == "false" and ini["security"]["cookie_samesite"] == "lax"
    assert ini["security"]["admin_user"] == "admin"
    # The password is read from a file only root and the grafana group read.
    assert ini["security"]["admin_password"] == "$__file{/etc/grafana/secrets/admin_password}"
    assert "secret_key" not in ini["security"], "no secret_key line without grafana_secret_key (Grafana's default applies)"
    assert ini["log"]["mode"] == "console", "logs go to the journal"
    assert r.derived["local_url"] == "http://127.0.0.1:3000"


def test_tls_serves_https_with_secure_cookies(tmp_path):
    r = render(tmp_path, {"grafana_tls_cert": TLS_CERT, "grafana_tls_key": TLS_KEY, "grafana_listen_address": "10.0.0.5",
                          "grafana_listen_port": 3443, "grafana_root_url": "https://grafana.example.net/"})
    server, security = r.ini["server"], r.ini["security"]
    assert server["protocol"] == "https" and server["http_port"] == "3443" and server["http_addr"] == "10.0.0.5"
    assert server["cert_file"] == "/etc/grafana/tls/grafana.crt" and server["cert_key"] == "/etc/grafana/tls/grafana.key"
    assert server["root_url"] == "https://grafana.example.net/"
    assert security["cookie_secure"] == "true" and security["strict_transport_security"] == "true"
    files = {f["dest"]: f for f in r.derived["secret_files"]}
    # The key is a lifecycle secret file (no log, no diff), readable by root and the grafana group only.
    assert files["/etc/grafana/tls/grafana.key"]["content"] == TLS_KEY and "mode" not in files["/etc/grafana/tls/grafana.key"]
    assert files["/etc/grafana/tls/grafana.crt"]["mode"] == "0644"
    assert r.derived["local_url"] == "https://10.0.0.5:3443"


def test_grafana_ini_is_merged_over_the_defaults(tmp_path):
    r = render(tmp_path, {"grafana_ini": {"log": {"level": "debug"}, "users": {"allow_org_create": None, "default_theme": "light"},
                                          "feature_toggles": {"enable": ["a", "b"]}, "analytics": {"reporting_enabled": True}}})
    assert r.ini["log"]["level"] == "debug" and r.ini["log"]["mode"] == "console"
    assert "allow_org_create" not in r.ini["users"] and r.ini["users"]["default_theme"] == "light"
    assert r.ini["users"]["allow_sign_up"] == "false"
    assert r.ini["feature_toggles"]["enable"] == "a,b"
    assert r.ini["analytics"]["reporting_enabled"] == "true", "grafana_ini wins over the role's defaults"


def test_no_secret_in_a_file_that_is_not_secret(tmp_path):
    r = render(tmp_path, {"grafana_tls_cert": TLS_CERT, "grafana_tls_key": TLS_KEY, "grafana_secret_key": SECRET_KEY}, SECURED)
    public = {"grafana.ini": r.ini_text, "datasources.yml": r.datasources_text, "dashboards.yml": r.dashboards_text,
              "grafana.service": r.unit, "exec_start": " ".join(r.derived["exec_start"]),
              "reset_password_argv": " ".join(r.derived["reset_password_argv"])}
    for secret in (ADMIN_PASSWORD, SECRET_KEY, "TLSKEYMATERIAL", PROM_PASSWORD, AM_PASSWORD, "pr0m"):
        for name, text in public.items():
            assert secret not in text, f"{secret!r} in {name}"
    assert r.ini["security"]["secret_key"] == "$__file{/etc/grafana/secrets/secret_key}"
    assert r.secret_content("/secrets/secret_key") == SECRET_KEY
    # The data sources' passwords reach Grafana through its environment, quoted as systemd reads them.
    env = r.secret_content("/secrets/datasources.env")
    assert 'ILP_DS_PROMETHEUS_BASIC_AUTH_PASSWORD="pr0m\\$ecret\\"\\`\\\\x"' in env.splitlines()
    assert f'ILP_DS_ALERTMANAGER_BASIC_AUTH_PASSWORD="{AM_PASSWORD}"' in env.splitlines()
    assert "EnvironmentFile=/etc/grafana/secrets/datasources.env" in r.unit
    assert r.derived["admin_password_file"] == "/etc/grafana/secrets/admin_password"


# Task keys whose values never reach the output (conditions, messages) or hold other tasks.
NOT_OUTPUT = ("that", "when", "fail_msg", "block", "rescue", "always")


def visible(value):
    """A task (or its module's arguments) without the keys whose values never reach the output."""
    if isinstance(value, dict):
        return {k: visible(v) for k, v in value.items() if k not in NOT_OUTPUT}
    return value


def test_the_admin_password_is_required_and_never_logged(tmp_path):
    tasks = {path.name: yaml.safe_load(path.read_text()) for path in (ROLE / "tasks").glob("*.yml")}

    def walk(items):
        for task in items or []:
            yield task
            yield from walk(task.get("block"))

    carrying = [(name, task["name"]) for name, items in tasks.items() for task in walk(items)
                if "grafana__admin_password" in json.dumps(visible(task))]
    assert len(carrying) >= 5, carrying
    for name, title in carrying:
        task = next(t for t in walk(tasks[name]) if t["name"] == title)
        assert task.get("no_log") is True, f"{name}: {title!r} carries the admin password without no_log"
    # Through stdin, never on the command line ps shows.
    r = render(tmp_path)
    argv = r.derived["reset_password_argv"]
    assert argv[:4] == ["runuser", "-u", "grafana", "--"] and argv[-3:] == ["admin", "reset-admin-password", "--password-from-stdin"]
    assert argv[4:12] == ["/usr/local/bin/grafana", "cli", "--homepath", "/opt/ilp-observability/grafana/current",
                          "--config", "/etc/grafana/grafana.ini", "--configOverrides",
                          " ".join(a for a in r.derived["exec_start"] if a.startswith("cfg:default.paths."))]
    # No default password: empty stays empty (the role stops) outside the lab.
    assert render(tmp_path / "none", {"grafana_admin_password": ""}).derived["admin_password"] == ""


def test_the_lab_generates_its_admin_password_once(tmp_path):
    home = tmp_path / "home"
    first = render(tmp_path / "a", {"grafana_admin_password": "", "ilp_environment": "lab"}, env={"HOME": str(home)})
    second = render(tmp_path / "b", {"grafana_admin_password": "", "ilp_environment": "lab"}, env={"HOME": str(home)})
    password = first.derived["admin_password"]
    assert len(password) == 24 and password.isalnum() and second.derived["admin_password"] == password
    assert (home / ".cache/ilp-observability/lab/grafana-admin-password-localhost").read_text().startswith(password)


# --- data sources --------------------------------------------------------------------------------

def test_victorialogs_store_linked_both_ways(tmp_path):
    r = render(tmp_path)
    assert r.datasources_file["apiVersion"] == 1 and r.datasources_file["prune"] is True
    ds = r.datasources
    assert list(ds) == ["prometheus", "alertmanager", "jaeger", "victorialogs"]
    assert {uid: (d["type"], d["url"]) for uid, d in ds.items()} == {
        "prometheus": ("prometheus", "http://10.0.0.5:9090"), "alertmanager": ("alertmanager", "http://10.0.0.5:9093"),
        "jaeger": ("jaeger", "http://10.0.0.5:16686"), "victorialogs": ("victoriametrics-logs-datasource", "http://10.0.0.5:9428")}
    assert [uid for uid, d in ds.items() if d.get("isDefault")] == ["prometheus"]
    assert all(d["editable"] is False and d["access"] == "proxy" for d in ds.values())
    assert ds["alertmanager"]["jsonData"]["implementation"] == "prometheus"
    # A metric's exemplar opens its trace.
    assert ds["prometheus"]["jsonData"]["exemplarTraceIdDestinations"] == [{"name": "trace_id", "datasourceUid": "jaeger"}]
    # A log line's traceId opens its trace; `$$` in the file, `$` for Grafana.
    fields = ds["victorialogs"]["jsonData"]["derivedFields"]
    assert fields == [{"name": "traceId", "matcherType": "label", "matcherRegex": "traceId", "datasourceUid": "jaeger",
                       "url": "$${__value.raw}", "urlDisplayLabel": "Open the trace in Jaeger"}]
    assert r.seen_by_grafana(fields[0]["url"]) == "${__value.raw}"
    # A span opens the log lines of its trace.
    t2l = ds["jaeger"]["jsonData"]["tracesToLogsV2"]
    assert t2l["datasourceUid"] == "victorialogs" and t2l["filterByTraceID"] is True and t2l["tags"] == [{"key": "service.name"}]
    assert r.seen_by_grafana(t2l["query"]) == 'traceId:="${__span.traceId}"'
    # Every `$` Grafana must see literally is doubled: nothing left for its environment expansion.
    for value in (t2l["query"], fields[0]["url"]):
        assert "$" not in value.replace("$$", ""), value
    # The plugin the VictoriaLogs data source needs, from its GitHub release.
    version = DEFAULTS["grafana_victorialogs_plugin_version"]
    base = f"https://github.com/VictoriaMetrics/victorialogs-datasource/releases/download/v{version}"
    assert r.derived["plugins"] == [{"id": "victoriametrics-logs-datasource", "version": version,
                                     "url": f"{base}/victoriametrics-logs-datasource-v{version}.zip",
                                     "checksum_url": f"{base}/victoriametrics-logs-datasource-v{version}_checksums_zip.txt",
                                     "algorithm": "sha1", "top": "victoriametrics-logs-datasource"}]


def test_loki_store_linked_both_ways(tmp_path):
    r = render(tmp_path, hosts=LOKI_STORE)
    ds = r.datasources
    assert list(ds) == ["prometheus", "alertmanager", "jaeger", "loki"], "Loki wins over VictoriaLogs, as for the log agent"
    assert ds["loki"]["type"] == "loki" and ds["loki"]["url"] == "http://10.0.0.5:3100"
    assert ds["loki"]["jsonData"]["derivedFields"][0]["matcherType"] == "label"
    assert r.seen_by_grafana(ds["loki"]["jsonData"]["derivedFields"][0]["url"]) == "${__value.raw}"
    t2l = ds["jaeger"]["jsonData"]["tracesToLogsV2"]
    assert t2l["datasourceUid"] == "loki" and t2l["customQuery"] is True
    assert t2l["tags"] == [{"key": "service.name", "value": "service_name"}]
    # traceId is structured metadata in Loki: a label filter, not a line filter.
    assert r.seen_by_grafana(t2l["query"]) == '{service_name=~".+"} | traceId="${__span.traceId}"'
    assert r.derived["plugins"] == [] and r.derived["log_store"] == "loki"


# The alert list panel's data source filter, ported from Grafana's frontend (grafana/grafana):
# - public/app/plugins/panel/alertlist/module.tsx: the "Datasource" option's picker stores the
#   picked data source's NAME (`return props.onChange(ds.name)`); null means no filter.
# - public/app/plugins/panel/alertlist/UnifiedAlertList.tsx, filterRules(): `if (options.datasource)`
#   keeps the rules whose `dataSourceName === options.datasource`, or, when the option is
#   GRAFANA_DATASOURCE_NAME ('-- Grafana --'), those of the Grafana rules source ('grafana').
# - public/app/features/alerting/unified/utils/datasource.ts: a rule's dataSourceName is its rules
#   source's name (getRulesSourceName: `rulesSource.name`); the rules sources are the data sources
#   of a supported type (SUPPORTED_EXTERNAL_RULE_SOURCE_TYPES: loki, prometheus,
#   grafana-amazonprometheus-datasource, grafana-azureprometheus-datasource) whose
#   `jsonData.manageAlerts !== false` (isDataSourceManagingAlerts), plus 'grafana'.
GRAFANA_DATASOURCE_NAME = "-- Grafana --"
GRAFANA_RULES_SOURCE_NAME = "grafana"
RULE_SOURCE_TYPES = ("loki", "prometheus", "grafana-amazonprometheus-datasource", "grafana-azureprometheus-datasource")


def rules_source_names(datasources: list) -> list:
    return [ds["name"] for ds in datasources
            if ds["type"] in RULE_SOURCE_TYPES and (ds.get("jsonData") or {}).get("manageAlerts") is not False] \
        + [GRAFANA_RULES_SOURCE_NAME]


def alert_list_selects(option, data_source_name: str) -> bool:
    """Whether an alert list whose options.datasource is ``option`` shows the rules of ``data_source_name``."""
    if not option:
        return True
    if option == GRAFANA_DATASOURCE_NAME:
        return data_source_name == GRAFANA_RULES_SOURCE_NAME
    return data_source_name == option


def test_the_ported_alert_list_rule_tells_names_from_uids():
    provisioned = [{"name": "Prometheus", "uid": "prometheus", "type": "prometheus"}]
    assert rules_source_names(provisioned) == ["Prometheus", "grafana"]
    assert alert_list_selects("Prometheus", "Prometheus") and alert_list_selects(None, "Prometheus")
    assert not alert_list_selects("prometheus", "Prometheus"), "a uid is not a name: nothing is selected"
    assert alert_list_selects(GRAFANA_DATASOURCE_NAME, "grafana") and not alert_list_selects(GRAFANA_DATASOURCE_NAME, "Prometheus")
    assert rules_source_names([dict(provisioned[0], jsonData={"manageAlerts": False})]) == ["grafana"]


@pytest.mark.parametrize("hosts", [VICTORIALOGS_STORE, LOKI_STORE], ids=["victorialogs", "loki"])
def test_every_alert_list_panel_selects_the_provisioned_prometheus(tmp_path, hosts):
    """Each alert list panel of files/dashboards, filtered as Grafana filters it, shows the rules of the
    Prometheus data source the role provisions (the datasource-managed rules: Watchdog and the ILP alerts)."""
    ds = render(tmp_path, hosts=hosts).datasources
    prometheus = ds["prometheus"]
    sources = rules_source_names(list(ds.values()))
    assert prometheus["name"] in sources
    alert_lists = []
    for path in sorted((TOP / "files" / "dashboards").glob("*.json")):
        stack = list(json.loads(path.read_text())["panels"])
        while stack:
            panel = stack.pop(0)
            stack.extend(panel.get("panels") or [])
            if panel.get("type") == "alertlist":
                alert_lists.append((path.name, panel["title"], panel["options"].get("datasource")))
    assert len(alert_lists) == 4, alert_lists
    for name, title, option in alert_lists:
        selected = [source for source in sources if alert_list_selects(option, source)]
        assert prometheus["name"] in selected, (name, title, option, sources)


def test_tls_basic_auth_and_addresses_follow_the_components_roles(tmp_path):
    r = render(tmp_path, {"grafana_datasources_ca_cert": TLS_CERT}, SECURED)
    ds = r.datasources
    prom = ds["prometheus"]
    # Its listen address (not a wildcard), https (its TLS), the path of its external URL (route prefix).
    assert prom["url"] == "https://10.0.1.5:9091/prom"
    assert prom["basicAuth"] is True and prom["basicAuthUser"] == "grafana"
    assert prom["secureJsonData"] == {"basicAuthPassword": "$ILP_DS_PROMETHEUS_BASIC_AUTH_PASSWORD", "tlsCACert": TLS_CERT}
    assert prom["jsonData"]["tlsAuthWithCACert"] is True and prom["jsonData"]["timeInterval"] == "30s"
    assert "tlsSkipVerify" not in prom["jsonData"]
    am = ds["alertmanager"]
    assert am["url"] == "http://10.0.0.5:9093" and am["basicAuthUser"] == "ops"
    assert am["secureJsonData"] == {"basicAuthPassword": "$ILP_DS_ALERTMANAGER_BASIC_AUTH_PASSWORD"}, "no CA on plain HTTP"
    assert ds["jaeger"]["url"] == "https://10.0.0.5:16687" and ds["jaeger"]["jsonData"]["tlsAuthWithCACert"] is True
    assert ds["loki"]["url"] == "http://10.0.0.5:3101"


def test_only_what_the_inventory_has(tmp_path):
    r = render(tmp_path, hosts=inventory(prometheus={"mon-1": {}}, grafana={"mon-1": {}}))
    assert list(r.datasources) == ["prometheus"]
    assert r.datasources["prometheus"]["url"] == "http://mon-1:9090", "no ansible_host: the inventory name"
    assert "exemplarTraceIdDestinations" not in r.datasources["prometheus"]["jsonData"], "no Jaeger, no link to it"
    assert r.derived["plugins"] == [] and r.derived["log_store"] == ""
    assert r.secret_content("/secrets/datasources.env").strip().startswith("#")


def test_extra_data_sources_and_overrides(tmp_path):
    extra = [{"name": "Postgres", "uid": "pg", "type": "grafana-postgresql-datasource", "url": "db:5432",
              "secureJsonData": {"password": "$PG_PASSWORD"}}]
    r = render(tmp_path, {"grafana_datasources_extra": extra, "grafana_exemplar_trace_id_label": "traceID",
                          "grafana_datasource_overrides": {"prometheus": {"url": "https://prom.example.net",
                                                                          "jsonData": {"httpMethod": "GET"}}}})
    ds = r.datasources
    assert ds["pg"] == extra[0], "passed through as is: `$` not doubled"
    assert ds["prometheus"]["url"] == "https://prom.example.net"
    assert ds["prometheus"]["jsonData"]["httpMethod"] == "GET" and ds["prometheus"]["jsonData"]["prometheusType"] == "Prometheus"
    assert ds["prometheus"]["jsonData"]["exemplarTraceIdDestinations"][0]["name"] == "traceID"


def test_own_plugin_list_wins_over_the_added_one(tmp_path):
    plugin = {"id": "victoriametrics-logs-datasource", "version": "0.40.0", "url": "file:///srv/vl.zip", "sha256": DIGEST}
    r = render(tmp_path, {"grafana_plugins": [plugin]})
    assert r.derived["plugins"] == [plugin]


# --- dashboards ------------------------------------------------------------------------------------

def test_dashboards_are_provisioned_from_the_collection_folder(tmp_path):
    src = tmp_path / "dashboards"
    src.mkdir()
    for name in ("b-stack.json", "a-connectors.json"):
        (src / name).write_text("{}")
    (src / "notes.txt").write_text("not a dashboard")
    r = render(tmp_path / "r", {"grafana_dashboards_src": str(src)})
    assert r.derived["dashboard_files"] == [str(src / "a-connectors.json"), str(src / "b-stack.json")]
    provider = yaml.safe_load(r.dashboards_text)
    assert provider == {"apiVersion": 1, "providers": [{
        "name": "ilp", "orgId": 1, "type": "file", "folder": "ILP", "folderUid": "ilp", "disableDeletion": True,
        "allowUiUpdates": False, "updateIntervalSeconds": 30,
        "options": {"path": "/etc/grafana/dashboards", "foldersFromFilesStructure": False}}]}
    # By default, the collection's own dashboards (files/dashboards), on the data source uid the role provisions.
    shipped = render(tmp_path / "shipped", {"role_path": str(ROLE), "grafana_dashboards_src": "{{ role_path }}/../../files/dashboards"})
    assert [Path(f).name for f in shipped.derived["dashboard_files"]] == sorted(p.name for p in (TOP / "files/dashboards").glob("*.json"))
    for path in shipped.derived["dashboard_files"]:
        text = Path(path).read_text()
        assert '"uid": "prometheus"' in text or '"uid":"prometheus"' in text, path
    # The api method leaves dashboards to the grafana_dashboard module; a missing folder provisions nothing.
    assert render(tmp_path / "api", {"grafana_dashboards_src": str(src), "grafana_dashboards_method": "api"}).derived["dashboard_files"] == []
    assert render(tmp_path / "none").derived["dashboard_files"] == []


# --- release ------------------------------------------------------------------------------------
# The archive's URL, checksum file and digest are the lifecycle's, from the upstream facts:
# tests/tools/test_upstream_facts.py and tests/roles/test_upstream_downloads.py.

def test_the_victorialogs_plugin_comes_from_the_upstream_facts(tmp_path):
    plugin = next(p for p in render(tmp_path).derived["plugins"] if p["id"] == "victoriametrics-logs-datasource")
    v = DEFAULTS["grafana_victorialogs_plugin_version"]
    folder = f"https://github.com/VictoriaMetrics/victorialogs-datasource/releases/download/v{v}"
    assert plugin == {"id": "victoriametrics-logs-datasource", "version": v,
                      "url": f"{folder}/victoriametrics-logs-datasource-v{v}.zip",
                      "checksum_url": f"{folder}/victoriametrics-logs-datasource-v{v}_checksums_zip.txt",
                      "algorithm": "sha1", "top": "victoriametrics-logs-datasource"}
    mirrored = render(tmp_path / "mirror", {"ilp_observability_release_mirror": "file:///srv/releases"}).derived["plugins"]
    assert mirrored[0]["url"].startswith("file:///srv/releases/VictoriaMetrics/victorialogs-datasource/releases/download/")


# --- unit ------------------------------------------------------------------------------------------

def test_unit_runs_grafana_server_hardened(tmp_path):
    r = render(tmp_path)
    assert r.derived["exec_start"] == [
        "/usr/local/bin/grafana", "server", "--homepath=/opt/ilp-observability/grafana/current",
        "--config=/etc/grafana/grafana.ini", "cfg:default.paths.data=/var/lib/grafana",
        "cfg:default.paths.logs=/var/lib/grafana/log", "cfg:default.paths.plugins=/var/lib/grafana/plugins",
        "cfg:default.paths.provisioning=/etc/grafana/provisioning"]
    assert "grafana-server" not in r.unit and "User=grafana" in r.unit
    assert "ReadWritePaths=/var/lib/grafana /var/lib/grafana/log" in r.unit
    for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectProc=invisible", "CapabilityBoundingSet=",
                    "MemoryDenyWriteExecute=yes", "SystemCallFilter=@system-service"):
        assert f"\n{setting}\n" in r.unit, setting
    # The data folder (owned by grafana, the user's home) first; the plugin folder is not writable by Grafana.
    dirs = r.derived["directories"]
    assert dirs[0] == {"path": "/var/lib/grafana", "owner": "grafana", "mode": "0750", "writable": True}
    assert {"path": "/var/lib/grafana/plugins", "mode": "0750"} in dirs
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    proc = subprocess.run([analyze, "security", "--offline=true", "--no-pager", str(r.out / "grafana.service")],
                          capture_output=True, text=True, timeout=60, check=False)
    line = [ln for ln in proc.stdout.splitlines() if "Overall exposure level" in ln]
    assert line, proc.stdout + proc.stderr
    assert float(line[0].split(":")[1].split()[0]) <= 2.0, line[0]


# --- Grafana itself, when a release archive is given ------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, user: str = "", password: str = "", method: str = "GET", timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    if user:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310 - loopback test server
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def unpack_without_top_folder(archive: Path, home: Path) -> None:
    """Unpack a release archive, stripping its one top folder whatever its name (as the lifecycle does)."""
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) == 2 and parts[1]:
                member.name = parts[1]
                members.append(member)
        tar.extractall(home, members=members, filter="tar")


@pytest.fixture(scope="module")
def grafana_home(tmp_path_factory) -> Path:
    archive = os.environ.get("ILP_GRAFANA_ARCHIVE", "")
    if not archive:
        pytest.skip(SKIP_LIVE)
    home = tmp_path_factory.mktemp("grafana-home")
    unpack_without_top_folder(Path(archive), home)
    assert (home / "bin" / "grafana").exists(), "no bin/grafana under the archive's top folder"
    return home


def test_grafana_runs_the_rendered_files(tmp_path, grafana_home):
    port = free_port()
    etc, data = tmp_path / "etc", tmp_path / "data"
    r = render(tmp_path / "render", {
        "grafana_config_dir": str(etc), "grafana_data_dir": str(data), "grafana_plugins_dir": str(data / "plugins"),
        "grafana_listen_address": "127.0.0.1", "grafana_listen_port": port,
        "grafana__home": str(grafana_home), "grafana__binary": str(grafana_home / "bin" / "grafana")}, SECURED)
    for folder in [d["path"] for d in r.derived["directories"]]:
        Path(folder).mkdir(parents=True, exist_ok=True)
    (etc / "grafana.ini").write_text(r.ini_text)
    (etc / "provisioning" / "datasources" / "ilp.yml").write_text(r.datasources_text)
    Path(r.derived["admin_password_file"]).write_text(ADMIN_PASSWORD)
    env = dict(os.environ)
    for line in r.secret_content("/secrets/datasources.env").splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = json.loads(value.replace("\\$", "$").replace("\\`", "`"))
    server = subprocess.Popen(r.derived["exec_start"], env=env, cwd=grafana_home,  # pylint: disable=consider-using-with
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        status = 0
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = call(f"{base}/api/health", timeout=2)[0]
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(1)
        assert status == 200, "Grafana did not become ready"
        assert call(f"{base}/api/user")[0] == 401, "no anonymous access"
        assert call(f"{base}/api/user", "admin", ADMIN_PASSWORD)[0] == 200, "the admin password of the first start"
        status, body = call(f"{base}/api/datasources/uid/prometheus", "admin", ADMIN_PASSWORD)
        prom = json.loads(body)
        assert status == 200 and prom["url"] == "https://10.0.1.5:9091/prom" and prom["isDefault"] is True
        assert prom["jsonData"]["exemplarTraceIdDestinations"] == [{"name": "trace_id", "datasourceUid": "jaeger"}]
        assert prom["secureJsonFields"].get("basicAuthPassword") is True
        status, body = call(f"{base}/api/datasources/uid/jaeger", "admin", ADMIN_PASSWORD)
        assert json.loads(body)["jsonData"]["tracesToLogsV2"]["query"] == '{service_name=~".+"} | traceId="${__span.traceId}"'
        status, body = call(f"{base}/api/datasources/uid/loki", "admin", ADMIN_PASSWORD)
        assert json.loads(body)["jsonData"]["derivedFields"][0]["url"] == "${__value.raw}"
        assert b"grafana_" in call(f"{base}/metrics")[1]
        # A data source added to the file appears through the admin API's reload, without a restart.
        added = dict(r.datasources_file, datasources=r.datasources_file["datasources"] + [
            {"name": "Extra", "uid": "extra", "type": "prometheus", "access": "proxy", "url": "http://127.0.0.1:1"}])
        (etc / "provisioning" / "datasources" / "ilp.yml").write_text(yaml.safe_dump(added))
        assert call(f"{base}/api/admin/provisioning/datasources/reload", "admin", ADMIN_PASSWORD, "POST")[0] == 200
        assert call(f"{base}/api/datasources/uid/extra", "admin", ADMIN_PASSWORD)[0] == 200
        # The role's password reset: grafana cli with the password on stdin (runuser left out here).
        argv = r.derived["reset_password_argv"][4:]
        proc = subprocess.run(argv, input="n3w-S3cret\n", capture_output=True, text=True, timeout=120, check=False,
                              cwd=grafana_home)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert call(f"{base}/api/user", "admin", "n3w-S3cret")[0] == 200
        assert call(f"{base}/api/user", "admin", ADMIN_PASSWORD)[0] == 401
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
        print(output[-5000:])
