#!/usr/bin/env bash
# Serve the release mirror over HTTP from a container on the project network:
#   http://ilp-mirror:8080/ from the test hosts, http://127.0.0.1:18080/ from this machine.
# Idempotent: an already running mirror container is left alone.
set -euo pipefail
cache=${ILP_CACHE_DIR:-$HOME/.cache/ilp-observability}
network=${ILP_TEST_NETWORK:-ilp-observability}
image=${ILP_TEST_IMAGE:-ilp-observability/debian}:12
port=${ILP_MIRROR_PORT:-18080}
mkdir -p "$cache/mirror"
# Keep a running mirror only if it serves this cache folder.
if [ "$(docker inspect -f '{{.State.Running}}' ilp-mirror 2>/dev/null)" = true ] \
   && [ "$(docker inspect -f '{{range .Mounts}}{{.Source}}{{end}}' ilp-mirror)" = "$cache/mirror" ]; then
  exit 0
fi
docker rm -f ilp-mirror >/dev/null 2>&1 || true
docker run -d --name ilp-mirror --network "$network" --network-alias mirror \
  -p "127.0.0.1:$port:8080" -v "$cache/mirror:/srv/mirror:ro" \
  --restart unless-stopped "$image" \
  python3 -m http.server 8080 --bind 0.0.0.0 --directory /srv/mirror >/dev/null
for _ in $(seq 1 30); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/" && exit 0
  sleep 0.5
done
echo "release mirror did not answer on 127.0.0.1:$port" >&2
exit 1
