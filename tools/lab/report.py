#!/usr/bin/env python3
"""Print what runs where in the lab, and the URLs reachable from this machine.

    report.py inventories/lab/hosts.yml

For every lab host: its address on the project network, the ilp.observability services that
are active on it (systemd), and for each service the URL this machine can open, probed once.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

# service -> (port, path, description). Extended as roles are added.
SERVICES = {
    "node_exporter": (9100, "/metrics", "host metrics"),
    "prometheus": (9090, "/-/ready", "Prometheus"),
    "alertmanager": (9093, "/-/ready", "Alertmanager"),
    "grafana": (3000, "/api/health", "Grafana"),
    "loki": (3100, "/ready", "Loki"),
    "alloy": (12345, "/-/ready", "Grafana Alloy"),
    "jaeger": (16686, "/", "Jaeger UI and query API"),
    "ilp-connector": (7780, "/status", "ILP connector admin API"),
}


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def lab_hosts(inventory: str) -> list[str]:
    out = subprocess.run(["ansible-inventory", "-i", inventory, "--list"], check=True,
                         capture_output=True, text=True).stdout
    return sorted(json.loads(out)["_meta"]["hostvars"].keys())


def probe(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return str(resp.status)
    except urllib.error.HTTPError as exc:  # 401 behind basic auth still proves it answers
        return str(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        return f"unreachable ({exc})"


def prometheus_summary(base: str) -> list[str]:
    """Targets by health and the alerts firing now, from Prometheus' API. Right after a
    (re)start Prometheus has not scraped yet: wait up to 30 s for every target's first scrape."""
    deadline = time.monotonic() + 30
    try:
        while True:
            with urllib.request.urlopen(f"{base}/api/v1/targets?state=active", timeout=5) as resp:
                targets = json.load(resp)["data"]["activeTargets"]
            if (targets and all(t["health"] != "unknown" for t in targets)) or time.monotonic() > deadline:
                break
            time.sleep(2)
        with urllib.request.urlopen(f"{base}/api/v1/alerts", timeout=5) as resp:
            alerts = json.load(resp)["data"]["alerts"]
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        return [f"    (Prometheus API not readable: {exc})"]
    out = []
    for job in sorted({t["labels"]["job"] for t in targets}):
        mine = [t for t in targets if t["labels"]["job"] == job]
        up = sum(t["health"] == "up" for t in mine)
        out.append(f"    scrape job {job:<13} {up}/{len(mine)} up")
    firing = sorted({a["labels"]["alertname"] for a in alerts if a["state"] == "firing"})
    out.append(f"    alerts firing: {', '.join(firing) or 'none'}")
    return out


def main() -> int:
    hosts = lab_hosts(sys.argv[1] if len(sys.argv) > 1 else "inventories/lab/hosts.yml")
    lines = ["", "ilp.observability lab", "=" * 21]
    ok = True
    for host in hosts:
        info = json.loads(docker("inspect", host))[0]
        nets = info["NetworkSettings"]["Networks"]
        address = next(iter(nets.values()))["IPAddress"] if nets else "?"
        release = docker("exec", host, "cat", "/etc/debian_version").strip()
        lines.append(f"{host}  {address}  (Debian {release})")
        for service, (port, path, what) in SERVICES.items():
            state = subprocess.run(["docker", "exec", host, "systemctl", "is-active", service],
                                   capture_output=True, text=True).stdout.strip()
            if state != "active":
                continue
            url = f"http://{address}:{port}{path}"
            status = probe(url)
            ok &= status in ("200", "401")
            lines.append(f"  {service:<14} {what:<26} {url}  -> HTTP {status}")
            if service == "prometheus":
                lines += prometheus_summary(f"http://{address}:{port}")
    lines += ["", "node_exporter asks for basic auth in the lab: user prometheus, password in",
              "inventories/lab/group_vars/all/main.yml (production inventories take it from Vault).", ""]
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
