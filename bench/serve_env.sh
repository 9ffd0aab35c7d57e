# Sourced by the benchmarks that start their own `unas serve` on 127.0.0.1
# (bench_analyze_load.sh, bench_start_hostage.sh): bench_serve_env NAME
# clears the proxy variables (loopback requests must not go through a
# proxy), makes the scratch directory $OUT (unas-bench-NAME.XXXXXX under
# $TMPDIR; the caller removes it on exit) and picks $GRPC, $HTTP (the next
# port) and a fresh $TOKEN.
bench_serve_env() {
  unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY grpc_proxy all_proxy ALL_PROXY
  OUT=$(mktemp -d "${TMPDIR:-/tmp}/unas-bench-$1.XXXXXX")
  GRPC=$((20000 + RANDOM % 20000))
  HTTP=$((GRPC + 1))
  TOKEN="bench-token-$$-$RANDOM$RANDOM"
}
