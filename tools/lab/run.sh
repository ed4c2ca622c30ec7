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
  # Each payment is the root span of its trace, sent to the lab's Jaeger like the connectors' spans.
  (cd "$tool" && node send.js --sender "btp+ws://alice:secret@$(ip ilp-lab-connector-1):7768" \
     --receiver "btp+ws://bob:secret@$(ip ilp-lab-connector-2):7768" --receiver-address test.lab2.kids.bob \
     --otlp-endpoint "http://$(ip ilp-lab-monitoring):4318/v1/traces" \
     --packets 20 --amount 1000 --max-seconds 30 --json > "$traffic") || echo "lab: the ILP payments failed, see $traffic"
fi

python3 tools/lab/report.py inventories/lab/hosts.yml "$traffic" | tee "$top/lab-report.txt"
echo "lab: converged in $((converged - start)) s (wall time of this command: $(( $(date +%s) - start )) s)"
