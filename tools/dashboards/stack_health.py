"""ILP / Stack health: every component of the monitoring stack this collection deploys.

Job labels are the scrape catalog's (roles/prometheus/defaults/main/scrape.yml) as the alert
rules select them (by role, through the filter ilp.observability.scrape_job_regex); the probe
jobs (blackbox_<module>, from the catalog's probes) through its "probe" pattern.
"""
from __future__ import annotations

from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboard_common import (
    GREEN, RED, UP_MAPPINGS, YELLOW, alert_list, at_least, at_most, catalog_jobs, count_of_bad, finalize, job,
    new_dashboard, row, Settings, stat, steps, target, timeseries, up_thresholds, zero_where_missing
)

NAME = "stack-health"

# TLS certificates of probed endpoints: yellow below this many days left (red below the
# TLSCertificateExpiringSoon threshold, prometheus_alert_tls_expiry_days).
CERT_EXPIRY_YELLOW_DAYS = 30

READY_MAPPINGS = [dm.ValueMap(options={
    "0": dm.ValueMappingResult(text="NOT READY", color=RED, index=0),
    "1": dm.ValueMappingResult(text="READY", color=GREEN, index=1),
})]
RELOAD_MAPPINGS = [dm.ValueMap(options={
    "0": dm.ValueMappingResult(text="FAILED", color=RED, index=0),
    "1": dm.ValueMappingResult(text="OK", color=GREEN, index=1),
})]
PROBE_MAPPINGS = [dm.ValueMap(options={
    "0": dm.ValueMappingResult(text="FAIL", color=RED, index=0),
    "1": dm.ValueMappingResult(text="OK", color=GREEN, index=1),
})]


def build(settings: Settings) -> dm.Dashboard:
    prometheus = settings.prometheus_job
    alertmanager = settings.alertmanager_job
    node = settings.node_job
    jaeger = settings.jaeger_job
    agent = settings.log_agent_job
    stores = settings.log_store_job
    victorialogs, loki, grafana, blackbox = job("victorialogs"), job("loki"), job("grafana"), job("blackbox")
    probes = settings.probe_job
    stack_alerts = sorted(name for name, file_name in settings.runbooks.items() if file_name in ("stack.md", "logs.md"))
    jobs = "|".join(sorted(set(catalog_jobs()) | {blackbox}))

    dash = new_dashboard(
        settings, NAME,
        "Every component of the monitoring stack: scrape targets, Prometheus, Alertmanager, node_exporter, "
        "Jaeger, the log agents (OpenTelemetry Collector) and log stores (VictoriaLogs, Loki), Grafana and "
        "blackbox probes. Environment and Connector only narrow the connector links.",
        ["stack"])

    rate = "[$__rate_interval]"

    dash = dash.with_row(row("Scrape targets"))
    dash = dash.with_panel(stat(
        settings, "Targets up by job",
        "Share of each job's targets Prometheus scrapes successfully (1 = all up). Connectors, TigerBeetle, "
        "Jaeger, log agents and log stores have their own alerts; TargetDown covers the rest.",
        [target(f'sum by (job) (up{{job=~"{jobs}"}}) / count by (job) (up{{job=~"{jobs}"}})', "{{job}}")],
        unit="percentunit", thresholds=steps((None, RED), (0.01, YELLOW), (1, GREEN)),
        alerts=["TargetDown", "ConnectorDown", "TigerBeetleUnavailable", "JaegerDown", "LogAgentDown",
                "LogStoreDown"],
        width=24, graph=False))
    dash = dash.with_panel(timeseries(
        settings, "Scrape failures by job",
        "Targets of each job Prometheus fails to scrape (1 - up), every job Prometheus scrapes. 0 when all "
        "are up.",
        [target("sum by (job) (1 - up)", "{{job}}")],
        unit="short", thresholds=count_of_bad(), alerts=["TargetDown"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    dash = dash.with_panel(timeseries(
        settings, "Scrape duration by job",
        "The slowest scrape of each job (scrape_duration_seconds); close to the scrape timeout means "
        "scrapes about to fail.",
        [target("max by (job) (scrape_duration_seconds)", "{{job}}")], unit="s", minimum=0))

    dash = dash.with_row(row("Prometheus and Alertmanager"))
    dash = dash.with_panel(stat(
        settings, "Prometheus ready",
        "Whether each Prometheus finished starting up and serves queries (prometheus_ready).",
        [target(f'prometheus_ready{{job=~"{prometheus}"}}', "{{instance}}")],
        thresholds=up_thresholds(), mappings=READY_MAPPINGS, alerts=["TargetDown"], width=6, graph=False))
    dash = dash.with_panel(stat(
        settings, "Alertmanager up",
        "Whether Prometheus scrapes each Alertmanager.",
        [target(f'up{{job=~"{alertmanager}"}}', "{{instance}}")],
        thresholds=up_thresholds(), mappings=UP_MAPPINGS, alerts=["TargetDown"], width=6, graph=False))
    dash = dash.with_panel(stat(
        settings, "Configuration reloads",
        "Whether the last configuration reload of each Prometheus and Alertmanager succeeded.",
        [target(f'prometheus_config_last_reload_successful{{job=~"{prometheus}"}}', "prometheus {{instance}}"),
         target(f'alertmanager_config_last_reload_successful{{job=~"{alertmanager}"}}', "alertmanager {{instance}}")],
        thresholds=up_thresholds(), mappings=RELOAD_MAPPINGS,
        alerts=["PrometheusConfigReloadFailed", "AlertmanagerConfigReloadFailed"], width=6, graph=False))
    dash = dash.with_panel(stat(
        settings, "Alertmanager cluster members",
        "Members each Alertmanager sees, and the Alertmanager targets there are (AlertmanagerClusterDegraded "
        "when clustering is on and a member is missing).",
        [target(f'alertmanager_cluster_members{{job=~"{alertmanager}"}}\n'
                f'and on (job, instance) alertmanager_cluster_enabled == 1', "{{instance}} sees"),
         target(f'count by (job) (up{{job=~"{alertmanager}"}})', "Alertmanager targets")],
        alerts=["AlertmanagerClusterDegraded"], width=6, graph=False, color_mode=cm.BigValueColorMode.NONE,
        decimals=0))
    dash = dash.with_panel(timeseries(
        settings, "Rule evaluation failures",
        "Failed rule evaluations per rule group (PrometheusRuleEvaluationFailures on any, held "
        f"{settings['prometheus_alert_prometheus_rule_evaluation_failures_for']}). 0 when healthy.",
        [target(f'sum by (instance, rule_group) (increase(prometheus_rule_evaluation_failures_total'
                f'{{job=~"{prometheus}"}}{rate}))', "{{instance}} {{rule_group}}")],
        unit="short", thresholds=count_of_bad(), alerts=["PrometheusRuleEvaluationFailures"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.LINE, width=8))
    failing = settings["prometheus_alert_prometheus_notifications_failing_threshold"]
    notify_errors = (f'sum by (instance, alertmanager) (rate(prometheus_notifications_errors_total{{job=~"{prometheus}"}}'
                     f'{rate}))')
    notify_sent = (f'sum by (instance, alertmanager) (rate(prometheus_notifications_sent_total{{job=~"{prometheus}"}}'
                   f'{rate}))')
    dash = dash.with_panel(timeseries(
        settings, "Alerts Prometheus fails to send",
        "Share of the alerts each Prometheus sends to each Alertmanager that fail (0 while none are sent) "
        f"(PrometheusNotificationsFailing above {failing:.0%}).",
        [target(zero_where_missing(
            f"{notify_errors}\n/ ({notify_sent} > 0)", "instance, alertmanager", notify_errors),
            "{{instance}} to {{alertmanager}}")],
        unit="percentunit", thresholds=at_most(failing), alerts=["PrometheusNotificationsFailing"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.LINE, width=8))
    dash = dash.with_panel(timeseries(
        settings, "Alertmanager notifications by integration",
        "Notifications each integration (webhook, email, ...) delivers and fails to deliver after retries, per "
        "second (AlertmanagerNotificationsFailing on any failure).",
        [target(f'sum by (integration) (rate(alertmanager_notifications_total{{job=~"{alertmanager}"}}{rate}))',
                "{{integration}} sent"),
         target(f'sum by (integration) (rate(alertmanager_notifications_failed_total{{job=~"{alertmanager}"}}'
                f'{rate}))', "{{integration}} failed")],
        unit="short", alerts=["AlertmanagerNotificationsFailing"], minimum=0, width=8))
    free = settings["prometheus_alert_tsdb_disk_free_ratio"]
    dash = dash.with_panel(timeseries(
        settings, "Disk free on Prometheus hosts",
        "Free space of the real filesystems of the hosts running Prometheus (node_exporter; "
        f"PrometheusTSDBDiskFilling when the TSDB's is under {free:.0%} and filling).",
        [target(f'min by (instance, mountpoint) (node_filesystem_avail_bytes{{job=~"{node}", fstype!~"tmpfs|ramfs"}}\n'
                f'/ node_filesystem_size_bytes{{job=~"{node}", fstype!~"tmpfs|ramfs"}})\n'
                f'and on (instance) up{{job=~"{prometheus}"}}', "{{instance}} {{mountpoint}}")],
        unit="percentunit", thresholds=at_least(free), alerts=["PrometheusTSDBDiskFilling"], minimum=0, maximum=1,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    dash = dash.with_panel(timeseries(
        settings, "Prometheus head series",
        "Series in each Prometheus' head block: growth means more targets or a label explosion.",
        [target(f'prometheus_tsdb_head_series{{job=~"{prometheus}"}}', "{{instance}}")], unit="short", minimum=0))

    dash = dash.with_row(row("Traces"))
    dash = dash.with_panel(stat(
        settings, "Jaeger up",
        f"Whether Prometheus scrapes Jaeger's metrics (JaegerDown after {settings['prometheus_alert_jaeger_down_for']}).",
        [target(f'up{{job=~"{jaeger}"}}', "{{instance}}")],
        thresholds=up_thresholds(), mappings=UP_MAPPINGS, alerts=["JaegerDown"], width=6, height=8, graph=False))
    dash = dash.with_panel(timeseries(
        settings, "Spans received, refused and stored",
        "Spans Jaeger's OTLP receivers accept, refuse or fail, spans written to storage or failing to, and "
        "traces dropped from the tail sampling buffer before their decision (JaegerSpansRefused, "
        "JaegerSpansDropped).",
        [target(f'sum by (instance) (rate(otelcol_receiver_accepted_spans_total{{job=~"{jaeger}"}}{rate}))',
                "{{instance}} accepted"),
         target(f'sum by (instance) (rate(otelcol_receiver_refused_spans_total{{job=~"{jaeger}"}}{rate}))',
                "{{instance}} refused"),
         target(f'sum by (instance) (rate(otelcol_receiver_failed_spans_total{{job=~"{jaeger}"}}{rate}))',
                "{{instance}} failed"),
         target(f'sum by (instance) (rate(otelcol_exporter_sent_spans_total{{job=~"{jaeger}"}}{rate}))',
                "{{instance}} stored"),
         target(f'sum by (instance) (rate(otelcol_exporter_send_failed_spans_total{{job=~"{jaeger}"}}{rate}))',
                "{{instance}} store failed"),
         target(f'sum by (instance) (rate(otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total'
                f'{{job=~"{jaeger}"}}{rate}))', "{{instance}} traces dropped too early")],
        unit="short", alerts=["JaegerSpansRefused", "JaegerSpansDropped"], minimum=0, width=18))

    dash = dash.with_row(row("Logs"))
    dash = dash.with_panel(stat(
        settings, "Log agents up",
        "Whether Prometheus scrapes the log agent (OpenTelemetry Collector) of each host (LogAgentDown after "
        f"{settings['prometheus_alert_log_agent_down_for']}).",
        [target(f'up{{job=~"{agent}"}}', "{{instance}}")],
        thresholds=up_thresholds(), mappings=UP_MAPPINGS, alerts=["LogAgentDown"], width=12, graph=False))
    dash = dash.with_panel(stat(
        settings, "Log stores up",
        "Whether Prometheus scrapes each log store, VictoriaLogs or Loki (LogStoreDown after "
        f"{settings['prometheus_alert_log_store_down_for']}).",
        [target(f'up{{job=~"{stores}"}}', "{{job}} {{instance}}")],
        thresholds=up_thresholds(), mappings=UP_MAPPINGS, alerts=["LogStoreDown"], width=12, graph=False))
    dash = dash.with_panel(timeseries(
        settings, "Log records received, sent and failed",
        "Log records per second the agents' receivers accept and refuse, their exporters send, fail to send "
        "(retries exhausted) and fail to queue (queue full) (LogAgentRefusingLogs, LogAgentExportFailing).",
        [target(f'sum by (instance) (rate(otelcol_receiver_accepted_log_records_total{{job=~"{agent}"}}{rate}))',
                "{{instance}} received"),
         target(f'sum by (instance) (rate(otelcol_receiver_refused_log_records_total{{job=~"{agent}"}}{rate}))',
                "{{instance}} refused"),
         target(f'sum by (instance) (rate(otelcol_exporter_sent_log_records_total{{job=~"{agent}"}}{rate}))',
                "{{instance}} sent"),
         target(f'sum by (instance) (rate(otelcol_exporter_send_failed_log_records_total{{job=~"{agent}"}}{rate}))',
                "{{instance}} send failed"),
         target(f'sum by (instance) (rate(otelcol_exporter_enqueue_failed_log_records_total{{job=~"{agent}"}}'
                f'{rate}))', "{{instance}} enqueue failed")],
        unit="short", alerts=["LogAgentRefusingLogs", "LogAgentExportFailing"], minimum=0))
    queue = settings["prometheus_alert_log_agent_queue_ratio"]
    dash = dash.with_panel(timeseries(
        settings, "Log agent queue usage",
        "Share of each exporter's sending queue in use (LogAgentQueueFilling above "
        f"{queue:.0%}): the store does not take lines as fast as they come.",
        [target(f'max by (instance, exporter) (otelcol_exporter_queue_size{{job=~"{agent}"}}\n'
                f'/ otelcol_exporter_queue_capacity{{job=~"{agent}"}})', "{{instance}} {{exporter}}")],
        unit="percentunit", thresholds=at_most(queue), alerts=["LogAgentQueueFilling"], minimum=0, maximum=1,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    dash = dash.with_panel(timeseries(
        settings, "VictoriaLogs ingestion and errors",
        "Log lines VictoriaLogs ingests per second, requests it fails (vl_http_errors_total) and lines it "
        "drops, by reason.",
        [target(f'sum by (instance) (rate(vl_rows_ingested_total{{job=~"{victorialogs}"}}{rate}))',
                "{{instance}} lines ingested"),
         target(f'sum by (instance) (rate(vl_http_errors_total{{job=~"{victorialogs}"}}{rate}))',
                "{{instance}} request errors"),
         target(f'sum by (instance, reason) (rate(vl_rows_dropped_total{{job=~"{victorialogs}"}}{rate}))',
                "{{instance}} dropped ({{reason}})")],
        unit="short", alerts=["LogStoreDown"], minimum=0))
    dash = dash.with_panel(timeseries(
        settings, "Loki ingestion and errors",
        "Log lines Loki's distributor receives per second, requests answered with a 5xx and lines discarded, "
        "by reason.",
        [target(f'sum by (instance) (rate(loki_distributor_lines_received_total{{job=~"{loki}"}}{rate}))',
                "{{instance}} lines received"),
         target(f'sum by (instance) (rate(loki_request_duration_seconds_count{{job=~"{loki}", status_code=~"5.."}}'
                f'{rate}))', "{{instance}} 5xx responses"),
         target(f'sum by (instance, reason) (rate(loki_discarded_samples_total{{job=~"{loki}"}}{rate}))',
                "{{instance}} discarded ({{reason}})")],
        unit="short", alerts=["LogStoreDown"], minimum=0))

    dash = dash.with_row(row("Hosts, Grafana and probes"))
    dash = dash.with_panel(stat(
        settings, "node_exporter up",
        "Whether Prometheus scrapes node_exporter on each host.",
        [target(f'up{{job=~"{node}"}}', "{{instance}}")],
        thresholds=up_thresholds(), mappings=UP_MAPPINGS, alerts=["TargetDown"], width=12, graph=False))
    dash = dash.with_panel(stat(
        settings, "Grafana up",
        "Whether Prometheus scrapes Grafana's metrics.",
        [target(f'up{{job=~"{grafana}"}}', "{{instance}}")],
        thresholds=up_thresholds(), mappings=UP_MAPPINGS, alerts=["TargetDown"], width=12, graph=False))
    dash = dash.with_panel(stat(
        settings, "Probe success",
        f"Uptime probes through blackbox_exporter (jobs {probes}): whether each component's readiness URL, and "
        "each connector's health endpoint, answers as expected from at least one prober (probe_success). "
        "ProbeFailing, and ConnectorDown for connectors, fire when one fails from every prober.",
        [target(f'max without (prober) (probe_success{{job=~"{probes}"}})', "{{component}} {{instance}}")],
        thresholds=up_thresholds(), mappings=PROBE_MAPPINGS, alerts=["ProbeFailing", "ConnectorDown"], width=8,
        height=8, graph=False))
    slow = settings["prometheus_alert_probe_slow_threshold"]
    dash = dash.with_panel(timeseries(
        settings, "Probe latency",
        "How long each probe took from each prober (probe_duration_seconds): resolving, connecting, TLS and the "
        f"answer (ProbeSlow above {slow:g}s on average over 5m).",
        [target(f'probe_duration_seconds{{job=~"{probes}"}}', "{{component}} {{instance}} from {{prober}}")],
        unit="s", thresholds=at_most(slow), alerts=["ProbeSlow"], minimum=0, width=8,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    red_days = settings["prometheus_alert_tls_expiry_days"]
    dash = dash.with_panel(stat(
        settings, "TLS certificate expiry",
        "Days until the earliest certificate of each https or tls endpoint probed expires "
        f"(probe_ssl_earliest_cert_expiry; red under {red_days} days, TLSCertificateExpiringSoon, "
        f"yellow under {CERT_EXPIRY_YELLOW_DAYS}).",
        [target(f'(min by (component, instance, target) (probe_ssl_earliest_cert_expiry{{job=~"{probes}"}}) '
                '- time()) / 86400', "{{component}} {{target}}")],
        unit="d", thresholds=steps((None, RED), (red_days, YELLOW), (CERT_EXPIRY_YELLOW_DAYS, GREEN)),
        alerts=["TLSCertificateExpiringSoon"], width=8, height=8, graph=False, decimals=0))

    dash = dash.with_row(row("Alerts"))
    dash = dash.with_panel(alert_list(
        settings, "Stack and log path alerts",
        "Monitoring stack and log path alerts pending or firing (Watchdog always fires: it is the heartbeat "
        "of the dead man's switch). The links open their runbooks.",
        '{alertname=~"' + "|".join(stack_alerts) + '"}', ["stack.md", "logs.md"],
        alerts=stack_alerts))
    return finalize(dash.build())
