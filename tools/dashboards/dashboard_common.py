"""Shared pieces of the dashboard generators: the role defaults the dashboards are derived from,
thresholds, the Prometheus datasource, variables, links and small panel helpers on top of
grafana-foundation-sdk's builders.

Nothing here knows a particular dashboard; connector_overview.py, connector_health.py,
settlement_activity.py and stack_health.py compose these helpers.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import gauge as gauge_panel
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders import stat as stat_panel
from grafana_foundation_sdk.builders import table as table_panel
from grafana_foundation_sdk.builders import timeseries as timeseries_panel
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

TOP = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = TOP / "files" / "dashboards"
PROMETHEUS_DEFAULTS = TOP / "roles" / "prometheus" / "defaults" / "main" / "rules.yml"
CONNECTOR_DEFAULTS = TOP / "roles" / "connector" / "defaults" / "main.yml"
RULE_TEMPLATES = TOP / "roles" / "prometheus" / "templates" / "rules"
RUNBOOK_DIR = TOP / "docs" / "runbooks"

# The Prometheus datasource every panel, target and variable uses. The grafana role provisions
# a Prometheus datasource with exactly this uid (and this type); no datasource variable.
DATASOURCE_UID = "prometheus"
DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
# The NAME the grafana role provisions that datasource under (roles/grafana/vars/main.yml,
# grafana__ds_base.prometheus.name). The alert list panel filters by name, not uid: its editor
# stores the picked datasource's name (grafana/grafana public/app/plugins/panel/alertlist/module.tsx,
# `props.onChange(ds.name)`) and UnifiedAlertList.tsx's filterRules keeps the rules whose
# `dataSourceName === options.datasource`, the rules source's name (utils/datasource.ts,
# getRulesSourceName). A uid there matches no rule and the panel stays empty.
DATASOURCE_NAME = "Prometheus"

# Every dashboard: these tags first, the last hour, refreshed every 30 seconds.
BASE_TAG = "ilp"
TIME_FROM = "now-1h"
REFRESH = "30s"

# Colours of the threshold steps.
GREEN, YELLOW, RED = "green", "yellow", "red"

# A value is "yellow" once 80% of the way to the alert threshold (for ratios with an SLA target:
# once 80% of the error budget 1 - target is used); "red" where the alert's condition holds.
WARN_FRACTION = 0.8

# The four dashboards: file name (files/dashboards/<name>.json), uid and title.
DASHBOARDS = {
    "connector-overview": ("ilp-connector-overview", "ILP / Connector overview"),
    "connector-health": ("ilp-connector-health", "ILP / Connector health"),
    "settlement-activity": ("ilp-settlement-activity", "ILP / Settlement activity"),
    "stack-health": ("ilp-stack-health", "ILP / Stack health"),
}


def catalog_job_regex() -> dict:
    """Kind -> job regex, as the prometheus role gives its rule files (vars/main.yml,
    prometheus__job_regex): the filter ilp.observability.scrape_job_regex on the shipped catalog."""
    spec = importlib.util.spec_from_file_location("ilp_scrape_targets", TOP / "plugins" / "filter" / "scrape_targets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scrape_job_regex(_plain_defaults(SCRAPE_DEFAULTS)["prometheus__scrape_catalog"])


@dataclass(frozen=True)
class Settings:
    """The role defaults the dashboards depend on (roles/prometheus/defaults/main/rules.yml) and the
    scrape catalog's job names as the rules select them."""

    defaults: dict
    runbooks: dict  # alert name -> runbook file name (connector.md, stack.md, logs.md)
    jobs: dict = field(default_factory=lambda: catalog_job_regex())

    def __getitem__(self, key):
        return self.defaults[key]

    # Scrape job selectors, the same regular expressions the alert rules use (by kind: role, or job
    # name for an external job).
    @property
    def connector_job(self) -> str:
        return self.jobs["connector"]

    @property
    def connector_probe_job(self) -> str:
        return self.jobs["connector_probe"]

    @property
    def probe_job(self) -> str:
        return self.jobs["probe"]

    @property
    def tigerbeetle_job(self) -> str:
        return self.jobs["tigerbeetle"]

    @property
    def node_job(self) -> str:
        return self.jobs["node_exporter"]

    @property
    def prometheus_job(self) -> str:
        return self.jobs["prometheus"]

    @property
    def alertmanager_job(self) -> str:
        return self.jobs["alertmanager"]

    @property
    def jaeger_job(self) -> str:
        return self.jobs["jaeger"]

    @property
    def log_agent_job(self) -> str:
        return self.jobs["otel_collector"]

    @property
    def log_store_job(self) -> str:
        return f"{self.jobs['victorialogs']}|{self.jobs['loki']}"

    @property
    def runbook_base_url(self) -> str:
        return self.defaults["prometheus_runbook_base_url"]


def _plain_defaults(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def alert_runbooks(template_dir: Path = RULE_TEMPLATES) -> dict:
    """Alert name -> runbook file, read from the runbook_url annotations of the rule templates."""
    found = {}
    pattern = re.compile(
        r"-\s+alert:\s+(\w+)\s*\n.*?runbook_url:\s*\"\[\[\s*prometheus_runbook_base_url\s*\]\]/([\w.-]+\.md)#(\w+)\"",
        re.S)
    for template in sorted(template_dir.glob("*.rules.yml.j2")):
        text = template.read_text(encoding="utf-8")
        for block in re.split(r"(?=\n\s+- alert:)", text):
            match = pattern.search(block)
            if match:
                name, file_name, anchor = match.groups()
                if anchor != name.lower():
                    raise ValueError(f"{template.name}: runbook anchor {anchor} of {name} is not its lower-case name")
                found[name] = file_name
    return found


def load_settings() -> Settings:
    return Settings(defaults=_plain_defaults(PROMETHEUS_DEFAULTS), runbooks=alert_runbooks())


def connector_sla_defaults() -> dict:
    """The connector role's own SLA settings (native connectors' /health), for consistency checks."""
    defaults = _plain_defaults(CONNECTOR_DEFAULTS)
    return {key: value for key, value in defaults.items() if key.startswith("connector_sla_")}


# --- thresholds ------------------------------------------------------------------------------

def steps(*pairs) -> db.ThresholdsConfig:
    return (db.ThresholdsConfig()
            .mode(dm.ThresholdsMode.ABSOLUTE)
            .steps([dm.Threshold(value=value, color=color) for value, color in pairs]))


def _round(value: float) -> float:
    return float(f"{value:.10g}")


def at_most(limit: float) -> db.ThresholdsConfig:
    """Lower is better; red at the alert threshold, yellow from WARN_FRACTION of it."""
    return steps((None, GREEN), (_round(limit * WARN_FRACTION), YELLOW), (_round(limit), RED))


def at_least(limit: float) -> db.ThresholdsConfig:
    """Higher is better; red below the alert threshold, yellow up to limit / WARN_FRACTION.
    A limit of 0 (alert turned off) leaves the panel green."""
    if not limit:
        return steps((None, GREEN))
    return steps((None, RED), (_round(limit), YELLOW), (_round(limit / WARN_FRACTION), GREEN))


def ratio_at_least(target: float) -> db.ThresholdsConfig:
    """A success ratio with an SLA target: red below the target (the SLA alert's condition),
    yellow while more than WARN_FRACTION of the error budget (1 - target) is used, else green."""
    budget = 1 - target
    return steps((None, RED), (_round(target), YELLOW), (_round(1 - budget * WARN_FRACTION), GREEN))


def up_thresholds() -> db.ThresholdsConfig:
    return steps((None, RED), (1, GREEN))


def count_of_bad() -> db.ThresholdsConfig:
    """A count of bad things (targets down, failed settlements, disputes): any is red."""
    return steps((None, GREEN), (1, RED))


UP_MAPPINGS = [dm.ValueMap(options={
    "0": dm.ValueMappingResult(text="DOWN", color=RED, index=0),
    "1": dm.ValueMappingResult(text="UP", color=GREEN, index=1),
})]


# --- queries, variables, links -----------------------------------------------------------------

# Label matchers of the two variables, for every ilp:* series (and the connector job's targets).
SEL = 'environment=~"$environment", nodeId=~"$nodeId"'


def target(expr: str, legend: str | None = None, instant: bool = False, table: bool = False) -> prom.Dataquery:
    query = prom.Dataquery().expr(expr).datasource(DATASOURCE)
    if legend is not None:
        query = query.legend_format(legend)
    if instant:
        query = query.instant()
    else:
        query = query.range()
    if table:
        query = query.format(pm.PromQueryFormat.TABLE)
    return query


def variables(settings: Settings) -> list:
    """environment and nodeId (label values of the ilp:* series, multi, All = .*), and the
    hidden constant runbook_base_url the runbook links start with."""
    all_option = dm.VariableOption(selected=True, text=["All"], value=["$__all"])
    environment = (db.QueryVariable("environment")
                   .label("Environment")
                   .datasource(DATASOURCE)
                   .query('label_values({__name__=~"ilp:.+"}, environment)')
                   .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
                   .sort(dm.VariableSort.ALPHABETICAL_ASC)
                   .multi(True)
                   .include_all(True)
                   .all_value(".*")
                   .current(all_option))
    node = (db.QueryVariable("nodeId")
            .label("Connector")
            .datasource(DATASOURCE)
            .query('label_values({__name__=~"ilp:.+", environment=~"$environment"}, nodeId)')
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dm.VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .current(all_option))
    runbook = (db.ConstantVariable("runbook_base_url")
               .label("Runbooks")
               .description("Where docs/runbooks is published (prometheus_runbook_base_url); "
                            "the runbook links of the panels start with it.")
               .value(settings.runbook_base_url))
    return [environment, node, runbook]


def dashboard_links(own: str) -> list:
    """One link to each of the other ILP dashboards, keeping the time range and the variables."""
    links = []
    for name, (uid, title) in DASHBOARDS.items():
        if name == own:
            continue
        links.append(db.DashboardLink(title.split(" / ", 1)[-1])
                     .type(dm.DashboardLinkType.LINK)
                     .url(f"/d/{uid}")
                     .icon("dashboard")
                     .tooltip(title)
                     .include_vars(True)
                     .keep_time(True)
                     .target_blank(False))
    links.append(db.DashboardLink("Runbooks")
                 .type(dm.DashboardLinkType.LINK)
                 .url("${runbook_base_url}/README.md")
                 .icon("doc")
                 .tooltip("Runbooks of every alert of the collection")
                 .target_blank(True))
    return links


def runbook_links(settings: Settings, alerts) -> list:
    """Panel links to the runbook section of each alert (docs/runbooks/<file>.md#<alert>)."""
    links = []
    for alert in alerts:
        file_name = settings.runbooks.get(alert)
        if file_name is None:
            raise KeyError(f"no runbook_url for alert {alert} in {RULE_TEMPLATES}")
        links.append(db.DashboardLink(f"Runbook: {alert}")
                     .type(dm.DashboardLinkType.LINK)
                     .url(f"${{runbook_base_url}}/{file_name}#{alert.lower()}")
                     .target_blank(True))
    return links


def runbook_file_links(files) -> list:
    return [db.DashboardLink(f"Runbooks: {name}")
            .type(dm.DashboardLinkType.LINK)
            .url(f"${{runbook_base_url}}/{name}")
            .target_blank(True) for name in files]


# --- panels ----------------------------------------------------------------------------------

def _finish(builder, settings: Settings, title: str, description: str, targets, unit, thresholds,
            alerts, width, height, extra_links=()):
    builder = builder.title(title).description(description).datasource(DATASOURCE).span(width).height(height)
    refs = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for index, query in enumerate(targets):
        builder = builder.with_target(query.ref_id(refs[index]))
    if unit:
        builder = builder.unit(unit)
    if thresholds is not None:
        builder = builder.thresholds(thresholds)
    links = runbook_links(settings, alerts) + list(extra_links)
    if links:
        builder = builder.links(links)
    return builder


def stat(settings, title, description, targets, unit=None, thresholds=None, alerts=(), width=6, height=4,
         mappings=None, color_mode=cm.BigValueColorMode.BACKGROUND, graph=True, decimals=None, text_mode=None,
         extra_links=()):
    builder = (stat_panel.Panel()
               .color_mode(color_mode)
               .graph_mode(cm.BigValueGraphMode.AREA if graph else cm.BigValueGraphMode.NONE)
               .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    if mappings:
        builder = builder.mappings(mappings)
    if decimals is not None:
        builder = builder.decimals(decimals)
    if text_mode is not None:
        builder = builder.text_mode(text_mode)
    return _finish(builder, settings, title, description, targets, unit, thresholds, alerts, width, height,
                   extra_links)


def gauge(settings, title, description, targets, unit=None, thresholds=None, alerts=(), width=6, height=6,
          minimum=None, maximum=None):
    builder = (gauge_panel.Panel()
               .show_threshold_markers(True)
               .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    if minimum is not None:
        builder = builder.min(minimum)
    if maximum is not None:
        builder = builder.max(maximum)
    return _finish(builder, settings, title, description, targets, unit, thresholds, alerts, width, height)


def timeseries(settings, title, description, targets, unit=None, thresholds=None, alerts=(), width=12, height=8,
               threshold_style=cm.GraphThresholdsStyleMode.OFF, minimum=None, maximum=None, stack=False,
               extra_links=()):
    builder = (timeseries_panel.Panel()
               .line_width(1)
               .fill_opacity(10)
               .show_points(cm.VisibilityMode.NEVER)
               .span_nulls(False)
               .legend(common_builders.VizLegendOptions()
                       .display_mode(cm.LegendDisplayMode.TABLE)
                       .placement(cm.LegendPlacement.BOTTOM)
                       .show_legend(True)
                       .calcs(["lastNotNull", "max"]))
               .tooltip(common_builders.VizTooltipOptions()
                        .mode(cm.TooltipDisplayMode.MULTI)
                        .sort(cm.SortOrder.DESCENDING))
               .thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(threshold_style)))
    if stack:
        builder = builder.stacking(common_builders.StackingConfig().mode(cm.StackingMode.NORMAL))
    if minimum is not None:
        builder = builder.min(minimum)
    if maximum is not None:
        builder = builder.max(maximum)
    return _finish(builder, settings, title, description, targets, unit, thresholds, alerts, width, height,
                   extra_links)


def table(settings, title, description, targets, alerts=(), width=24, height=8, transformations=(), overrides=(),
          thresholds=None, unit=None):
    builder = table_panel.Panel().show_header(True).cell_height(cm.TableCellHeight.SM)
    for transformation in transformations:
        builder = builder.with_transformation(transformation)
    for name, properties in overrides:
        builder = builder.override_by_name(name, properties)
    return _finish(builder, settings, title, description, targets, unit, thresholds, alerts, width, height)


def alert_list(settings, title, description, label_filter, runbook_files, alerts=(), width=24, height=8):
    """Alerts of the Prometheus datasource (datasource-managed rules), with links to the runbooks."""
    options = {
        "alertInstanceLabelFilter": label_filter,
        "alertName": "",
        "dashboardAlerts": False,
        "datasource": DATASOURCE_NAME,
        "groupBy": [],
        "groupMode": "default",
        "maxItems": 50,
        "showInactiveAlerts": False,
        "showInstances": True,
        "sortOrder": 3,
        "stateFilter": {"error": True, "firing": True, "noData": False, "normal": False, "pending": True,
                        "recovering": True},
        "viewMode": "list",
    }
    links = runbook_file_links(["README.md"] + list(runbook_files)) + runbook_links(settings, alerts)
    return (db.Panel().type("alertlist").title(title).description(description)
            .options(options).span(width).height(height).links(links))


def row(title: str) -> db.Row:
    return db.Row(title).collapsed(False)


def new_dashboard(settings: Settings, name: str, description: str, tags) -> db.Dashboard:
    uid, title = DASHBOARDS[name]
    builder = (db.Dashboard(title)
               .uid(uid)
               .description(description)
               .tags([BASE_TAG] + list(tags))
               .time(TIME_FROM, "now")
               .refresh(REFRESH)
               .timezone("browser")
               .tooltip(dm.DashboardCursorSync.CROSSHAIR)
               .editable()
               .links(dashboard_links(name))
               .variables(variables(settings)))
    return builder


def finalize(dashboard: dm.Dashboard) -> dm.Dashboard:
    """Number the panels (rows included) in layout order, so the ids are stable."""
    for index, panel in enumerate(dashboard.panels or [], start=1):
        panel.id_val = index
    return dashboard


SCRAPE_DEFAULTS = TOP / "roles" / "prometheus" / "defaults" / "main" / "scrape.yml"
# Scrape jobs the dashboards select that the collection's scrape catalog does not have yet (the
# probe jobs blackbox_<module> are the catalog's too: its entries' probes, selected through
# Settings.probe_job).
FUTURE_JOBS: tuple = ()


def catalog_jobs() -> list:
    """Job names of the prometheus role's scrape catalog (defaults/main/scrape.yml)."""
    catalog = _plain_defaults(SCRAPE_DEFAULTS).get("prometheus__scrape_catalog") or []
    return [entry["job"] for entry in catalog]


def catalog_probe_jobs() -> list:
    """The probe jobs the scrape catalog's probes make (blackbox_<module>, one per module)."""
    catalog = _plain_defaults(SCRAPE_DEFAULTS).get("prometheus__scrape_catalog") or []
    modules = []
    for entry in catalog:
        for probe in entry.get("probes") or []:
            if probe["module"] not in modules:
                modules.append(probe["module"])
    return [f"blackbox_{module}" for module in modules]


def job(name: str) -> str:
    """A job label the stack dashboard selects: must be a catalog job (or a FUTURE_JOBS one)."""
    if name not in catalog_jobs() and name not in FUTURE_JOBS:
        raise KeyError(f"job {name} is neither in {SCRAPE_DEFAULTS} nor in FUTURE_JOBS")
    return name


def zero_where_missing(expr: str, on: str, anchor: str, label: str | None = None, value: str = "none") -> str:
    """expr, or 0 for the `on` label sets that anchor has and expr has not (a counter of events
    that never happened has no series: the panel shows 0 instead of "No data"). With label, the
    zero series carries label=value for the legend."""
    zero = f"{anchor} * 0"
    if label:
        zero = f'label_replace({zero}, "{label}", "{value}", "", "")'
    return f"{expr}\nor on ({on})\n{zero}"


# --- field overrides (tables) ------------------------------------------------------------------

def override(key: str, value) -> dm.DynamicConfigValue:
    return dm.DynamicConfigValue(id_val=key, value=value)


def colored_cell() -> dm.DynamicConfigValue:
    return override("custom.cellOptions", {"type": "color-background", "mode": "basic"})


def thresholds_override(builder: db.ThresholdsConfig) -> dm.DynamicConfigValue:
    return override("thresholds", builder.build())


def health_link(field_name: str = "nodeId") -> dict:
    """Data link of a table cell to the connector health dashboard of that row's connector."""
    uid = DASHBOARDS["connector-health"][0]
    return {
        "title": "Connector health of ${__data.fields.%s}" % field_name,
        "url": f"/d/{uid}?var-nodeId=${{__data.fields.{field_name}}}"
               "&var-environment=${__data.fields.environment}&${__url_time_range}",
    }
