#!/usr/bin/env python3
"""Run every panel query of the dashboards against a real Prometheus and report what they return.

    python3 tools/dashboards/panel_queries.py --prometheus http://mon-1:9090 \\
        [--dialect interledgerjs] [--absent-job loki --absent-job blackbox ...] \\
        [--scrape-interval 15s] [--range 10m] [--var nodeId=connector-a,connector-b] \\
        [--user name:password] [--ca-file ca.pem | --insecure] [files/dashboards/*.json]

The Molecule stack scenario (interledgerjs connectors, scrape interval 15s, no Loki, Grafana or
TigerBeetle) runs:

    panel_queries.py --prometheus http://ilp-stack-mon:9090 --dialect interledgerjs --scrape-interval 15s \
        --absent-job loki --absent-job grafana --absent-job tigerbeetle

It needs only the Python standard library (PyYAML when present).

For every target of every panel (files/dashboards/*.json by default), the expression gets its
variables substituted the way Grafana does:
  - dashboard variables: the values given with --var (several: joined as a regex (a|b)), else All,
    which is the variable's custom all value (.* for environment and nodeId); constants: their value;
  - $__interval: the scrape interval, or range / --max-data-points when that is longer;
    $__rate_interval: max($__interval + scrape interval, 4 x scrape interval) (1m for the default
    15s scrape interval); $__range, $__range_s, $__range_ms: --range; also $__interval_ms,
    $__rate_interval_ms, $__from and $__to;
and it runs as an instant query (now) and as a range query over the last --range (step
$__interval). Status of a target: error (HTTP error, parse or execution error: either query),
data (either query returned series) or empty. A panel is error if one target is, data if one
target has data, else empty. The dashboards' query variables (label_values) are checked too.

Panels listed in tools/dashboards/dialect_only.yml are expected-empty when the --dialect given is
not one of their dialects, or when every job of their optional_jobs entry is given with
--absent-job: they must still parse (status empty, not error). The report (JSON, on stdout or
--output) lists every panel with its targets; exit status 1 when any panel or variable errors or
is empty without being expected-empty, 2 when Prometheus cannot be reached at all, else 0.

With --alert-list-datasource NAME (the Prometheus data source's name as the grafana role
provisions it, "Prometheus"), every alert list panel is applied, the way Grafana's alert list
filters, to the alerts Prometheus has active (/api/v1/alerts): its data source filter (the
panel's options.datasource must be that NAME, or empty), its state filter (firing, pending) and its
alertName and alertInstanceLabelFilter (variables substituted). The panel fails unless its data
source and state filters select at least one active alert (Watchdog always fires); the count its
label filter then keeps is reported, and is expected to be 0 only when none of its alerts fires.

--record FILE saves every response, --replay FILE answers from such a recording instead of a
server (tests/tools/test_dashboards.py replays tools/dashboards/fixtures/*.json).
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parents[1]
DEFAULT_DASHBOARDS = TOP / "files" / "dashboards"
DEFAULT_EXPECTATIONS = HERE / "dialect_only.yml"
DIALECTS = ("native", "interledgerjs")

# Query parameters that change with the time of the run: not part of a recording's keys.
TIME_PARAMS = ("time", "start", "end")


# --- durations -------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_duration(text: str) -> float:
    """Seconds of a Prometheus/Grafana duration (15s, 1m30s, 500ms, 1h)."""
    text = text.strip()
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {text!r}")
    return total


def format_duration(seconds: float) -> str:
    """The shortest exact Prometheus duration: 1h, 10m, 15s, 1500ms."""
    millis = int(round(seconds * 1000))
    if millis <= 0:
        return "0s"
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def builtin_variables(scrape_interval: float, range_seconds: float, now: float, max_data_points: int = 1000) -> dict:
    """Grafana's global variables for a query over [now - range, now]."""
    interval = max(scrape_interval, math.ceil(range_seconds / max_data_points))
    rate_interval = max(interval + scrape_interval, 4 * scrape_interval)
    return {
        "__interval": format_duration(interval),
        "__interval_ms": str(int(interval * 1000)),
        "__rate_interval": format_duration(rate_interval),
        "__rate_interval_ms": str(int(rate_interval * 1000)),
        "__range": format_duration(range_seconds),
        "__range_s": str(int(range_seconds)),
        "__range_ms": str(int(range_seconds * 1000)),
        "__from": str(int((now - range_seconds) * 1000)),
        "__to": str(int(now * 1000)),
    }


# --- variables -------------------------------------------------------------------------------

_REGEX_SPECIAL = re.compile(r"([\\^$*+?.()|{}\[\]])")


def regex_escape(value: str) -> str:
    """Grafana's escaping of a multi-value variable's values for PromQL regex matchers."""
    return _REGEX_SPECIAL.sub(r"\\\\\1", value)


def dashboard_variable_values(dashboard: dict, given: dict) -> dict:
    """Name -> text each dashboard variable is replaced by (given: name -> list of values)."""
    values = {}
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        name = variable.get("name")
        kind = variable.get("type")
        if kind == "constant":
            values[name] = str(variable.get("query", ""))
            continue
        chosen = given.get(name)
        if chosen is None or chosen == ["$__all"]:
            if variable.get("includeAll"):
                values[name] = variable.get("allValue") or ".*"
                continue
            current = (variable.get("current") or {}).get("value")
            chosen = current if isinstance(current, list) else [current or ""]
        if len(chosen) == 1:
            values[name] = regex_escape(chosen[0]) if (variable.get("multi") or variable.get("includeAll")) \
                else chosen[0]
        else:
            values[name] = "(" + "|".join(regex_escape(value) for value in chosen) + ")"
    return values


_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)")


def substitute(expr: str, values: dict) -> str:
    """Replace $name, ${name}, ${name:format} and [[name]] by their values (unknown ones are kept)."""
    def replace(match):
        name = match.group(1) or match.group(3) or match.group(5)
        return values.get(name, match.group(0))
    return _VARIABLE.sub(replace, expr)


# --- HTTP ------------------------------------------------------------------------------------

class PrometheusUnreachable(RuntimeError):
    pass


class Client:
    """Calls the Prometheus HTTP API (queries POSTed); optionally records or replays the answers."""

    def __init__(self, url=None, auth=None, ca_file=None, insecure=False, timeout=30.0, record=None, replay=None):
        self.url = (url or "").rstrip("/")
        self.timeout = timeout
        self.headers = {"Accept": "application/json"}
        if auth:
            self.headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        self.context = None
        if insecure:
            self.context = ssl._create_unverified_context()  # noqa: S323 - asked for with --insecure
        elif ca_file:
            self.context = ssl.create_default_context(cafile=ca_file)
        self.recording = [] if record else None
        self.replay = None
        if replay:
            with open(replay, encoding="utf-8") as handle:
                exchanges = json.load(handle)["exchanges"]
            self.replay = {self.key(entry["path"], entry["params"]): entry for entry in exchanges}

    @staticmethod
    def key(path, params) -> str:
        kept = sorted((k, v) for k, v in params.items() if k not in TIME_PARAMS)
        return path + "?" + urllib.parse.urlencode(kept)

    def call(self, path: str, params: dict, method: str = "POST") -> tuple:
        """(HTTP status, decoded JSON body or None, error text or None)."""
        if self.replay is not None:
            entry = self.replay.get(self.key(path, params))
            if entry is None:
                return 0, None, "not in the recording"
            return entry["status"], entry["body"], entry.get("error")
        encoded = urllib.parse.urlencode(params, doseq=True)
        if method == "GET":
            request = urllib.request.Request(f"{self.url}{path}?{encoded}", headers=self.headers)
        else:
            request = urllib.request.Request(self.url + path, data=encoded.encode(), headers={
                **self.headers, "Content-Type": "application/x-www-form-urlencoded"})
        status, body, error = 0, None, None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as response:
                status = response.status
                body = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            status = exc.code
            text = exc.read().decode("utf-8", "replace")
            try:
                body = json.loads(text)
                error = body.get("error") or text
            except ValueError:
                error = text.strip() or exc.reason
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise PrometheusUnreachable(f"{self.url}{path}: {exc}") from exc
        if self.recording is not None:
            self.recording.append({"path": path, "params": {k: v for k, v in params.items() if k not in TIME_PARAMS},
                                   "status": status, "body": _trim(body), "error": error})
        return status, body, error

    def save(self, path) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"exchanges": self.recording}, handle, sort_keys=True, indent=1)
            handle.write("\n")


def _trim(body):
    """Keep recordings small: the first and the last sample of every range series."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and body["data"].get("resultType") == "matrix":
        for series in body["data"].get("result") or []:
            values = series.get("values") or []
            if len(values) > 2:
                series["values"] = [values[0], values[-1]]
    return body


def classify(status, body, error) -> dict:
    if status != 200 or not isinstance(body, dict) or body.get("status") != "success":
        message = error
        if not message and isinstance(body, dict):
            message = body.get("error")
        return {"status": "error", "http": status, "error": message or f"HTTP {status}"}
    data = body.get("data")
    if isinstance(data, dict):
        result = data.get("result")
        if data.get("resultType") in ("scalar", "string"):
            count = 1 if result else 0
        else:
            count = len(result or [])
    else:
        count = len(data or [])
    return {"status": "data" if count else "empty", "series": count}


# --- dashboards ------------------------------------------------------------------------------

def load_dashboards(paths) -> list:
    """(name, dashboard) of every file; folders: their *.json."""
    files = []
    for path in paths or [DEFAULT_DASHBOARDS]:
        path = Path(path)
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    result = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            result.append((path.stem, json.load(handle)))
    return result


def iter_panels(dashboard: dict):
    for panel in dashboard.get("panels") or []:
        if panel.get("type") == "row":
            yield from panel.get("panels") or []
        else:
            yield panel


def _scalar(text: str):
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(item) for item in text[1:-1].split(",") if item.strip()]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_simple_yaml(text: str) -> dict:
    """The subset of YAML dialect_only.yml is written in (top-level keys holding lists of flat
    mappings, plain or quoted scalars, flow lists), for hosts without PyYAML."""
    doc, items, item = {}, None, None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip() or line.strip() == "---":
            continue
        if not line.startswith(" "):
            key = line.rstrip(":").strip()
            items = doc.setdefault(key, [])
            continue
        stripped = line.strip()
        if stripped.startswith("- "):
            item = {}
            items.append(item)
            stripped = stripped[2:]
        key, _, value = stripped.partition(":")
        item[key.strip()] = _scalar(value)
    return doc


def load_expectations(path) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:  # a host without PyYAML: panel_queries needs only the standard library
        doc = parse_simple_yaml(text)
    else:
        doc = yaml.safe_load(text) or {}
    expect = {}
    for entry in doc.get("dialect_only") or []:
        expect.setdefault((entry["dashboard"], entry["panel"]), {})["dialects"] = (entry["dialects"], entry["reason"])
    for entry in doc.get("optional_jobs") or []:
        expect.setdefault((entry["dashboard"], entry["panel"]), {})["jobs"] = (entry["jobs"], entry["reason"])
    return expect


def expected_empty(expectation: dict | None, dialect: str | None, absent_jobs) -> str | None:
    """Why the panel may be empty in this run, or None."""
    if not expectation:
        return None
    reasons = []
    if dialect and "dialects" in expectation:
        dialects, reason = expectation["dialects"]
        if dialect not in dialects:
            reasons.append(f"{dialect} connectors: {reason}")
    if "jobs" in expectation:
        jobs, reason = expectation["jobs"]
        if all(job in absent_jobs for job in jobs):
            reasons.append(f"absent job {'|'.join(jobs)}: {reason}")
    return "; ".join(reasons) or None


_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(.+),\s*)?([A-Za-z_][A-Za-z0-9_]*)\)\s*$", re.S)


# An alert list's label filter, as Grafana parses it (public/app/features/alerting/unified/utils/
# alertmanager.ts parseMatchers: `{name="v", name=~"re", name!="v", name!~"re"}`), and its
# state filter keys for data-source-managed rules (firing, pending).
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


def parse_matchers(text: str) -> list:
    body = (text or "").strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    matchers, pos = [], 0
    while pos < len(body):
        match = _MATCHER.match(body, pos)
        if not match:
            if body[pos:].strip():
                raise ValueError(f"not a label matcher: {body[pos:]!r}")
            break
        matchers.append((match.group(1), match.group(2), match.group(3).replace('\\"', '"')))
        pos = match.end()
    return matchers


def labels_match(labels: dict, matchers) -> bool:
    for name, op, value in matchers:
        have = labels.get(name, "")
        if op == "=" and have != value or op == "!=" and have == value:
            return False
        if op in ("=~", "!~") and bool(re.fullmatch(value, have)) != (op == "=~"):
            return False
    return True


def alert_list_selection(panel: dict, alerts: list, datasource_name: str, values: dict) -> dict:
    """What an alert list panel shows of Prometheus' active alerts: the ones its data source and
    state filters select, then those its alertName and label filter keep."""
    options = panel.get("options") or {}
    wanted_source = options.get("datasource")
    # UnifiedAlertList.tsx filterRules: `options.datasource` keeps the rules whose data source NAME
    # equals it; empty keeps every rules source.
    source_ok = not wanted_source or wanted_source == datasource_name
    states = {state for state, on in (options.get("stateFilter") or {}).items() if on}
    selected = [a for a in alerts if source_ok and (not states or a.get("state") in states)]
    name = (options.get("alertName") or "").lower()
    matchers = parse_matchers(substitute(options.get("alertInstanceLabelFilter") or "", values))
    shown = [a for a in selected if name in a["labels"].get("alertname", "").lower() and labels_match(a["labels"], matchers)]
    named = sorted({v for _n, op, v in matchers if _n == "alertname" and op == "=~" for v in v.split("|")})
    return {"datasource": wanted_source, "selected": len(selected), "shown": len(shown),
            "shown_alerts": sorted({a["labels"].get("alertname", "") for a in shown}),
            "firing_of_its_alerts": sorted({a["labels"].get("alertname", "") for a in selected
                                            if not named or a["labels"].get("alertname") in named})}


def run(client: Client, dashboards, dialect=None, absent_jobs=(), given=None, scrape_interval=15.0,
        range_seconds=600.0, max_data_points=1000, expectations=None, now=None, alert_list_datasource=None) -> dict:
    now = time.time() if now is None else now
    given = given or {}
    expectations = expectations or {}
    builtins = builtin_variables(scrape_interval, range_seconds, now, max_data_points)
    step = parse_duration(builtins["__interval"])
    report = {"dialect": dialect, "absent_jobs": sorted(absent_jobs), "builtins": builtins,
              "panels": [], "variables": [], "failures": [], "alert_lists": []}
    active_alerts = None
    if alert_list_datasource:
        status, body, error = client.call("/api/v1/alerts", {}, "GET")
        if status != 200 or not isinstance(body, dict) or body.get("status") != "success":
            report["failures"].append(f"/api/v1/alerts: {error or status}")
            active_alerts = []
        else:
            active_alerts = body["data"]["alerts"]
    for name, dashboard in dashboards:
        values = {**builtins, **dashboard_variable_values(dashboard, given)}
        for variable in (dashboard.get("templating") or {}).get("list") or []:
            if variable.get("type") != "query":
                continue
            query = variable.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            entry = {"dashboard": name, "variable": variable.get("name"), "query": query}
            match = _LABEL_VALUES.match(substitute(query or "", values))
            if not match:
                entry.update(status="error", error="only label_values(...) variable queries are checked")
            else:
                params = {"start": str(now - range_seconds), "end": str(now)}
                if match.group(1):
                    params["match[]"] = match.group(1)
                entry.update(classify(*client.call(f"/api/v1/label/{match.group(2)}/values", params, "GET")))
            report["variables"].append(entry)
            if entry["status"] != "data":
                report["failures"].append(f"{name}: variable {entry['variable']}: {entry['status']}"
                                          + (f" ({entry.get('error')})" if entry.get("error") else ""))
        for panel in iter_panels(dashboard):
            if panel.get("type") == "alertlist" and active_alerts is not None:
                seen = alert_list_selection(panel, active_alerts, alert_list_datasource, values)
                report["alert_lists"].append({"dashboard": name, "title": panel.get("title", ""), **seen})
                if not seen["selected"]:
                    report["failures"].append(
                        f"{name}: {panel.get('title', '')}: the alert list selects none of the {len(active_alerts)} "
                        f"active alerts (options.datasource {seen['datasource']!r}, data source {alert_list_datasource!r})")
                elif seen["firing_of_its_alerts"] and not seen["shown"]:
                    report["failures"].append(f"{name}: {panel.get('title', '')}: its label filter keeps none of "
                                              f"{', '.join(seen['firing_of_its_alerts'])}")
                continue
            targets = [t for t in panel.get("targets") or [] if t.get("expr") and not t.get("hide")]
            if not targets:
                continue
            title = panel.get("title", "")
            results = []
            for query in targets:
                expr = substitute(query["expr"], values)
                instant = classify(*client.call("/api/v1/query", {"query": expr, "time": str(now)}))
                ranged = classify(*client.call("/api/v1/query_range", {
                    "query": expr, "start": str(now - range_seconds), "end": str(now), "step": str(step)}))
                if "error" in (instant["status"], ranged["status"]):
                    status = "error"
                elif "data" in (instant["status"], ranged["status"]):
                    status = "data"
                else:
                    status = "empty"
                results.append({"refId": query.get("refId"), "expr": query["expr"], "query": expr, "status": status,
                                "instant": instant, "range": ranged})
            statuses = {r["status"] for r in results}
            status = "error" if "error" in statuses else "data" if "data" in statuses else "empty"
            why = expected_empty(expectations.get((name, title)), dialect, absent_jobs)
            panel_entry = {"dashboard": name, "uid": dashboard.get("uid"), "title": title, "status": status,
                           "expected_empty": why, "targets": results}
            report["panels"].append(panel_entry)
            if status == "error":
                errors = "; ".join(f"{r['refId']}: {(r['instant'].get('error') or r['range'].get('error'))}"
                                   for r in results if r["status"] == "error")
                report["failures"].append(f"{name}: {title}: error ({errors})")
            elif status == "empty" and not why:
                report["failures"].append(f"{name}: {title}: empty")
    summary = {"panels": len(report["panels"])}
    for key in ("data", "empty", "error"):
        summary[key] = sum(1 for p in report["panels"] if p["status"] == key)
    summary["expected_empty"] = sum(1 for p in report["panels"] if p["status"] == "empty" and p["expected_empty"])
    summary["failures"] = len(report["failures"])
    report["summary"] = summary
    return report


def parse_vars(items) -> dict:
    given = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"--var needs name=value: {item}")
        given[name] = [v for v in value.split(",") if v] or [""]
    return given


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("dashboards", nargs="*", type=Path,
                        help="dashboard files or folders (default: files/dashboards)")
    parser.add_argument("--prometheus", help="base URL of the Prometheus server, e.g. http://127.0.0.1:9090")
    parser.add_argument("--dialect", choices=DIALECTS,
                        help="the connectors are all of this dialect: the other dialect's panels may be empty")
    parser.add_argument("--absent-job", action="append", default=[], metavar="JOB",
                        help="a scrape job this deployment does not have (optional_jobs of dialect_only.yml)")
    parser.add_argument("--scrape-interval", default="15s", help="Prometheus' scrape interval (default 15s)")
    parser.add_argument("--range", default="10m", help="range query window and $__range (default 10m)")
    parser.add_argument("--max-data-points", type=int, default=1000, help="for $__interval (default 1000)")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=V1[,V2]",
                        help="values of a dashboard variable (default: All)")
    parser.add_argument("--user", default=os.environ.get("PROMETHEUS_BASIC_AUTH"),
                        help="basic auth as name:password (default: $PROMETHEUS_BASIC_AUTH)")
    parser.add_argument("--ca-file", help="CA bundle for an https Prometheus")
    parser.add_argument("--insecure", action="store_true", help="do not verify the server's certificate")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.add_argument("--expectations", type=Path, default=DEFAULT_EXPECTATIONS,
                        help="expected-empty panels (default: tools/dashboards/dialect_only.yml)")
    parser.add_argument("--alert-list-datasource", metavar="NAME",
                        help="apply each alert list panel to Prometheus' active alerts, as the data source NAME")
    parser.add_argument("--output", type=Path, help="write the JSON report here instead of stdout")
    parser.add_argument("--record", type=Path, help="save every exchange with Prometheus to this file")
    parser.add_argument("--replay", type=Path, help="answer from a --record file instead of a server")
    args = parser.parse_args(argv)
    if not args.prometheus and not args.replay:
        parser.error("--prometheus (or --replay) is required")

    client = Client(args.prometheus, auth=args.user, ca_file=args.ca_file, insecure=args.insecure,
                    timeout=args.timeout, record=args.record, replay=args.replay)
    try:
        report = run(client, load_dashboards(args.dashboards), dialect=args.dialect, absent_jobs=set(args.absent_job),
                     given=parse_vars(args.var), scrape_interval=parse_duration(args.scrape_interval),
                     range_seconds=parse_duration(args.range), max_data_points=args.max_data_points,
                     expectations=load_expectations(args.expectations),
                     alert_list_datasource=args.alert_list_datasource)
    except PrometheusUnreachable as exc:
        print(f"panel_queries: Prometheus unreachable: {exc}", file=sys.stderr)
        return 2
    report["prometheus"] = args.prometheus or f"replay of {args.replay}"
    if args.record:
        client.save(args.record)
    text = json.dumps(report, indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    summary = report["summary"]
    print(f"panel_queries: {summary['panels']} panels: {summary['data']} with data, {summary['empty']} empty "
          f"({summary['expected_empty']} expected), {summary['error']} errors; {summary['failures']} failures",
          file=sys.stderr)
    for seen in report["alert_lists"]:
        print(f"  alert list {seen['dashboard']} / {seen['title']}: {seen['selected']} active alerts selected, "
              f"{seen['shown']} shown ({', '.join(seen['shown_alerts']) or 'none'})", file=sys.stderr)
    for failure in report["failures"]:
        print(f"  FAIL {failure}", file=sys.stderr)
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
