#!/usr/bin/env bash
# How long `unas serve` takes to start on a database holding jobs it cannot
# restore: issue 23's 18-objective and 10,000-objective jobs, written into
# SQLite directly as an older version would have left them.
#
# 1. Starts `unas serve` with embedded workers, runs a synthetic job of
#    TRIALS trials (4 objectives) to the end, stops it (SIGTERM).
# 2. With sqlite3, copies that job and its trials twice, as running jobs
#    whose spec lists 18 and 10,000 objectives.
# 3. Starts `unas serve` on it again and prints the wall time from the start
#    to the first 200 from /readyz, then what the API says of the two jobs
#    and that a new job is accepted.
# Every process is stopped on exit; every wait is bounded (START_LIMIT s).
#
# Usage: bench/bench_start_hostage.sh path/to/unas   (TRIALS=100 by default)
# Results: docs/service.md ("Measurements").
set -euo pipefail
UNAS=${1:?usage: bench_start_hostage.sh path/to/unas}
[ -x "$UNAS" ] || { echo "bench_start_hostage: $UNAS is not executable (build it first)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "bench_start_hostage: needs sqlite3" >&2; exit 2; }
TRIALS=${TRIALS:-100}
START_LIMIT=${START_LIMIT:-120}
# shellcheck source=bench/serve_env.sh
. "$(dirname "$0")/serve_env.sh"
bench_serve_env start
SERVE=
cleanup() {
  [ -n "$SERVE" ] && kill -KILL "$SERVE" 2>/dev/null || true
  rm -rf "$OUT"
}
trap cleanup EXIT

serve() {
  "$UNAS" serve --data-dir "$OUT/data" --listen "127.0.0.1:$GRPC" --http "127.0.0.1:$HTTP" --workers 2 \
    --token "$TOKEN" >>"$OUT/serve.log" 2>&1 &
  SERVE=$!
}
stop() {
  kill -TERM "$SERVE"
  for _ in $(seq 1 600); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$SERVE" 2>/dev/null || true
  wait "$SERVE" 2>/dev/null || true
  SERVE=
}
api() { curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" "$@"; }
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/readyz")" = 200 ]; }

serve
for _ in $(seq 1 300); do ready && break; sleep 0.1; done
ready || { cat "$OUT/serve.log"; echo "serve did not start" >&2; exit 1; }
SPEC='{"name":"source","dataset":"synthetic","evaluator":"synthetic","synthetic_delay_ms":0,"seed":1,
  "budget":{"trials":'"$TRIALS"'},"objectives":["error","peak_sram","flash","macs"],
  "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000}}'
JOB=$(api -X POST --data "$SPEC" "http://127.0.0.1:$HTTP/api/v1/jobs" | sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p')
[ -n "$JOB" ] || { echo "submit failed" >&2; exit 1; }
for _ in $(seq 1 1200); do
  api "http://127.0.0.1:$HTTP/api/v1/jobs/$JOB" | grep -q '"status":"succeeded"' && break
  sleep 0.1
done
api "http://127.0.0.1:$HTTP/api/v1/jobs/$JOB" | grep -q '"status":"succeeded"' || { echo "the job did not finish" >&2; exit 1; }
stop

objectives() {  # a JSON array of $1 names, cycling through four kinds
  local n=$1 i out="["
  local kinds=(error peak_sram flash macs)
  for ((i = 0; i < n; i++)); do
    [ "$i" -gt 0 ] && out+=","
    out+="\"${kinds[i % 4]}\""
  done
  echo "$out]"
}
copy() {  # copy JOB as $1 with $2 objectives, running
  cat <<SQL
INSERT INTO jobs SELECT '$1', name, 2, json_set(spec_json, '\$.objectives', json('$(objectives "$2")')),
  infeasible_rejected, error, created_unix_ms, 0, final_round, final_epochs FROM jobs WHERE job_id = '$JOB';
CREATE TEMP TABLE IF NOT EXISTS copied AS SELECT * FROM trials WHERE 0;
DELETE FROM copied;
INSERT INTO copied SELECT * FROM trials WHERE job_id = '$JOB';
UPDATE copied SET job_id = '$1';
INSERT INTO trials SELECT * FROM copied;
SQL
}
{ copy job-obj18 18; copy job-obj10000 10000; } | sqlite3 "$OUT/data/unas.db"
echo "database: $(sqlite3 "$OUT/data/unas.db" 'SELECT COUNT(*) FROM jobs') jobs, $(sqlite3 "$OUT/data/unas.db" 'SELECT COUNT(*) FROM trials') trials; objectives per job: $(sqlite3 "$OUT/data/unas.db" "SELECT group_concat(job_id || '=' || json_array_length(spec_json, '\$.objectives'), ' ') FROM jobs")"

start=$(date +%s.%N)
serve
for _ in $(seq 1 $((START_LIMIT * 50))); do ready && break; kill -0 "$SERVE" 2>/dev/null || break; sleep 0.02; done
if ready; then
  echo "start to /readyz 200: $(echo "$(date +%s.%N) - $start" | bc -l | xargs printf '%.2f') s"
else
  echo "start to /readyz 200: not within $START_LIMIT s"
  exit 1
fi
for id in job-obj18 job-obj10000; do
  # The REST JSON's keys are sorted ("error" before "status"): read it as JSON.
  echo "$id: $(api "http://127.0.0.1:$HTTP/api/v1/jobs/$id" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print("status=%s error=\"%s\"" % (j.get("status"), str(j.get("error"))[:160]))')"
done
echo "source job: $(api "http://127.0.0.1:$HTTP/api/v1/jobs/$JOB" | sed -n 's/.*"status":"\([^"]*\)".*/status=\1/p')"
echo "a new job: HTTP $(api -o /dev/null -w '%{http_code}' -X POST --data "$SPEC" "http://127.0.0.1:$HTTP/api/v1/jobs")"
stop
