#!/usr/bin/env bash
# Run ansible-test on a copy of the collection laid out as ansible_collections/ilp/observability
# (ansible-test requires that path). Arguments go to ansible-test, e.g. `sanity --python 3.11`.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${ILP_CACHE_DIR:-$HOME/.cache/ilp-observability}/ansible-test
dest="$work/ansible_collections/ilp/observability"
rm -rf "$dest" && mkdir -p "$dest"
cd "$top"
# Tracked and new files, without the playbook-adjacent collections/ link back to the root.
git ls-files -co --exclude-standard -z | grep -zv '^collections/' | tar --null -T - -cf - | tar -xf - -C "$dest"
cd "$dest"
git init -q && git add -A >/dev/null  # ansible-test lists files through git when it can
if [ "$1" = units ] && [ ! -d tests/unit/plugins ]; then
  echo "ansible-test units: no unit tests for plugins yet"
  exit 0
fi
# ansible-test installs its own pinned test requirements (pylint, voluptuous, ...): keep them
# out of the project venv, in one of their own keyed by the ansible-core version.
core=$(grep -E '^ansible-core==' "$top/requirements-dev.txt" | cut -d= -f3)
venv="${ILP_CACHE_DIR:-$HOME/.cache/ilp-observability}/venv-ansible-test-$core"
if [ ! -x "$venv/bin/ansible-test" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "ansible-core==$core" pytest
fi
export PATH="$venv/bin:$PATH"
exec ansible-test "$@" --requirements --color no
