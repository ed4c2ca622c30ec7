#!/usr/bin/env bash
# Build the collection tarball, check it the way Galaxy does (galaxy-importer: no warning, no
# error), install it the way users do, and check that its playbooks and role documentation load
# from the installed copy (not from this checkout).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top"
ansible-galaxy collection build --force --output-path "$work" . >/dev/null
tarball=$(ls "$work"/ilp-observability-*.tar.gz)
# What galaxy.yml's build_ignore keeps out: development and test files, and the clone's site.yml.
if tar -tzf "$tarball" | grep -E '^(collections|tools|tests|extensions/molecule|inventories/lab|\.venv|\.ci)/|^(site\.yml|Makefile|requirements-dev\.txt)$' >&2; then
  echo "package: development files leaked into $tarball" >&2; exit 1
fi
# Galaxy's view of the tarball: galaxy-importer with tools/ci/galaxy-importer.cfg (ansible-lint
# and ansible-doc on, ansible-test off). It exits 0 after warnings and most errors, so its
# WARNING and ERROR lines decide; importer_result.json lands in $work.
importer_log="$work/galaxy-importer.log"
importer_rc=0
(cd "$work" && GALAXY_IMPORTER_CONFIG="$top/tools/ci/galaxy-importer.cfg" \
  python3 -m galaxy_importer.main "$tarball") >"$importer_log" 2>&1 || importer_rc=$?
importer_version=$(sed -n 's/^Importing with galaxy-importer //p' "$importer_log")
warnings=$(grep -c '^WARNING' "$importer_log" || true)
errors=$(grep -c '^ERROR' "$importer_log" || true)
if [ "$importer_rc" -ne 0 ] || [ "$warnings" -ne 0 ] || [ "$errors" -ne 0 ] ||
  ! grep -q '^Importer processing completed successfully' "$importer_log"; then
  cat "$importer_log" >&2
  echo "package: galaxy-importer ${importer_version:-?} on $(basename "$tarball"): $warnings warnings, $errors errors (exit $importer_rc)" >&2
  exit 1
fi
export ANSIBLE_COLLECTIONS_PATH="$work/installed"
ansible-galaxy collection install --force -p "$work/installed" "$tarball" >/dev/null
cd "$work"   # away from the checkout and its playbook-adjacent collections/ folder
ansible-playbook ilp.observability.site -i "$top/inventories/lab/hosts.yml" --syntax-check >/dev/null
ansible-playbook ilp.observability.site -i "$top/inventories/prod/hosts.yml" --list-tasks >/dev/null
for role in $(ls "$work/installed/ansible_collections/ilp/observability/roles"); do
  ansible-doc -t role "ilp.observability.$role" >/dev/null
done
echo "package: $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB) installs; site playbook and role docs load from the installed copy; galaxy-importer $importer_version: $warnings warnings, $errors errors"
