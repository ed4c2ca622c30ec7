#!/usr/bin/env bash
# Run ansible-test on a copy of the collection laid out as ansible_collections/ilp/observability
# (ansible-test requires that path). Arguments go to ansible-test, e.g. `sanity --python 3.11`.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
# A copy per run: two runs at once (make test's checks and a hand-run sanity) must not delete
# each other's working folder.
cache=${ILP_CACHE_DIR:-$HOME/.cache/ilp-observability}
mkdir -p "$cache"
work=$(mktemp -d "$cache/ansible-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/ilp/observability"
mkdir -p "$dest"
cd "$top"
# Tracked and new files: the collection's content, without the development tools/ (not shipped,
# see build_ignore) and the playbook-adjacent collections/ link back to the root.
git ls-files -co --exclude-standard -z | grep -zvE '^(collections|tools)/' | tar --null -T - -cf - | tar -xf - -C "$dest"
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
# ansible-test bootstraps pip in its test venvs with a get-pip script from a host that is not
# reachable here; this stand-in does the same with ensurepip and PyPI.
pip_version=$(grep -ohE "pip='[0-9.]+'" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | grep -oE '[0-9.]+' | head -n1 || true)
if [ -n "$pip_version" ]; then
  get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  if [ ! -f "$get_pip" ]; then
    mkdir -p "$(dirname "$get_pip")"
    cat >"$get_pip" <<'PY'
"""Stand-in for get-pip.py: ensurepip, then pip install with the given arguments."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
PY
  fi
fi
export PATH="$venv/bin:$PATH"
status=0
ansible-test "$@" --requirements --color no || status=$?
exit "$status"
