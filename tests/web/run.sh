#!/usr/bin/env bash
# CTest entry for the browser test: installs the npm packages from the
# lockfiles when they are missing (then works offline), runs the test.
# Usage: run.sh UNAS_BINARY SOURCE_DIR ARTIFACT_DIR
set -euo pipefail
binary="$1"; src="$2"; artifacts="$3"
if [ ! -x /usr/bin/chromium ] && [ -z "${UNAS_CHROMIUM:-}" ]; then
  echo "SKIP: /usr/bin/chromium is not installed (deploy/install-deps.sh installs it)"
  exit 77
fi
bash "$src/web/install.sh"
if [ ! -f "$src/tests/web/node_modules/playwright-core/package.json" ]; then
  (cd "$src/tests/web" && npm ci --no-audit --no-fund)
fi
exec node "$src/tests/web/dashboard_test.mjs" "$binary" "$src/web" "$artifacts"
