# syntax=docker/dockerfile:1
# kube-fledged: one image (`make image`, `make release`; default target kube-fledged) that holds every
# entrypoint: /opt/bin/kubefledged-controller, /opt/bin/kubefledged-webhook-server and
# /opt/bin/kubefledged-cri-client (delete Jobs run it), plus /usr/local/bin/helm (the chart renderer of
# the operator). Its ENTRYPOINT is the controller; the chart names the command of each Deployment. The
# targets controller, webhook-server and cri-client are the same image with that ENTRYPOINT, for
# those who publish one image per program as the original did.
# Base images are build args: the public Node images by default; `make image IMAGE_BASE=local` builds
# from a base made on this machine (hack/image/) and takes helm from the version-keyed cache.
# Instructions use paths relative to WORKDIR so that test/e2e/install/image-build.test.ts can replay
# them outside Docker.
ARG NODE_VERSION=20.20.2
ARG HELM_VERSION=3.22.0
ARG GO_VERSION=1.26
ARG BUILD_IMAGE=node:${NODE_VERSION}-bookworm
ARG RUNTIME_IMAGE=node:${NODE_VERSION}-bookworm-slim
ARG GO_IMAGE=golang:${GO_VERSION}-bookworm
# where /out/helm comes from: the helm-build stage (default), or an image that holds /out/helm
ARG HELM_FROM=helm-build

# --- helm, built from its Go module (static) ---
FROM ${GO_IMAGE} AS helm-build
ARG HELM_VERSION
WORKDIR /out
RUN CGO_ENABLED=0 GOBIN="$(pwd)" go install -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}" "helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}"

FROM ${HELM_FROM} AS helm

# --- build: compile TypeScript to dist/ ---
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY hack/bundle.mjs ./hack/
# dist/cmd/*.js, and the controller as one file with its launcher in dist/bundle/ (hack/bundle.mjs)
RUN npx tsc -p tsconfig.build.json && node hack/bundle.mjs

# --- production dependencies only ---
FROM ${BUILD_IMAGE} AS deps
WORKDIR /opt/kube-fledged
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: Node 20 slim, no compiler, no npm cache, non-root ---
FROM ${RUNTIME_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /opt/kube-fledged
COPY package.json ./
COPY --from=deps /opt/kube-fledged/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=helm /out/helm /usr/local/bin/helm
# the chart: the KubeFledged operator renders it with that helm (the one template of every install path)
COPY helm/kube-fledged ./helm/kube-fledged
WORKDIR /opt/bin
# /opt/bin/kubefledged-<name> -> node /opt/kube-fledged/dist/cmd/<name>.js (exec: node is PID 1 and gets the signals);
# /opt/bin/kubefledged-operator -> dist/cmd/kubefledged-operator.js; /opt/bin/kubefledged-controller -> the
# bundle's launcher dist/bundle/kubefledged-controller (one file, with its V8 flags; it execs node too)
RUN for name in controller webhook-server cri-client operator; do \
      js="$name"; [ "$name" = operator ] && js=kubefledged-operator; \
      if [ "$name" = controller ]; then \
        printf '#!/bin/sh\nexec "$(dirname "$0")/../kube-fledged/dist/bundle/kubefledged-controller" "$@"\n' > "kubefledged-$name"; \
      else \
        printf '#!/bin/sh\nexec node "$(dirname "$0")/../kube-fledged/dist/cmd/%s.js" "$@"\n' "$js" > "kubefledged-$name"; \
      fi; \
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

# --- the one image (last stage: the default target) ---
FROM runtime AS kube-fledged
EXPOSE 8080 8443
ENTRYPOINT ["/opt/bin/kubefledged-controller"]
