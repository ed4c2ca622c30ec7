"""ILP / Connector health: one connector (pick it with the nodeId variable) in detail."""
from __future__ import annotations

from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboard_common import (
    GREEN, SEL, UP_MAPPINGS, YELLOW, alert_list, at_least, at_most, finalize, gauge, new_dashboard,
    ratio_at_least, row, Settings, stat, steps, target, timeseries, up_thresholds, zero_where_missing
)

NAME = "connector-health"


def build(settings: Settings) -> dm.Dashboard:
    job = settings.connector_job
    up = f'up{{job=~"{job}", {SEL}}}'
    packet_sla = settings["prometheus_alert_packet_sla_threshold"]
    error_rate = settings["prometheus_alert_packet_error_rate_threshold"]
    latency = settings["prometheus_alert_high_p99_latency_threshold"]
    throughput = settings["prometheus_alert_low_throughput_threshold"]
    memory = settings["prometheus_alert_high_memory_usage_threshold"]
    spike = settings["prometheus_alert_critical_error_spike_threshold"]
    connector_alerts = sorted(name for name, file_name in settings.runbooks.items() if file_name == "connector.md")
    # Series present for a connector of each dialect that handles traffic: the zero line of
    # event counters (failures, rejects, rate limits) is drawn only for connectors of that dialect.
    native = f'sum by (nodeId) (ilp:packets:rate5m{{{SEL}, dialect="native"}})'
    interledgerjs = f'sum by (nodeId) (ilp:packets:rate5m{{{SEL}, dialect="interledgerjs"}})'

    dash = new_dashboard(
        settings, NAME,
        "One connector in detail (choose it with Connector): availability, restarts, memory against its limit, "
        "packets and packet errors by reason, connector errors and latency. Panels marked native or "
        "interledgerjs show series only that connector dialect has.",
        ["connector"])

    dash = dash.with_row(row("Status"))
    dash = dash.with_panel(stat(
        settings, "Up",
        "Whether Prometheus scrapes the connector's metrics endpoint (ConnectorDown after "
        f"{settings['prometheus_alert_connector_down_for']} down).",
        [target(up, "{{nodeId}}")], thresholds=up_thresholds(), mappings=UP_MAPPINGS, alerts=["ConnectorDown"],
        width=4, graph=False))
    dash = dash.with_panel(stat(
        settings, "Metric dialect",
        "Which metric dialect the connector speaks: native (its own exporter) or interledgerjs (ilp-connector).",
        [target(f'count by (nodeId, dialect) ({{__name__=~"ilp:.+", {SEL}, dialect!=""}})',
                "{{nodeId}}: {{dialect}}")],
        width=4, graph=False, color_mode=cm.BigValueColorMode.NONE, text_mode=cm.BigValueTextMode.NAME))
    dash = dash.with_panel(stat(
        settings, "Uptime",
        "Time since the connector process started (prom-client's process_start_time_seconds).",
        [target(f'time() - max by (nodeId) (process_start_time_seconds{{job=~"{job}", {SEL}}})', "{{nodeId}}")],
        unit="dtdurations", width=4, graph=False, color_mode=cm.BigValueColorMode.NONE))
    dash = dash.with_panel(stat(
        settings, "Restarts",
        "Process restarts within the dashboard's time range (changes of the process start time).",
        [target(f'sum by (nodeId) (changes(process_start_time_seconds{{job=~"{job}", {SEL}}}[$__range]))',
                "{{nodeId}}")],
        thresholds=steps((None, GREEN), (1, YELLOW)), width=4, graph=False, decimals=0))
    dash = dash.with_panel(gauge(
        settings, "Memory vs limit",
        "Resident memory as a share of the connector's limit: the host's memory, capped by "
        f"prometheus_alert_high_memory_usage_limit_bytes (HighMemoryUsage above {memory:.0%}).",
        [target(f"ilp:process_memory_usage_ratio{{{SEL}}}", "{{nodeId}}")],
        unit="percentunit", thresholds=at_most(memory), alerts=["HighMemoryUsage"], width=4, height=4,
        minimum=0, maximum=1))
    dash = dash.with_panel(stat(
        settings, "Packet success ratio",
        f"Packets not failed by the connector / all packets over 5m (SLA {packet_sla:.2%}).",
        [target(f"ilp:packet_success_ratio:rate5m{{{SEL}}}", "{{nodeId}}")],
        unit="percentunit", thresholds=ratio_at_least(packet_sla), alerts=["PacketSLABreach"], width=4,
        decimals=2))

    dash = dash.with_row(row("Packets"))
    dash = dash.with_panel(timeseries(
        settings, "Packets per second by status",
        "Packets per second by normalised status: success, failure (failed by this connector), rejected "
        "(interledgerjs: rejected further on).",
        [target(f"sum by (nodeId, status) (ilp:packets:rate1m{{{SEL}}})", "{{nodeId}} {{status}}")],
        unit="pps", minimum=0, width=8))
    dash = dash.with_panel(timeseries(
        settings, "Packet errors by reason",
        "Packets that did not succeed, by reason: failure = failed by this connector (counts against the SLA), "
        "rejected = rejected by the next hop or the receiver (interledgerjs only, not this connector's fault). "
        "0 while there are none.",
        [target(zero_where_missing(
            f'sum by (nodeId, status) (ilp:packets:rate5m{{{SEL}, status!="success"}})', "nodeId",
            f"sum by (nodeId) (ilp:packets:rate5m{{{SEL}}})", "status", "failure"), "{{nodeId}} {{status}}")],
        unit="pps", minimum=0, alerts=["HighPacketErrorRate"], width=8))
    dash = dash.with_panel(timeseries(
        settings, "Packet error ratio",
        f"Share of packets failed by the connector over 5m (HighPacketErrorRate above {error_rate:.0%}).",
        [target(f"ilp:packet_error_ratio:rate5m{{{SEL}}}", "{{nodeId}}")],
        unit="percentunit", thresholds=at_most(error_rate), alerts=["HighPacketErrorRate"], minimum=0, width=8,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    dash = dash.with_panel(timeseries(
        settings, "Failed packets by status and type (native)",
        "Native connectors: packets with a status other than success, by status and packet type, from "
        "ilp_packets_processed_total. 0 while there are none.",
        [target(zero_where_missing(
            f'sum by (nodeId, status, type) (rate(ilp_packets_processed_total{{job=~"{job}", {SEL}, '
            f'status!="success"}}[$__rate_interval]))', "nodeId", native, "status", "none"),
            "{{nodeId}} {{status}} {{type}}")],
        unit="pps", minimum=0, alerts=["HighPacketErrorRate"], width=8))
    dash = dash.with_panel(timeseries(
        settings, "Rejects by code (interledgerjs)",
        "interledgerjs: packets forwarded to a next hop that came back rejected, by next hop (account) and ILP "
        "error code, and forwards whose plugin failed (peer link down). ilp-connector 23 counts the codes of "
        "its own rejects nowhere (see the HighPacketErrorRate runbook). 0 while there are none.",
        [target(zero_where_missing(
            f'sum by (nodeId, account, code) (rate(ilp_connector_outgoing_ilp_packets{{job=~"{job}", {SEL}, '
            f'result="rejected"}}[$__rate_interval]))', "nodeId", interledgerjs, "code", "none"),
            "{{nodeId}} to {{account}}: {{code}}"),
         target(f'sum by (nodeId, account) (rate(ilp_connector_outgoing_ilp_packets{{job=~"{job}", {SEL}, '
                f'result="failed"}}[$__rate_interval]))', "{{nodeId}} to {{account}}: send failed")],
        unit="pps", minimum=0, alerts=["HighPacketErrorRate"], width=8))
    dash = dash.with_panel(timeseries(
        settings, "Rate-limited packets (interledgerjs)",
        "interledgerjs: packets refused by ilp-connector's rate-limit middleware (not counted as packets "
        "at all). 0 while there are none.",
        [target(zero_where_missing(f"sum by (nodeId) (ilp:packets_rate_limited:rate5m{{{SEL}}})", "nodeId",
                                   interledgerjs), "{{nodeId}}")],
        unit="pps", minimum=0, width=8))

    dash = dash.with_row(row("Errors and latency"))
    dash = dash.with_panel(timeseries(
        settings, "Connector errors per minute by type and severity",
        "Native: connector_errors_total by type and severity; interledgerjs: packets whose pipeline threw "
        f"(type packet_failed). CriticalErrorSpike fires above {spike:g} critical errors per minute (the line). "
        "0 while there are none.",
        [target(zero_where_missing(f"sum by (nodeId, type, severity) (ilp:errors:rate1m{{{SEL}}}) * 60", "nodeId",
                                   f"sum by (nodeId) ({up})", "type", "none"),
                "{{nodeId}} {{type}} {{severity}}")],
        unit="short", thresholds=at_most(spike), alerts=["CriticalErrorSpike"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.DASHED))
    quantiles = [
        target(f"histogram_quantile({q}, sum by (nodeId, le) (ilp:packet_latency_seconds_bucket:rate5m{{{SEL}}}))",
               "{{nodeId}} p%g" % (q * 100))
        for q in (0.5, 0.9)]
    dash = dash.with_panel(timeseries(
        settings, "Packet latency (native)",
        f"ILP packet latency quantiles over 5m (HighP99Latency when p99 is above {latency * 1000:g}ms). "
        "Native connectors only: ilp-connector 23 has no latency histogram.",
        quantiles + [target(f"ilp:packet_latency_seconds:p99_5m{{{SEL}}}", "{{nodeId}} p99")],
        unit="s", thresholds=at_most(latency), alerts=["HighP99Latency"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.DASHED))
    dash = dash.with_panel(timeseries(
        settings, "Throughput",
        f"Packets per second, all outcomes (LowThroughput below {throughput:g}; 0 turns it off).",
        [target(f"sum by (nodeId) (ilp:packet_throughput:rate1m{{{SEL}}})", "{{nodeId}}")],
        unit="pps", thresholds=at_least(throughput), alerts=["LowThroughput"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.DASHED if throughput else cm.GraphThresholdsStyleMode.OFF))
    dash = dash.with_panel(timeseries(
        settings, "Memory",
        "Resident memory and V8 heap used, the connector's memory limit, and the level at which "
        f"HighMemoryUsage fires ({memory:.0%} of the limit). No limit line without node_exporter and cap.",
        [target(f"ilp:process_resident_memory_bytes{{{SEL}}}", "{{nodeId}} resident"),
         target(f"ilp:nodejs_heap_used_bytes{{{SEL}}}", "{{nodeId}} heap used"),
         target(f"(ilp:process_resident_memory_bytes{{{SEL}}} / ilp:process_memory_usage_ratio{{{SEL}}}) < +Inf",
                "{{nodeId}} limit"),
         target(f"(ilp:process_resident_memory_bytes{{{SEL}}} / ilp:process_memory_usage_ratio{{{SEL}}}"
                f" * {memory:g}) < +Inf", "{{nodeId}} HighMemoryUsage level")],
        unit="bytes", alerts=["HighMemoryUsage"], minimum=0))

    dash = dash.with_row(row("Alerts"))
    dash = dash.with_panel(alert_list(
        settings, "Alerts of this connector",
        "Connector alerts pending or firing for the selected connectors. The links open their runbooks.",
        '{alertname=~"' + "|".join(connector_alerts) + '", nodeId=~"${nodeId:regex}"}', ["connector.md"],
        alerts=connector_alerts))
    return finalize(dash.build())
