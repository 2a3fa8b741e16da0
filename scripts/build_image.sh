#!/usr/bin/env bash
# Build the connector image as airbyte/source-customerio:dev (or $IMAGE).
#
# It builds on the base image the Dockerfile pins when that can be pulled. Where it cannot (no access
# to Docker Hub), it builds on a stand-in with the same layout: Debian bookworm from debootstrap,
# Python 3.11 answering at /usr/local/bin, the user `airbyte`, and this machine's CA bundle. Only the
# Dockerfile's FROM lines differ, through the BASE_IMAGE build argument.
#
# Needs a Docker daemon. Builds use the host's network, so no container gets an address of its own;
# a daemon started with `dockerd --bridge=none --iptables=false` is enough.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-airbyte/source-customerio:dev}
STANDIN=source-customerio-standin-base:bookworm-py3.11
ROOTFS=.cache/standin-rootfs
PINNED=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)

if ! docker info >/dev/null 2>&1; then
  echo "No Docker daemon answers. Start one, e.g.: dockerd --bridge=none --iptables=false &" >&2
  exit 1
fi

build_standin() {
  if [ ! -x "$ROOTFS/usr/bin/python3.11" ]; then
    echo "Building the stand-in root file system in $ROOTFS (debootstrap, a few minutes)..."
    debootstrap --variant=minbase --include=python3.11,python3-pip,ca-certificates \
      bookworm "$ROOTFS" http://deb.debian.org/debian
  fi
  ln -sf /usr/bin/python3.11 "$ROOTFS/usr/local/bin/python"
  ln -sf /usr/bin/python3.11 "$ROOTFS/usr/local/bin/python3"
  ln -sf /usr/bin/pip3 "$ROOTFS/usr/local/bin/pip"
  # The base image's Python owns /usr/local; Debian's refuses system installs without this.
  rm -f "$ROOTFS/usr/lib/python3.11/EXTERNALLY-MANAGED"
  chroot "$ROOTFS" id airbyte >/dev/null 2>&1 || chroot "$ROOTFS" useradd --create-home --uid 1000 airbyte
  cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$ROOTFS/etc/pip.conf"
  tar -C "$ROOTFS" -c . | docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - "$STANDIN" >/dev/null
}

BASE=${BASE_IMAGE:-}
if [ -z "$BASE" ]; then
  if docker pull -q "$PINNED" >/dev/null 2>&1; then
    BASE=$PINNED
  else
    echo "The pinned base image cannot be pulled here; building on the stand-in $STANDIN."
    docker image inspect "$STANDIN" >/dev/null 2>&1 || build_standin
    BASE=$STANDIN
  fi
fi

docker build --network host --build-arg "BASE_IMAGE=$BASE" -t "$IMAGE" .
echo "Built $IMAGE on $BASE."
