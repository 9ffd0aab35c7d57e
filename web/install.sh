#!/usr/bin/env bash
# Installs the dashboard's npm packages (chart.js) from the lockfile, once:
# `unas serve` then serves them from web/node_modules, no network needed.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/chart.js/package.json ]; then
  npm ci --no-audit --no-fund
fi
