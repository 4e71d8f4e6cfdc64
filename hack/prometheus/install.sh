#!/usr/bin/env bash
# Installs, from Debian's packages, what the observability integration test needs: Prometheus and
# promtool (both in the `prometheus` package). Installs only what is missing; needs root.
# The package's own service never runs: policy-rc.d denies starting it during the install, and the
# test starts its own server on 127.0.0.1 with a temporary configuration.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "hack/prometheus/install.sh: prometheus/promtool missing and not root: install the Debian package prometheus as root" >&2
  exit 1
fi
echo "hack/prometheus/install.sh: installing prometheus" >&2
export DEBIAN_FRONTEND=noninteractive
# Keep the package's service from starting a server on :9090 (invoke-rc.d honours policy-rc.d; exit
# 101 = action forbidden). A policy-rc.d that was already there is left untouched.
policy=/usr/sbin/policy-rc.d
own_policy=no
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  own_policy=yes
fi
cleanup() { if [[ $own_policy = yes ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get update -qq >/dev/null
# --no-install-recommends: no node exporter or other recommended extras
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v prometheus >/dev/null && command -v promtool >/dev/null
