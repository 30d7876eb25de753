#!/usr/bin/env bash
# Builds the service image with podman (after ci/podman-setup.sh).
#
#   bash ci/build-image.sh              # always build (podman's layer cache keeps a no-op rebuild fast)
#   bash ci/build-image.sh --if-stale   # build only when the image is missing or its sources changed
#                                       # (what test/container/service.test.ts calls)
#
# Env: IMAGE (default localhost/jitsi-token-service:test), NODE_IMAGE (default
# localhost/node:20-local), BUILD_CA_BUNDLE (CA bundle of a TLS-intercepting egress proxy;
# default $NODE_EXTRA_CA_CERTS, else the system bundle), CONTAINERS_CONF (default ci/containers.conf).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/ci/containers.conf}
IMAGE=${IMAGE:-localhost/jitsi-token-service:test}
NODE_IMAGE=${NODE_IMAGE:-localhost/node:20-local}
CA=${BUILD_CA_BUNDLE:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}

say () { printf '[build-image] %s\n' "$*" >&2; }

# Hash of everything the build context contains (see .dockerignore) plus the Dockerfile
# and the base image id, stored as a label so --if-stale can tell a fresh image from an old one.
source_hash () {
  {
    podman image inspect --format '{{.Id}}' "$NODE_IMAGE" 2>/dev/null || echo "no-base"
    find Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json src \
      -type f ! -name '*.test.ts' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-64
}

hash=$(source_hash)
if [ "${1:-}" = "--if-stale" ]; then
  have=$(podman image inspect --format '{{ index .Labels "local.source.hash" }}' "$IMAGE" 2>/dev/null || true)
  if [ "$have" = "$hash" ]; then
    say "$IMAGE is up to date"
    exit 0
  fi
  if [ -n "$have" ]; then say "$IMAGE is stale (sources changed); building"; else say "$IMAGE is missing; building"; fi
elif [ -n "${1:-}" ]; then
  say "unknown argument: $1"; exit 2
fi

podman image exists "$NODE_IMAGE" || { say "$NODE_IMAGE not found: run ci/podman-setup.sh first"; exit 1; }

args=(--format docker --build-arg "NODE_IMAGE=$NODE_IMAGE" --label "local.source.hash=$hash")
if [ -f "$CA" ]; then
  # Mounted for the RUN steps only; never copied into a layer.
  args+=(-v "$CA:/run/host-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt)
fi

start=$(date +%s.%N)
podman build "${args[@]}" -t "$IMAGE" "$ROOT"
end=$(date +%s.%N)

# Each build leaves its build stage behind as an untagged image (~700 MB). Keep the last hour's
# (the layer cache for the next build) and drop older ones so repeated runs do not fill the disk.
podman image prune -f --filter until=1h >/dev/null 2>&1 || true

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
say "built $IMAGE in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s, size $(awk "BEGIN { printf \"%.1f\", $size / 1000000 }") MB ($size bytes)"
