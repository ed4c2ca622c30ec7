#!/usr/bin/env bash
# The lab: one monitoring host and two connector hosts as systemd containers on the project
# network, site.yml run against inventories/lab from the collection as `ansible-galaxy` installs
# it, and a report of what runs where.
#   tools/lab/run.sh            create (or reuse) the hosts and converge them
#   tools/lab/run.sh --destroy  remove the lab hosts
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
network=${ILP_TEST_NETWORK:-ilp-observability}
image=${ILP_TEST_IMAGE:-ilp-observability/debian}
cache=${ILP_CACHE_DIR:-$HOME/.cache/ilp-observability}
hosts=(ilp-lab-monitoring:12 ilp-lab-connector-1:11 ilp-lab-connector-2:13)

if [ "${1:-}" = --destroy ]; then
  for h in "${hosts[@]}"; do docker rm -f "${h%%:*}" >/dev/null 2>&1 || true; done
  exit 0
fi

start=$(date +%s)
for h in "${hosts[@]}"; do
  name=${h%%:*} release=${h##*:}
  if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d --name "$name" --hostname "$name" --network "$network" \
      --cap-add SYS_ADMIN --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp "$image:$release" >/dev/null
  fi
done
for h in "${hosts[@]}"; do
  name=${h%%:*}
  for _ in $(seq 1 30); do
    state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 1
  done
done

# Install the collection the way users do, and run its site playbook from there.
collections="$cache/lab-collections"
rm -rf "$collections" "$cache/lab-build" && mkdir -p "$collections" "$cache/lab-build"
ansible-galaxy collection build --force --output-path "$cache/lab-build" . >/dev/null
ansible-galaxy collection install --force -p "$collections" "$cache"/lab-build/ilp-observability-*.tar.gz >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$collections:${ANSIBLE_COLLECTIONS_PATH:-$HOME/.ansible/collections}"
export ANSIBLE_PIPELINING=true ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
# Grafana and Loki join the lab when the release mirror holds their archives (ILP_RELEASES=upstream
# or ILP_RELEASE_DIR; the default mirror never builds them): a second inventory file puts the
# monitoring host in their groups. One line per program says what was added, or why not.
optional="$top/build/lab-optional-groups.yml"
python3 tools/lab/optional_groups.py "$cache/mirror/index.json" "$optional" ilp-lab-monitoring
ansible-playbook ilp.observability.site -i inventories/lab -i "$optional" "$@"
converged=$(date +%s)

# Real ILP payments through both connectors (connector-1's child alice -> connector-2's child
# bob), when this machine has Node.js for tools/ilp-traffic; the report compares what the sender
# saw with what Prometheus counted.
traffic="$cache/lab-traffic.json"
rm -f "$traffic"
if command -v node >/dev/null && tool=$(tools/ilp-traffic/install.sh); then
  ip() { docker inspect -f "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$1"; }
  # ilp-connector creates a packet counter's series at its first increment, and rate() cannot see
  # the jump from no series to the first value: on fresh connectors, two payments first, and the
  # measured ones after a scrape, so the packet-rate graph shows them.
  (cd "$tool" && node send.js --sender "btp+ws://alice:secret@$(ip ilp-lab-connector-1):7768" \
     --receiver "btp+ws://bob:secret@$(ip ilp-lab-connector-2):7768" --receiver-address test.lab2.kids.bob \
     --packets 2 --amount 1000 --max-seconds 20 --json >/dev/null) || echo "lab: the first ILP payments failed"
  sleep 15
  # Each payment is the root span of its trace, sent to the lab's Jaeger like the connectors' spans.
  (cd "$tool" && node send.js --sender "btp+ws://alice:secret@$(ip ilp-lab-connector-1):7768" \
     --receiver "btp+ws://bob:secret@$(ip ilp-lab-connector-2):7768" --receiver-address test.lab2.kids.bob \
     --otlp-endpoint "http://$(ip ilp-lab-monitoring):4318/v1/traces" \
     --packets 20 --amount 1000 --max-seconds 30 --json > "$traffic") || echo "lab: the ILP payments failed, see $traffic"
fi

# The collection's validate playbook against the lab, after the payments (their spans and log
# lines are fresh). Its JSON output gives the report its status table; a failed check makes
# this command fail, after the report.
validate="$cache/lab-validate.json"
validate_rc=0 validate_start=$(date +%s)
env -u ANSIBLE_CALLBACKS_ENABLED ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json \
  ansible-playbook ilp.observability.validate -i inventories/lab -e validate_wait=60 > "$validate" || validate_rc=$?
validate_seconds=$(( $(date +%s) - validate_start ))

# A headless screenshot of the connectors' packet rate in Prometheus' UI (Debian's chromium,
# installed here when missing, like docker.io): the connector-overview dashboard's packet rate panel, whose
# ilp:packets:rate1m rules rate ilp_connector_incoming_ilp_packets by result (the raw counter
# has no _total suffix, so a rate() of it makes the UI show a "might not be a counter" notice
# above the graph). Its last line (what the picture shows, or which check failed) goes into the report.
png=build/lab-connector-packet-rate.png
packet_rate='sum by (nodeId, status) (ilp:packets:rate1m{job="connector"})'
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "lab: installing Debian's chromium for the screenshot"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || echo "lab: chromium could not be installed; the screenshot will say why"
fi
if [ -f tools/lab/screenshot.py ]; then
  mkdir -p build && rm -f "$png"
  shot_rc=0 shot_out=
  if prometheus=$(python3 tools/lab/report.py inventories/lab/hosts.yml --base-url Prometheus); then
    shot_out=$(python3 tools/lab/screenshot.py --prometheus "$prometheus" --expr "$packet_rate" --range 5m --out "$png" 2>&1) || shot_rc=$?
    printf '%s\n' "$shot_out"
  else
    shot_rc=1 shot_out="the inventory has no Prometheus"
  fi
  shot_line=$(printf '%s\n' "$shot_out" | grep -v '^[[:space:]]*$' | tail -n 1)
  if [ "$shot_rc" = 0 ]; then
    shot=(--screenshot "$top/$png" --screenshot-status "OK: $shot_line ($packet_rate)")
  elif [ -f "$png" ]; then
    shot=(--screenshot "$top/$png" --screenshot-status "FAIL (screenshot.py exit $shot_rc): $shot_line")
  else
    shot=(--screenshot-status "FAIL, no screenshot (screenshot.py exit $shot_rc): $shot_line")
  fi
else
  shot=(--screenshot-status "no screenshot: tools/lab/screenshot.py does not exist yet")
fi

report_rc=0
python3 tools/lab/report.py inventories/lab/hosts.yml "$traffic" --validate "$validate" --validate-rc "$validate_rc" \
  "${shot[@]}" | tee "$top/lab-report.txt" || report_rc=$?
echo "lab: converged in $((converged - start)) s, validate $validate_seconds s (wall time of this command: $(( $(date +%s) - start )) s)"
if [ "$validate_rc" != 0 ]; then
  echo "lab: validate failed (ansible-playbook exit $validate_rc), see its table above; its output: $validate"
  exit 1
fi
if [ "${shot_rc:-1}" != 0 ]; then
  echo "lab: the packet-rate screenshot shows no plotted data or could not be taken (screenshot.py exit ${shot_rc:-none}), see above"
  exit 1
fi
exit "$report_rc"
