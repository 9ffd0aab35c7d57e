# Sourced by the benchmarks that start their own `unas serve` on 127.0.0.1
# (bench_analyze_load.sh, bench_start_hostage.sh, bench_service.sh,
# bench_dataset_transfer.sh): bench_serve_env NAME
# clears the proxy variables (loopback requests must not go through a
# proxy), makes the scratch directory $OUT (unas-bench-NAME.XXXXXX under
# $TMPDIR; the caller removes it on exit) and picks $GRPC, $HTTP (the next
# port) and a fresh $TOKEN. bench_cleanup, the caller's EXIT trap, stops
# every process in its `pids` array (TERM, then KILL after 10 s) and removes
# $OUT.
bench_serve_env() {
  unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY grpc_proxy all_proxy ALL_PROXY
  OUT=$(mktemp -d "${TMPDIR:-/tmp}/unas-bench-$1.XXXXXX")
  GRPC=$((20000 + RANDOM % 20000))
  HTTP=$((GRPC + 1))
  TOKEN="bench-token-$$-$RANDOM$RANDOM"
}
# bench_serve_loopback NAME: bench_serve_env NAME, then the serve address
# ($PORT = $GRPC, $ADDR on 127.0.0.1), an empty `pids` and bench_cleanup as
# the EXIT trap: the start every single-coordinator benchmark shares.
bench_serve_loopback() {
  bench_serve_env "$1"
  PORT=$GRPC
  ADDR=127.0.0.1:$PORT
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$OUT"
}
