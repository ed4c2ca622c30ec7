#!/usr/bin/env bash
# Install tools/ilp-traffic outside the work tree, once per package-lock.json, and print the
# folder to run `node send.js` in. Used by the lab and the full-stack Molecule scenario (extensions/molecule/stack).
#   dir=$(tools/ilp-traffic/install.sh)
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
cache=${ILP_CACHE_DIR:-$HOME/.cache/ilp-observability}
key=$(cat "$src/package-lock.json" "$src/package.json" | sha256sum | cut -c1-16)
dir="$cache/ilp-traffic/$key"
if [ ! -f "$dir/node_modules/.package-lock.json" ]; then
  mkdir -p "$dir"
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  # Behind a TLS-intercepting proxy npm needs the system CA bundle.
  [ -f /etc/ssl/certs/ca-certificates.crt ] && export NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
  (cd "$dir" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2)
fi
cp "$src/send.js" "$dir/"
echo "$dir"
