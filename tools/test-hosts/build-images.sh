#!/usr/bin/env bash
# Build the project's systemd test-host images (Debian 11, 12, 13) with debootstrap, start
# Debian's dockerd when no Docker engine answers, and create the project network.
#
#   tools/test-hosts/build-images.sh [11 12 13]
#
# Root file systems are cached as tarballs under $ILP_CACHE_DIR/images, keyed by a hash of this
# script, so a rebuild only happens when the recipe changes; `docker import` of a cached tarball
# takes seconds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${ILP_CACHE_DIR:-$HOME/.cache/ilp-observability}/images
network=${ILP_TEST_NETWORK:-ilp-observability}
subnet=${ILP_TEST_SUBNET:-172.30.0.0/24}
image_repo=${ILP_TEST_IMAGE:-ilp-observability/debian}
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(11 12 13)
mkdir -p "$cache"

log() { printf '[test-hosts] %s\n' "$*" >&2; }

codename() {
  case "$1" in
    11) echo bullseye ;; 12) echo bookworm ;; 13) echo trixie ;;
    *) log "unknown Debian release $1"; exit 2 ;;
  esac
}

debian_mirror() {
  # The Debian archive URL the host itself uses (deb822 or one-line sources).
  local url
  url=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
        | grep -v security | head -n1 | awk '{print $2}')
  echo "${url:-http://deb.debian.org/debian}"
}

ensure_engine() {
  if docker info >/dev/null 2>&1; then return; fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
    log "installing docker.io and debootstrap from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    nohup dockerd >/var/log/ilp-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { log "dockerd did not answer, see /var/log/ilp-dockerd.log"; exit 1; }
  fi
}

ensure_network() {
  if ! docker network inspect "$network" >/dev/null 2>&1; then
    log "creating docker network $network ($subnet)"
    docker network create --subnet "$subnet" "$network" >/dev/null
  fi
}

# What goes into a root file system; change rootfs_recipe_version when build_release's
# debootstrap part changes, so cached tarballs are rebuilt.
rootfs_recipe_version=1
packages=systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,ca-certificates,sudo,procps,curl,unzip,xz-utils,tar,gzip,locales
recipe_hash=$( { echo "$rootfs_recipe_version $packages"; cat /etc/ssl/certs/ca-certificates.crt; } | sha256sum | cut -c1-12)

build_release() {
  local release=$1 name tarball rootfs
  name=$(codename "$release")
  tarball="$cache/debian-$release-$recipe_hash.tar"
  if docker image inspect "$image_repo:$release" >/dev/null 2>&1 \
     && [ "$(docker image inspect -f '{{ index .Config.Labels "ilp.recipe" }}' "$image_repo:$release")" = "$recipe_hash" ]; then
    log "image $image_repo:$release is current"
    return
  fi
  if [ ! -s "$tarball" ]; then
    rootfs=$(mktemp -d "$cache/rootfs-$release.XXXX")
    # The Debian archive (or the proxy before it) sometimes answers a Release file or its
    # signature wrongly for a moment ("Invalid Release signature", "Failed getting release
    # signature file"): up to three attempts, each from an empty folder.
    local attempt
    for attempt in 1 2 3; do
      log "debootstrap $name into $rootfs (attempt $attempt)"
      if debootstrap --variant=minbase \
           --include="$packages" \
           "$name" "$rootfs" "$(debian_mirror)" >"$rootfs.log" 2>&1; then
        break
      fi
      tail -n 5 "$rootfs.log" >&2
      if [ "$attempt" = 3 ]; then tail -n 30 "$rootfs.log" >&2; exit 1; fi
      rm -rf "$rootfs" && mkdir -p "$rootfs"
      sleep $((attempt * 5))
    done
    # Trust the host's CA bundle (HTTPS goes through an intercepting proxy here).
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/usr/local/share/ca-certificates/host-bundle.crt"
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1 || true
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    # A container needs no getty, no udev triggers, no kernel-related units.
    for unit in getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \
                systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount \
                systemd-remount-fs.service apt-daily.timer apt-daily-upgrade.timer; do
      ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
    done
    echo 'LANG=C.UTF-8' >"$rootfs/etc/default/locale"
    : >"$rootfs/etc/machine-id"
    rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
    tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs" "$rootfs.log"
  fi
  log "importing $image_repo:$release"
  docker import \
    -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
    -c "LABEL ilp.recipe=$recipe_hash" \
    "$tarball" "$image_repo:$release" >/dev/null
  # Old tarballs of this release are useless once the recipe changed.
  find "$cache" -maxdepth 1 -name "debian-$release-*.tar" ! -name "debian-$release-$recipe_hash.tar" -delete
}

ensure_engine
ensure_network
pids=()
for release in "${releases[@]}"; do
  build_release "$release" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
