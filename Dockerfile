# jitsi-token-service container image.
# Base image is a build arg so offline CI can use a local stand-in:
#   podman build --build-arg NODE_IMAGE=localhost/node:20-local ...   (see ci/build-image.sh)
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
# Path to a CA bundle for a TLS-intercepting egress proxy, mounted at build time only
# (`-v host-ca.crt:/run/host-ca.crt:ro --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt`).
# An ARG is not kept in the image's environment; empty is harmless.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --update-notifier=false
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and dist/ only ----
FROM ${NODE_IMAGE} AS runtime
ARG NODE_EXTRA_CA_CERTS
ENV NODE_ENV=production
# V8's young generation is capped at 2 MB semi-spaces (default 16 MB): RSS after 1 M visits stays at
# ~95 MB instead of ~122 MB for a few % more scavenging CPU (docs/performance.md). npm run bench
# runs the service with this same line.
ENV NODE_OPTIONS=--max-semi-space-size=2
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --update-notifier=false \
 && rm -rf /root/.npm /tmp/* \
 && (getent passwd 1000 >/dev/null || (groupadd -g 1000 node && useradd -u 1000 -g node -M -s /usr/sbin/nologin node))
COPY --from=build /app/dist ./dist
# Everything under /app stays root-owned and read-only to the app; the process writes
# nothing to disk, so the container runs with a read-only root filesystem.
# Numeric UID so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 1000:1000
# 3000: API + probes (PORT); 9464: Prometheus metrics when METRICS_PORT=9464
EXPOSE 3000 9464
# Exec form: node is PID 1 and receives SIGTERM directly (graceful drain in src/server.ts).
CMD ["node", "dist/server.js"]
