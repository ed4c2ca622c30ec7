"""ILP / Settlement activity: settlements, payment channels and balances of the connectors.

Settlements and payment channels are series of native connectors only (interledgerjs
ilp-connector 23 has no settlement counter and no channels); balances exist for both dialects.
"""
from __future__ import annotations

from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboard_common import (
    SEL, UP_MAPPINGS, alert_list, count_of_bad, finalize, health_link, new_dashboard, override, ratio_at_least,
    row, Settings, stat, table, target, timeseries, up_thresholds, zero_where_missing
)

NAME = "settlement-activity"

SETTLEMENT_ALERTS = ("SettlementFailures", "SettlementSLABreach", "ChannelDispute", "TigerBeetleUnavailable")


def build(settings: Settings) -> dm.Dashboard:
    settlement_sla = settings["prometheus_alert_settlement_sla_threshold"]

    dash = new_dashboard(
        settings, NAME,
        "Settlements by method and outcome, the settlement SLA, failures, payment channels and disputes "
        "(native connectors: interledgerjs ilp-connector has none of these series), and account balances "
        "(both dialects).",
        ["connector", "settlement"])

    dash = dash.with_row(row("Settlements"))
    dash = dash.with_panel(stat(
        settings, "Settlement success ratio",
        f"Successful / all settlements over 5m, per connector (SLA {settlement_sla:.0%}: SettlementSLABreach "
        "below it). No settlements: no value.",
        [target(f"ilp:settlement_success_ratio:rate5m{{{SEL}}}", "{{nodeId}}")],
        unit="percentunit", thresholds=ratio_at_least(settlement_sla), alerts=["SettlementSLABreach"], width=4,
        decimals=2))
    dash = dash.with_panel(stat(
        settings, "Settlements per second",
        "Settlements executed per second by the selected connectors (5m rate, all methods and outcomes).",
        [target(f"sum(ilp:settlements:rate5m{{{SEL}}})", "settlements/s")], unit="ops", width=4,
        color_mode=cm.BigValueColorMode.VALUE))
    dash = dash.with_panel(stat(
        settings, "Failed settlements (5m)",
        "Settlements that failed in the last 5 minutes (SettlementFailures fires on any, held "
        f"{settings['prometheus_alert_settlement_failures_for']}).",
        [target(f'sum(ilp:settlements:rate5m{{{SEL}, status="failure"}}) * 300\n'
                f'or sum(ilp:settlements:rate5m{{{SEL}}}) * 0', "failed")],
        thresholds=count_of_bad(), alerts=["SettlementFailures"], width=4, decimals=0))
    dash = dash.with_panel(stat(
        settings, "Channels in dispute",
        "Payment channels in the disputed state right now (ChannelDispute).",
        [target(f'sum(ilp:payment_channels{{{SEL}, status="disputed"}})\n'
                f'or sum(ilp:payment_channels{{{SEL}}}) * 0', "disputed")],
        thresholds=count_of_bad(), alerts=["ChannelDispute"], width=4, decimals=0))
    dash = dash.with_panel(stat(
        settings, "Disputes opened (15m)",
        "Channel disputes opened in the last 15 minutes (ChannelDispute).",
        [target(f"sum(ilp:channel_disputes:increase15m{{{SEL}}})", "disputes")],
        thresholds=count_of_bad(), alerts=["ChannelDispute"], width=4, decimals=0))
    dash = dash.with_panel(stat(
        settings, "TigerBeetle up",
        "TigerBeetle, the ledger native connectors record balances and settlements in "
        f"(TigerBeetleUnavailable after {settings['prometheus_alert_tigerbeetle_unavailable_for']} down).",
        [target(f'up{{job=~"{settings.tigerbeetle_job}"}}', "{{instance}}")], thresholds=up_thresholds(),
        mappings=UP_MAPPINGS, alerts=["TigerBeetleUnavailable"], width=4, graph=False))

    dash = dash.with_row(row("Activity"))
    dash = dash.with_panel(timeseries(
        settings, "Settlements per second by method and status",
        "Settlements per second per connector, settlement method and outcome (success, failure).",
        [target(f"sum by (nodeId, method, status) (ilp:settlements:rate5m{{{SEL}}})",
                "{{nodeId}} {{method}} {{status}}")],
        unit="ops", minimum=0))
    dash = dash.with_panel(timeseries(
        settings, "Settlement success ratio by connector",
        f"Successful / all settlements over 5m (SLA {settlement_sla:.0%}).",
        [target(f"ilp:settlement_success_ratio:rate5m{{{SEL}}}", "{{nodeId}}")],
        unit="percentunit", thresholds=ratio_at_least(settlement_sla), alerts=["SettlementSLABreach"], maximum=1,
        threshold_style=cm.GraphThresholdsStyleMode.LINE))
    dash = dash.with_panel(timeseries(
        settings, "Failed settlements by method (5m)",
        "Settlements that failed in the last 5 minutes, per connector and method. 0 while there are none.",
        [target(zero_where_missing(
            f'sum by (nodeId, method) (ilp:settlements:rate5m{{{SEL}, status="failure"}}) * 300', "nodeId, method",
            f"sum by (nodeId, method) (ilp:settlements:rate5m{{{SEL}}})"), "{{nodeId}} {{method}}")],
        unit="short", thresholds=count_of_bad(), alerts=["SettlementFailures"], minimum=0))
    dash = dash.with_panel(timeseries(
        settings, "p99 settlement latency",
        "p99 time a settlement takes, over 5m, per connector.",
        [target(f"ilp:settlement_latency_seconds:p99_5m{{{SEL}}}", "{{nodeId}}")], unit="s", minimum=0))
    dash = dash.with_panel(timeseries(
        settings, "Amount settled per second by method and token",
        "Amount settled per second (in the token's units), per connector, method and token.",
        [target(f"sum by (nodeId, method, token) (ilp:settlement_amount:rate5m{{{SEL}}})",
                "{{nodeId}} {{method}} {{token}}")],
        unit="short", minimum=0, width=24))

    dash = dash.with_row(row("Payment channels"))
    dash = dash.with_panel(timeseries(
        settings, "Payment channels by method and state",
        "Payment channels per connector, method and state (open, disputed, ...).",
        [target(f"sum by (nodeId, method, status) (ilp:payment_channels{{{SEL}}})",
                "{{nodeId}} {{method}} {{status}}")],
        unit="short", minimum=0, alerts=["ChannelDispute"]))
    dash = dash.with_panel(timeseries(
        settings, "Channel disputes opened (15m) by method",
        "Disputes opened in the last 15 minutes, per connector and method (ChannelDispute fires on any).",
        [target(f"sum by (nodeId, method) (ilp:channel_disputes:increase15m{{{SEL}}})", "{{nodeId}} {{method}}")],
        unit="short", thresholds=count_of_bad(), alerts=["ChannelDispute"], minimum=0))

    dash = dash.with_row(row("Balances"))
    dash = dash.with_panel(table(
        settings, "Account balances",
        "Balance per connector, peer account and asset, now (both dialects; interledgerjs amounts are in units "
        "of 10^-scale). Click a connector to open its health dashboard.",
        [target(f"sum by (nodeId, environment, dialect, peer, asset, scale) (ilp:account_balance{{{SEL}}})",
                instant=True, table=True)],
        transformations=[dm.DataTransformerConfig(id_val="organize", options={
            "excludeByName": {"Time": True},
            "indexByName": {"nodeId": 0, "environment": 1, "dialect": 2, "peer": 3, "asset": 4, "scale": 5,
                            "Value": 6},
            "renameByName": {"Value": "Balance"},
        })],
        overrides=[("nodeId", [override("links", [health_link()])])], width=12))
    dash = dash.with_panel(timeseries(
        settings, "Account balances over time",
        "Balance per connector, peer account and asset (both dialects).",
        [target(f"sum by (nodeId, peer, asset) (ilp:account_balance{{{SEL}}})", "{{nodeId}} {{peer}} {{asset}}")],
        unit="short"))

    dash = dash.with_row(row("Alerts"))
    dash = dash.with_panel(alert_list(
        settings, "Settlement alerts",
        "Settlement, payment channel and TigerBeetle alerts pending or firing. The links open their runbooks.",
        '{alertname=~"' + "|".join(SETTLEMENT_ALERTS) + '"}', ["connector.md"], alerts=SETTLEMENT_ALERTS))
    return finalize(dash.build())
