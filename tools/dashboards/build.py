#!/usr/bin/env python3
"""Generate the collection's Grafana dashboards into files/dashboards/<name>.json.

    .venv/bin/python tools/dashboards/build.py           # write every dashboard
    .venv/bin/python tools/dashboards/build.py --check   # exit 1, naming the files that differ

The JSON files are generated: never edit them by hand. To change a dashboard, edit its module
here and rebuild, then commit the module and the JSON together (tests/tools/test_dashboards.py
fails while they disagree):

    connector_overview.py   ILP / Connector overview   (uid ilp-connector-overview)
    connector_health.py     ILP / Connector health     (uid ilp-connector-health)
    settlement_activity.py  ILP / Settlement activity  (uid ilp-settlement-activity)
    stack_health.py         ILP / Stack health         (uid ilp-stack-health)
    dashboard_common.py     datasource, variables, links, thresholds, panel helpers

Panels are built with grafana-foundation-sdk (requirements-dev.txt); each module's build()
returns the dashboard model. Queries read the unified ilp:* series of the prometheus role's
connector-dialects and connector-sla rules, so they work for both connector dialects; panels
one dialect cannot fill are listed in dialect_only.yml (tools/dashboards/panel_queries.py uses
it), and panels that need an optional scrape job (loki, blackbox, ...) too.

A change to a query also needs the replay fixtures re-recorded (the test replays them through
panel_queries.py, and a query missing from them fails):

    .venv/bin/python tools/dashboards/record_fixtures.py   # needs the mirror's Prometheus archive

Thresholds are not written in the modules: they come from the prometheus role's defaults
(roles/prometheus/defaults/main/rules.yml: prometheus_alert_packet_sla_threshold,
prometheus_alert_settlement_sla_threshold, prometheus_alert_high_p99_latency_threshold,
prometheus_alert_packet_error_rate_threshold, ...), read at build time. Red is where the
alert's condition holds; yellow starts at WARN_FRACTION (dashboard_common.py) of the way there, for an
SLA ratio once that share of the error budget (1 - target) is used. To change an SLA, change
the default there (and the connector role's connector_sla_* to match) and rebuild. Job names
come from the scrape catalog (scrape.yml), selected as the rules select them (scrape_job_regex);
runbook links from the rule templates' runbook_url annotations, behind the dashboards' hidden
constant variable runbook_base_url (prometheus_runbook_base_url).

Every panel and target uses the Prometheus datasource with uid "prometheus" (dashboard_common.DATASOURCE):
the grafana role provisions that datasource under that uid. Alert list panels name it instead
(options.datasource = "Prometheus", dashboard_common.DATASOURCE_NAME): that panel filters by the
datasource's name.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from grafana_foundation_sdk.cog.encoder import JSONEncoder  # noqa: E402

import dashboard_common as common  # noqa: E402
import connector_health  # noqa: E402
import connector_overview  # noqa: E402
import settlement_activity  # noqa: E402
import stack_health  # noqa: E402

MODULES = (connector_overview, connector_health, settlement_activity, stack_health)


def render(model) -> str:
    """The stable text of a dashboard: sorted keys, 2-space indent, trailing newline."""
    data = json.loads(json.dumps(model, cls=JSONEncoder))
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def generate(settings: common.Settings | None = None) -> dict:
    """File name -> text of every dashboard."""
    settings = settings or common.load_settings()
    files = {}
    for module in MODULES:
        files[f"{module.NAME}.json"] = render(module.build(settings))
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 naming every file that differs from what the generators produce")
    parser.add_argument("--output", type=Path, default=common.DASHBOARD_DIR,
                        help="folder of the dashboard files (default: files/dashboards)")
    args = parser.parse_args(argv)

    files = generate()
    if args.check:
        differ = []
        for name, text in sorted(files.items()):
            path = args.output / name
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                differ.append(path)
        extra = sorted(p for p in args.output.glob("*.json") if p.name not in files) if args.output.is_dir() else []
        for path in differ:
            print(f"differs from its generator: {path}", file=sys.stderr)
        for path in extra:
            print(f"not produced by any generator: {path}", file=sys.stderr)
        if differ or extra:
            print("run: .venv/bin/python tools/dashboards/build.py", file=sys.stderr)
            return 1
        print(f"dashboards up to date: {len(files)} files in {args.output}")
        return 0

    args.output.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items()):
        path = args.output / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
