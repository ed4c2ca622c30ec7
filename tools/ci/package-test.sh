#!/usr/bin/env bash
# Build the collection tarball, install it the way users do, and check that its playbooks and
# role documentation load from the installed copy (not from this checkout).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top"
ansible-galaxy collection build --force --output-path "$work" . >/dev/null
tarball=$(ls "$work"/ilp-observability-*.tar.gz)
if tar -tzf "$tarball" | grep -qE '^(collections|tools|\.venv|\.ci)/'; then
  echo "package: development files leaked into $tarball" >&2; exit 1
fi
export ANSIBLE_COLLECTIONS_PATH="$work/installed"
ansible-galaxy collection install --force -p "$work/installed" "$tarball" >/dev/null
cd "$work"   # away from the checkout and its playbook-adjacent collections/ folder
ansible-playbook ilp.observability.site -i "$top/inventories/lab/hosts.yml" --syntax-check >/dev/null
ansible-playbook ilp.observability.site -i "$top/inventories/prod/hosts.yml" --list-tasks >/dev/null
for role in $(ls "$work/installed/ansible_collections/ilp/observability/roles"); do
  ansible-doc -t role "ilp.observability.$role" >/dev/null
done
echo "package: $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB) installs; site playbook and role docs load from the installed copy"
