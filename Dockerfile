# syntax=docker/dockerfile:1
# kube-fledged: one image, three entrypoints. Build one target per published image:
#   docker buildx build --target controller     -t <repo>/kubefledged-controller:<tag> .
#   docker buildx build --target webhook-server -t <repo>/kubefledged-webhook-server:<tag> .
#   docker buildx build --target cri-client     -t <repo>/kubefledged-cri-client:<tag> .
# (`make release` does all three.) Every image holds /opt/bin/kubefledged-controller,
# /opt/bin/kubefledged-webhook-server and /opt/bin/kubefledged-cri-client; the target only sets the
# ENTRYPOINT. Instructions use paths relative to WORKDIR so that test/e2e/install/image-build.test.ts
# can replay them outside Docker.
ARG NODE_VERSION=20.20.2

# --- build: compile TypeScript to dist/ ---
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# --- production dependencies only ---
FROM node:${NODE_VERSION}-bookworm AS deps
WORKDIR /opt/kube-fledged
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: Node 20 slim, no compiler, no npm cache, non-root ---
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /opt/kube-fledged
COPY package.json ./
COPY --from=deps /opt/kube-fledged/node_modules ./node_modules
COPY --from=build /src/dist ./dist
WORKDIR /opt/bin
# /opt/bin/kubefledged-<name> -> node /opt/kube-fledged/dist/cmd/<name>.js (exec: node is PID 1 and gets the signals)
RUN for name in controller webhook-server cri-client; do \
      printf '#!/bin/sh\nexec node "$(dirname "$0")/../kube-fledged/dist/cmd/%s.js" "$@"\n' "$name" > "kubefledged-$name"; \
      chmod 0755 "kubefledged-$name"; \
    done
WORKDIR /
USER 65532:65532

FROM runtime AS cri-client
ENTRYPOINT ["/opt/bin/kubefledged-cri-client"]

FROM runtime AS webhook-server
EXPOSE 8443
ENTRYPOINT ["/opt/bin/kubefledged-webhook-server"]

FROM runtime AS controller
EXPOSE 8080
ENTRYPOINT ["/opt/bin/kubefledged-controller"]
