"""ILP / Connector overview: the fleet of connectors (both dialects) at a glance."""
from __future__ import annotations

from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboard_common import (
    SEL, UP_MAPPINGS, alert_list, at_least, at_most, colored_cell, count_of_bad, finalize, health_link,
    new_dashboard, override, ratio_at_least, row, Settings, stat, table, target, thresholds_override, timeseries,
    up_thresholds
)

NAME = "connector-overview"


def build(settings: Settings) -> dm.Dashboard:
    job = settings.connector_job
    up = f'up{{job=~"{job}", {SEL}}}'
    packet_sla = settings["prometheus_alert_packet_sla_threshold"]
    error_rate = settings["prometheus_alert_packet_error_rate_threshold"]
    latency = settings["prometheus_alert_high_p99_latency_threshold"]
    throughput = settings["prometheus_alert_low_throughput_threshold"]
    memory = settings["prometheus_alert_high_memory_usage_threshold"]
    connector_alerts = sorted(name for name, file_name in settings.runbooks.items() if file_name == "connector.md")

    dash = new_dashboard(
        settings, NAME,
        "Every connector of the selected environments: packets by outcome, packet delivery SLA, throughput, "
        "p99 latency (native connectors) and availability. Built from the unified ilp:* series, so native and "
        "interledgerjs connectors show side by side.",
        ["connector"])

    dash = dash.with_row(row("Fleet"))
    dash = dash.with_panel(stat(
        settings, "Connectors up",
        "Connector metric endpoints Prometheus scrapes successfully right now.",
        [target(f"sum({up})", "up")], thresholds=None, width=4,
        color_mode=cm.BigValueColorMode.VALUE, decimals=0))
    dash = dash.with_panel(stat(
        settings, "Connectors down",
        "Connector metric endpoints Prometheus fails to scrape (ConnectorDown fires after "
        f"{settings['prometheus_alert_connector_down_for']}).",
        [target(f"count({up} == 0) or vector(0)", "down")], thresholds=count_of_bad(),
        alerts=["ConnectorDown"], width=4, decimals=0))
    dash = dash.with_panel(stat(
        settings, "Packets per second",
        "ILP packets all selected connectors process per second (all outcomes, 1m rate).",
        [target(f"sum(ilp:packet_throughput:rate1m{{{SEL}}})", "packets/s")], unit="pps", width=4,
        color_mode=cm.BigValueColorMode.VALUE))
    dash = dash.with_panel(stat(
        settings, "Packet success ratio",
        "Packets not failed by the connectors / all packets over 5m, fleet-wide. Rejects from further on "
        f"(interledgerjs result=\"rejected\") are not failures. SLA {packet_sla:.2%}.",
        [target(f'(sum(ilp:packets:rate5m{{{SEL}, status!="failure"}}) or vector(0))\n'
                f'/ (sum(ilp:packets:rate5m{{{SEL}}}) > 0)', "success")],
        unit="percentunit", thresholds=ratio_at_least(packet_sla), alerts=["PacketSLABreach"], width=4, decimals=2))
    dash = dash.with_panel(stat(
        settings, "Packet error ratio",
        "Packets failed by the connectors themselves / all packets over 5m, fleet-wide "
        f"(HighPacketErrorRate above {error_rate:.0%}).",
        [target(f'(sum(ilp:packets:rate5m{{{SEL}, status="failure"}}) or vector(0))\n'
                f'/ (sum(ilp:packets:rate5m{{{SEL}}}) > 0)', "errors")],
        unit="percentunit", thresholds=at_most(error_rate), alerts=["HighPacketErrorRate"], width=4, decimals=2))
    dash = dash.with_panel(stat(
        settings, "Worst p99 latency",
        "The highest p99 packet latency (5m) among the selected connectors. Native connectors only: "
        f"interledgerjs ilp-connector has no latency histogram. SLA {latency * 1000:g}ms.",
        [target(f"max(ilp:packet_latency_seconds:p99_5m{{{SEL}}})", "p99")],
        unit="s", thresholds=at_most(latency), alerts=["HighP99Latency"], width=4))

    dash = dash.with_row(row("Packets"))
    dash = dash.with_panel(timeseries(
        settings, "Packets per second by status",
        "Packets per second per connector and normalised status: success, failure (failed by this connector), "
        "rejected (interledgerjs: rejected further on, not this connector's fault).",
        [target(f"sum by (nodeId, status) (ilp:packets:rate1m{{{SEL}}})", "{{nodeId}} {{status}}")],
        unit="pps", minimum=0))
    dash = dash.with_panel(timeseries(
        settings, "Throughput by connector",
        "Packets per second per connector, all outcomes. The dashed line is LowThroughput's threshold "
        f"({throughput:g} packets/s; 0 turns the alert off).",
        [target(f"sum by (nodeId) (ilp:packet_throughput:rate1m{{{SEL}}})", "{{nodeId}}")],
        unit="pps", thresholds=at_least(throughput), alerts=["LowThroughput"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.DASHED if throughput else cm.GraphThresholdsStyleMode.OFF))
    dash = dash.with_panel(timeseries(
        settings, "Packet success ratio by connector",
        f"Packet delivery SLA per connector over 5m (SLA {packet_sla:.2%}: PacketSLABreach below it). "
        "No traffic: no value.",
        [target(f"ilp:packet_success_ratio:rate5m{{{SEL}}}", "{{nodeId}}")],
        unit="percentunit", thresholds=ratio_at_least(packet_sla), alerts=["PacketSLABreach"], maximum=1,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    dash = dash.with_panel(timeseries(
        settings, "Packet error ratio by connector",
        f"Share of packets failed by each connector over 5m (HighPacketErrorRate above {error_rate:.0%}).",
        [target(f"ilp:packet_error_ratio:rate5m{{{SEL}}}", "{{nodeId}}")],
        unit="percentunit", thresholds=at_most(error_rate), alerts=["HighPacketErrorRate"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    dash = dash.with_panel(timeseries(
        settings, "p99 packet latency by connector",
        f"p99 ILP packet latency over 5m (HighP99Latency above {latency * 1000:g}ms). Native connectors only.",
        [target(f"ilp:packet_latency_seconds:p99_5m{{{SEL}}}", "{{nodeId}}")],
        unit="s", thresholds=at_most(latency), alerts=["HighP99Latency"], minimum=0,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    dash = dash.with_panel(timeseries(
        settings, "Memory use by connector",
        "Resident memory of each connector as a share of its limit (the host's memory, capped by "
        f"prometheus_alert_high_memory_usage_limit_bytes; HighMemoryUsage above {memory:.0%}).",
        [target(f"ilp:process_memory_usage_ratio{{{SEL}}}", "{{nodeId}}")],
        unit="percentunit", thresholds=at_most(memory), alerts=["HighMemoryUsage"], minimum=0, maximum=1,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))

    dash = dash.with_row(row("Connectors"))
    by = "nodeId, environment"
    columns = {
        "A": "Up", "B": "Packets/s", "C": "Success ratio", "D": "Error ratio", "E": "p99 latency", "F": "Memory",
    }
    organize = dm.DataTransformerConfig(id_val="organize", options={
        "excludeByName": {"Time": True},
        "indexByName": {"nodeId": 0, "environment": 1, **{f"Value #{ref}": index + 2
                                                          for index, ref in enumerate(columns)}},
        "renameByName": {f"Value #{ref}": name for ref, name in columns.items()},
    })
    dash = dash.with_panel(table(
        settings, "Connectors",
        "One row per connector (instant values). Click a connector to open its health dashboard.",
        [target(f"max by ({by}) ({up})", instant=True, table=True),
         target(f"sum by ({by}) (ilp:packet_throughput:rate1m{{{SEL}}})", instant=True, table=True),
         target(f"max by ({by}) (ilp:packet_success_ratio:rate5m{{{SEL}}})", instant=True, table=True),
         target(f"max by ({by}) (ilp:packet_error_ratio:rate5m{{{SEL}}})", instant=True, table=True),
         target(f"max by ({by}) (ilp:packet_latency_seconds:p99_5m{{{SEL}}})", instant=True, table=True),
         target(f"max by ({by}) (ilp:process_memory_usage_ratio{{{SEL}}})", instant=True, table=True)],
        alerts=["ConnectorDown", "PacketSLABreach", "HighPacketErrorRate", "HighP99Latency", "HighMemoryUsage"],
        transformations=[dm.DataTransformerConfig(id_val="merge", options={}), organize],
        overrides=[
            ("nodeId", [override("links", [health_link()])]),
            ("Up", [override("mappings", UP_MAPPINGS), thresholds_override(up_thresholds()), colored_cell()]),
            ("Packets/s", [override("unit", "pps"), override("decimals", 1)]),
            ("Success ratio", [override("unit", "percentunit"), override("decimals", 3),
                               thresholds_override(ratio_at_least(packet_sla)), colored_cell()]),
            ("Error ratio", [override("unit", "percentunit"), override("decimals", 3),
                             thresholds_override(at_most(error_rate)), colored_cell()]),
            ("p99 latency", [override("unit", "s"), thresholds_override(at_most(latency)), colored_cell()]),
            ("Memory", [override("unit", "percentunit"), override("decimals", 1),
                        thresholds_override(at_most(memory)), colored_cell()]),
        ]))
    dash = dash.with_panel(alert_list(
        settings, "Connector alerts",
        "Connector alerts pending or firing in Prometheus. The links open their runbooks.",
        '{alertname=~"' + "|".join(connector_alerts) + '"}', ["connector.md"], alerts=connector_alerts))
    return finalize(dash.build())

