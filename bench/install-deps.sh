#!/usr/bin/env bash
# What `make bench` needs beyond the local cluster: rsvg-convert (Debian librsvg2-bin) for the PNG chart.
set -euo pipefail
command -v rsvg-convert >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "[bench] rsvg-convert is missing: run 'sudo apt-get install -y librsvg2-bin' (needs root)" >&2; exit 1
fi
echo "[bench] installing librsvg2-bin (rsvg-convert) for the PNG chart" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librsvg2-bin fonts-dejavu-core >/dev/null \
  || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librsvg2-bin fonts-dejavu-core >/dev/null; }
command -v rsvg-convert >/dev/null
