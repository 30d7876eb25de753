#!/usr/bin/env bash
# Container engine for CI and dev boxes without Docker (tooling.md §4), idempotent:
#   1. podman + friends from Debian's packages (apt-get update only when something is missing)
#   2. localhost/debian:bookworm-local from debootstrap (no registry is reachable)
#   3. localhost/node:20-local: that Debian plus the host's own Node 20 and npm
#   4. `podman system service` on /run/podman/podman.sock (Docker API for testcontainers)
# It exports nothing; it prints the variables to export. Run as root on Debian 12.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/ci/containers.conf}
SOCK=/run/podman/podman.sock
DEBIAN_IMAGE=localhost/debian:bookworm-local
NODE_IMAGE=localhost/node:20-local
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
LOG=${PODMAN_SERVICE_LOG:-/var/log/podman-service.log}

say () { printf '[podman-setup] %s\n' "$*" >&2; }
t0=$SECONDS

if [ "$(id -u)" -ne 0 ]; then
  say "must run as root (rootful podman, apt-get, /run/podman)"; exit 1
fi

# --- 1. packages ---------------------------------------------------------------
PKGS=(podman buildah runc slirp4netns netavark aardvark-dns containernetworking-plugins
      uidmap iptables fuse-overlayfs debootstrap debian-archive-keyring busybox-static)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "packages already installed"
fi

hard_nofile=$(ulimit -Hn)
if [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt 20000 ]; then
  say "WARNING: host hard nofile limit is $hard_nofile (< 20000 in ci/containers.conf); containers may fail to start"
fi

# --- 2. Debian base image --------------------------------------------------------
if podman image exists "$DEBIAN_IMAGE"; then
  say "$DEBIAN_IMAGE exists, reusing"
else
  say "debootstrap bookworm (minbase) from $DEBIAN_MIRROR"
  work=$(mktemp -d /var/tmp/debian-rootfs.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase bookworm "$work/rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" -c . | podman import \
    --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$work"; trap - EXIT
  say "$DEBIAN_IMAGE imported"
fi

# --- 3. Node 20 base image (stand-in for node:20-bookworm-slim) --------------------
# Debian 12's nodejs is 18, and no registry is reachable, so copy the host's Node in.
# The image is labelled with the Node version and rebuilt when the host's Node changes.
host_node=$(node -p 'process.version')
case "$host_node" in v20.*) ;; *) say "host Node is $host_node, expected v20.x"; exit 1 ;; esac
have_node=$(podman image inspect --format '{{ index .Labels "local.node.version" }}' "$NODE_IMAGE" 2>/dev/null || true)
if [ "$have_node" = "$host_node" ]; then
  say "$NODE_IMAGE ($host_node) exists, reusing"
else
  say "building $NODE_IMAGE from the host's node $host_node"
  ctx=$(mktemp -d /var/tmp/nodeimg.XXXXXX)
  trap 'rm -rf "$ctx"' EXIT
  cp "$(readlink -f "$(command -v node)")" "$ctx/node"
  cp -a "$(npm root -g 2>/dev/null)/npm" "$ctx/npm"
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
LABEL local.node.version="$host_node"
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/sh node \\
 && node --version && npm --version
CMD ["node"]
EOF
  podman build --runtime runc --format docker -q -t "$NODE_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"; trap - EXIT
  say "$NODE_IMAGE built"
fi

# --- 4. Docker API socket ----------------------------------------------------------
ping_socket () {
  node -e '
    const req = require("node:http").get({ socketPath: process.argv[1], path: "/_ping", timeout: 2000 },
      (res) => process.exit(res.statusCode === 200 ? 0 : 1))
    req.on("error", () => process.exit(1)); req.on("timeout", () => process.exit(1))' "$SOCK"
}
if ping_socket; then
  say "podman system service already answers on $SOCK"
else
  mkdir -p "$(dirname "$SOCK")"
  rm -f "$SOCK"
  say "starting podman system service on $SOCK (log: $LOG)"
  # setsid + nohup: the service outlives this script (CI keeps it for `npm test`).
  CONTAINERS_CONF=$CONTAINERS_CONF setsid nohup podman system service --time=0 "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 50); do ping_socket && break; sleep 0.2; done
  ping_socket || { say "podman system service did not come up"; tail -n 20 "$LOG" >&2; exit 1; }
fi

say "ready in $((SECONDS - t0)) s ($(podman --version))"
cat <<EOF
# export these before ci/build-image.sh and npm test:
export CONTAINERS_CONF=$CONTAINERS_CONF
export DOCKER_HOST=unix://$SOCK
export TESTCONTAINERS_RYUK_DISABLED=true
EOF
