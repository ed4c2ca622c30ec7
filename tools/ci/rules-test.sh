#!/usr/bin/env bash
# Test the Prometheus rules shipped with the collection:
#   1. render roles/prometheus/templates/rules/*.rules.yml.j2 with the role's defaults through
#      Ansible itself (tools/ci/render-rules.yml) into build/rules/,
#   2. promtool check rules on every rendered file,
#   3. promtool test rules on every tests/rules/*.test.yml (they load ../../build/rules/*.yml).
# promtool comes from the release mirror's Prometheus archive (the version the role pins, from
# roles/prometheus/defaults/main/main.yml, else 3.16.0), unpacked once under the cache folder.
# Ends with "rules-test: N passed, M failed": one item per rule file check and per test group.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
cache=${ILP_CACHE_DIR:-$HOME/.cache/ilp-observability}
if [ -d "$top/.venv/bin" ]; then export PATH="$top/.venv/bin:$PATH"; fi

version=3.16.0
if [ -f roles/prometheus/defaults/main/main.yml ]; then
  v=$(sed -nE 's/^prometheus_version:[[:space:]]*["'\'']?([0-9][0-9A-Za-z.+-]*)["'\'']?[[:space:]]*(#.*)?$/\1/p' roles/prometheus/defaults/main/main.yml | head -n1)
  version=${v:-$version}
fi
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "rules-test: unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac

promtool="$cache/promtool-$version/promtool"
if [ ! -x "$promtool" ]; then
  archive="$cache/mirror/prometheus/prometheus/releases/download/v$version/prometheus-$version.linux-$arch.tar.gz"
  if [ ! -f "$archive" ]; then
    echo "rules-test: $archive missing; building it into the release mirror" >&2
    python3=$(command -v python || command -v python3)
    "$python3" tools/release-mirror/build.py prometheus
  fi
  tmp=$(mktemp -d)
  tar -xzf "$archive" -C "$tmp" "prometheus-$version.linux-$arch/promtool"
  mkdir -p "$cache/promtool-$version"
  mv "$tmp/prometheus-$version.linux-$arch/promtool" "$promtool"
  rm -rf "$tmp"
fi
echo "rules-test: $("$promtool" --version 2>&1 | head -n1)"

build="$top/build/rules"
rm -rf "$build"
mkdir -p "$build"
echo "rules-test: rendering rule templates into build/rules"
ANSIBLE_COLLECTIONS_PATH="$top/collections" ANSIBLE_FORCE_COLOR=false ANSIBLE_NOCOLOR=true ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
  ansible-playbook -i localhost, tools/ci/render-rules.yml -e "rules_dest=$build" >"$build.render.log" 2>&1 || {
  cat "$build.render.log" >&2
  echo "rules-test: 0 passed, 1 failed (rendering)"
  exit 1
}

passed=0
failed=0
shopt -s nullglob
rule_files=("$build"/*.yml)
if [ ${#rule_files[@]} -eq 0 ]; then
  echo "rules-test: no rule files rendered" >&2
  echo "rules-test: 0 passed, 1 failed"
  exit 1
fi
for f in "${rule_files[@]}"; do
  if out=$("$promtool" check rules "$f" 2>&1); then
    passed=$((passed + 1))
    echo "  ok    check rules $(basename "$f")"
  else
    failed=$((failed + 1))
    echo "  FAIL  check rules $(basename "$f")"
    printf '%s\n' "$out" | sed 's/^/        /'
  fi
done

# One promtool run per test file, with a JUnit report to count its test groups.
for t in tests/rules/*.test.yml; do
  junit=$(mktemp)
  if out=$("$promtool" test rules --junit="$junit" "$t" 2>&1); then rc=0; else rc=$?; fi
  read -r total bad < <(python3 - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 0)
    raise SystemExit
cases = root.findall(".//testcase")
bad = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
print(len(cases), bad)
PY
)
  rm -f "$junit"
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=$((bad + 1)); total=$((total + 1)); fi  # file-level error
  passed=$((passed + total - bad))
  failed=$((failed + bad))
  if [ "$rc" -eq 0 ]; then
    echo "  ok    test rules $(basename "$t"): $total group(s)"
  else
    echo "  FAIL  test rules $(basename "$t"): $bad of $total group(s) failed"
    printf '%s\n' "$out" | sed 's/^/        /'
  fi
done

echo "rules-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
