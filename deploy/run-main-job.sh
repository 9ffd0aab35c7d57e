#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts a coordinator with
# embedded workers, runs the default Fashion-MNIST search
# (examples/jobs/fashion-mnist.json: uNAS's Fashion-MNIST resource bounds in
# TFLM accounting, two rungs and a 15-epoch final round, about 23 minutes on
# an idle 2-core machine), shows its progress, and prints the Pareto front
# and where the database is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
UNAS_BUILD_TARGET=unas bash deploy/build.sh

data_dir="${UNAS_DATA_DIR:-unas-data}"
listen="${UNAS_LISTEN:-127.0.0.1:7070}"
workers="${UNAS_WORKERS:-$(nproc)}"
mkdir -p "$data_dir"
log="$data_dir/serve.log"

./build/unas serve --data-dir "$data_dir" --listen "$listen" --workers "$workers" --worker-threads 1 \
  >"$log" 2>&1 &
serve_pid=$!
stop_server() {
  if kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT

for _ in $(seq 1 100); do
  grep -q "listening on port" "$log" 2>/dev/null && break
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    echo "unas serve exited; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done
grep -q "listening on port" "$log" || { echo "unas serve did not start; see $log" >&2; exit 1; }
echo "coordinator up on $listen with $workers embedded workers (log: $log)"

status=0
./build/unas submit examples/jobs/fashion-mnist.json --coordinator "$listen" --data-dir "$data_dir" --wait || status=$?
echo
echo "database: $(realpath "$data_dir")/unas.db"
echo "more:     ./build/unas jobs --data-dir $data_dir   |   ./build/unas trials JOB --data-dir $data_dir"
exit "$status"
