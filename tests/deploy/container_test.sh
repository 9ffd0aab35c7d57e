#!/usr/bin/env bash
# The containers as users run them: Debian's Docker (docker.io 20.10, classic
# builder) and docker-compose 1.29, the repository's deploy/Dockerfile and
# docker-compose.yml unchanged.
#
# 1. Installs docker.io, docker-compose and debootstrap with apt when missing;
#    starts containerd and dockerd when no engine answers (and stops, at the
#    end, only what it started).
# 2. Makes debian:bookworm offline when missing (deploy/make-base-image.sh) and
#    builds the image with deploy/docker-build.sh: from BINARY_DIR's unas and
#    unas-torch when given (`--prebuilt`: the binaries the test suite's build
#    made, so nothing is compiled a second time; CTest passes build/), else
#    compiled in the image (ccache carried between builds; an unchanged tree
#    is all layer-cache hits).
# 3. `docker-compose up` a coordinator and 2 workers on 127.0.0.1 ports; the
#    dashboard page and chart.js come over HTTP from the coordinator.
# 4. A synthetic job; mid-job, one worker's process is killed with kill -9 from
#    the host (a crash: `restart: unless-stopped` brings the container back) and
#    the other container with `docker kill --signal=KILL` (an operator's kill:
#    Docker leaves it stopped, whatever the restart policy). Both trials they
#    held are leased again after the compose file's 20 s lease timeout.
# 5. The coordinator stops cleanly on SIGTERM, and its SQLite database (read
#    from the named volume) holds every trial completed exactly once, the two
#    interrupted ones recorded from another worker.
#
# Skips (exit 77, CTest's SKIP_RETURN_CODE) with a message when not root, when
# the packages cannot be installed or when dockerd cannot run here;
# UNAS_CONTAINER_TEST=0 skips it on purpose. Every command is bounded by
# `timeout`; the EXIT trap removes the compose project's containers, network
# and volume and the temporary directory on every exit path. Images stay
# cached: debian:bookworm, unas:container-test and unas-ccache:latest.
#
# Usage: tests/deploy/container_test.sh REPO_ROOT [BINARY_DIR]
set -uo pipefail

readonly SKIP_CODE=77
ROOT=${1:-}
BINARY_DIR=${2:-}
if [ -z "$ROOT" ] || [ ! -f "$ROOT/docker-compose.yml" ]; then
  echo "FAIL: usage: $0 REPO_ROOT (the directory with docker-compose.yml; got '${ROOT}')"
  exit 1
fi
ROOT=$(cd "$ROOT" && pwd)

skip() {
  echo "SKIP: $* (this test needs root, Debian's docker.io and a Docker engine that can run here)"
  exit "$SKIP_CODE"
}
[ "${UNAS_CONTAINER_TEST:-1}" != 0 ] || skip "UNAS_CONTAINER_TEST=0"
[ "$(id -u)" -eq 0 ] || skip "not running as root"
command -v timeout >/dev/null 2>&1 || skip "the 'timeout' command (coreutils) is not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

readonly PREFIX="unasct"  # compose v1 keeps only [a-z0-9] of a project name
readonly PROJECT="$PREFIX$$"
readonly IMAGE="unas:container-test"
readonly TOKEN="container-test-token-$$-$RANDOM$RANDOM"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unas-container.XXXXXX")
chmod 0755 "$WORK"
started_containerd="" started_dockerd=""
failed=0
t0=$SECONDS

log() { echo "[$((SECONDS - t0))s] $*"; }

stop_started() {  # stop_started PID NAME: TERM, up to 30 s, then KILL
  local pid=$1 name=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { log "stopped the $name this test started (pid $pid)"; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null
  log "killed the $name this test started (pid $pid): it ignored SIGTERM for 30 s"
}

compose() { timeout "${COMPOSE_TIMEOUT:-300}" docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" "$@"; }
dk() { timeout "${DOCKER_TIMEOUT:-60}" "$DOCKER" "$@"; }

remove_project() {  # remove_project NAME: everything compose made for it
  local p=$1 ids
  timeout 120 docker-compose -p "$p" -f "$ROOT/docker-compose.yml" down -v --remove-orphans -t 5 \
    >/dev/null 2>&1 </dev/null
  # Whatever `down` left (it timed out, or the file changed).
  ids=$(dk ps -aq --filter "label=com.docker.compose.project=$p")
  [ -n "$ids" ] && dk rm -f -v $ids >/dev/null 2>&1
  ids=$(dk network ls -q --filter "label=com.docker.compose.project=$p")
  [ -n "$ids" ] && dk network rm $ids >/dev/null 2>&1
  ids=$(dk volume ls -q --filter "label=com.docker.compose.project=$p")
  [ -n "$ids" ] && dk volume rm $ids >/dev/null 2>&1
}

cleanup() {
  local rc=$?
  if [ "$failed" -ne 0 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne "$SKIP_CODE" ]; }; then
    for c in $(dk ps -aq --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null); do
      echo "---- last lines of container $(dk inspect -f '{{.Name}}' "$c" 2>/dev/null)"
      dk logs --tail 25 "$c" 2>&1
    done
    for f in "$WORK"/*.log; do
      [ -f "$f" ] || continue
      echo "---- last lines of $(basename "$f")"
      tail -n 40 "$f"
    done
  fi
  if [ -n "${DOCKER:-}" ] && dk info >/dev/null 2>&1; then
    remove_project "$PROJECT"
    left=$(dk ps -aq --filter "label=com.docker.compose.project=$PROJECT"; \
           dk volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
    [ -z "$left" ] && log "removed the project's containers, network and volume" \
                   || echo "warning: left behind: $left"
  fi
  [ -n "$started_dockerd" ] && stop_started "$started_dockerd" dockerd
  [ -n "$started_containerd" ] && stop_started "$started_containerd" containerd
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

WAIT_POLL_SECONDS=0.5  # docker calls are slow; poll them less often
# fail, check, wait_for.
source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"

# --- 1. packages and the engine -----------------------------------------------
need=()
[ -x /usr/bin/docker ] && [ -x /usr/sbin/dockerd ] || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || skip "${need[*]} missing and no apt-get"
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! timeout 600 apt-get install -y -qq "${need[@]}" >"$WORK/apt.log" 2>&1; then
    timeout 300 apt-get update -qq >>"$WORK/apt.log" 2>&1
    timeout 600 apt-get install -y -qq "${need[@]}" >>"$WORK/apt.log" 2>&1 \
      || skip "cannot install ${need[*]}: $(tail -n 1 "$WORK/apt.log")"
  fi
fi
# Debian's client, the engine's own version (another docker on PATH may be
# newer; this test is about what Debian ships).
DOCKER=/usr/bin/docker
export DOCKER
# The classic builder, as Debian's 20.10 client and docker-compose 1.29 use
# by default (docs/deploy.md says how BuildKit was checked).
unset DOCKER_BUILDKIT COMPOSE_DOCKER_CLI_BUILD DOCKER_HOST DOCKER_CONTEXT

if ! dk info >/dev/null 2>&1; then
  if [ ! -S /run/containerd/containerd.sock ] || ! timeout 10 ctr version >/dev/null 2>&1; then
    log "starting containerd"
    setsid containerd >"$WORK/containerd.log" 2>&1 </dev/null &
    started_containerd=$!
    for _ in $(seq 1 60); do
      timeout 5 ctr version >/dev/null 2>&1 && break
      kill -0 "$started_containerd" 2>/dev/null || break
      sleep 0.5
    done
    timeout 5 ctr version >/dev/null 2>&1 \
      || skip "containerd does not start here: $(tail -n 2 "$WORK/containerd.log" | tr '\n' ' ')"
  fi
  log "starting dockerd"
  setsid dockerd --containerd=/run/containerd/containerd.sock >"$WORK/dockerd.log" 2>&1 </dev/null &
  started_dockerd=$!
  for _ in $(seq 1 120); do
    dk info >/dev/null 2>&1 && break
    kill -0 "$started_dockerd" 2>/dev/null || break
    sleep 0.5
  done
  dk info >/dev/null 2>&1 \
    || skip "dockerd does not start here: $(grep -E 'level=(error|fatal)' "$WORK/dockerd.log" | tail -n 2 | tr '\n' ' ')"
fi
log "engine: $(dk version -f 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}'); $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"

# Compose projects an earlier run left when it was killed before its trap ran
# (its pid, in the name, is gone).
for p in $(dk ps -a --filter "label=com.docker.compose.project" --format '{{.Label "com.docker.compose.project"}}' | sort -u); do
  case $p in "$PREFIX"[0-9]*) kill -0 "${p#"$PREFIX"}" 2>/dev/null || { log "removing stale project $p"; remove_project "$p"; } ;; esac
done

# --- 2. the base image and the unas image -----------------------------------------
log "base image"
timeout 600 bash "$ROOT/deploy/make-base-image.sh" || fail "deploy/make-base-image.sh"
# An engine may answer and still be unable to run containers (no cgroups,
# no overlay file system, no network namespaces...).
if ! err=$(timeout 120 "$DOCKER" run --rm --network none debian:bookworm true 2>&1); then
  skip "dockerd runs but cannot start a container here: $err"
fi
build_from=()
if [ -n "$BINARY_DIR" ]; then
  [ -x "$BINARY_DIR/unas" ] && [ -x "$BINARY_DIR/unas-torch" ] \
    || fail "BINARY_DIR $BINARY_DIR lacks unas or unas-torch (build them: deploy/build.sh)"
  build_from=(--prebuilt "$BINARY_DIR")
fi
log "building $IMAGE (deploy/docker-build.sh ${build_from[*]:-from source}, classic builder)"
build_start=$SECONDS
UNAS_BUILD_LOG="$WORK/build.log" timeout 2400 bash "$ROOT/deploy/docker-build.sh" "${build_from[@]}" "$IMAGE" \
  >"$WORK/build-summary.log" 2>&1 \
  || { cat "$WORK/build-summary.log" | tail -n 40; fail "deploy/docker-build.sh ${build_from[*]} $IMAGE"; }
grep '^docker-build:' "$WORK/build-summary.log"
grep -E '^ *(Hits|Misses|Cache size)' "$WORK/build.log" | sed 's/^ */  ccache: /'
log "image built in $((SECONDS - build_start)) s, $(( $(dk image inspect -f '{{.Size}}' "$IMAGE") / 1000000 )) MB"
check "the image runs unas as uid 10001" test "$(dk run --rm --entrypoint id "$IMAGE" -u)" = 10001
check "the image's unas answers 'unas serve --help'" \
  bash -c "$DOCKER run --rm '$IMAGE' serve --help | grep -q '^usage: unas serve'"
check "the image has the dashboard's chart.js" \
  dk run --rm --entrypoint test "$IMAGE" -f /usr/share/unas/web/node_modules/chart.js/dist/chart.umd.min.js

# --- 3. compose up: a coordinator and 2 workers -----------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
printf '%s\n' "$TOKEN" >"$WORK/token"
chmod 0644 "$WORK/token"
export UNAS_IMAGE=$IMAGE UNAS_TOKEN_FILE="$WORK/token"
UNAS_GRPC_PORT=$(free_port)
UNAS_HTTP_PORT=$(free_port)
export UNAS_GRPC_PORT UNAS_HTTP_PORT
unset UNAS_BIND UNAS_PULL_POLICY
log "docker-compose up (project $PROJECT, gRPC 127.0.0.1:$UNAS_GRPC_PORT, HTTP 127.0.0.1:$UNAS_HTTP_PORT)"
up_start=$SECONDS
compose up -d --no-build --scale worker=2 >"$WORK/up.log" 2>&1 || fail "docker-compose up: $(tail -n 3 "$WORK/up.log")"
log "up in $((SECONDS - up_start)) s (the workers start once the coordinator is healthy)"
COORD=$(compose ps -q coordinator)
WORKERS=($(compose ps -q worker))
[ -n "$COORD" ] && [ ${#WORKERS[@]} -eq 2 ] || fail "expected 1 coordinator and 2 workers, got '$COORD' and ${#WORKERS[@]}"
state() { dk inspect -f "$2" "$1"; }
check "the coordinator is healthy" test "$(state "$COORD" '{{.State.Health.Status}}')" = healthy
for p in $(dk port "$COORD" | sed 's/.* -> //'); do
  check "port $p is published on loopback only" bash -c "[[ '$p' == 127.0.0.1:* ]]"
done
check "docker-compose 1.29 applies the workers' deploy.resources.limits (2 CPUs, 4 GiB)" \
  test "$(state "${WORKERS[0]}" '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}')" = "2000000000 4294967296"
wait_for 60 "both workers register" bash -c \
  "$DOCKER logs ${WORKERS[0]} 2>&1 | grep -q 'registered as' && $DOCKER logs ${WORKERS[1]} 2>&1 | grep -q 'registered as'"
worker_id() { dk logs "$1" 2>&1 | sed -n 's/.*msg="registered as \([^"]*\)".*/\1/p' | head -n 1; }

# The dashboard over HTTP from the container (the port the compose file publishes).
http_get() {  # http_get PATH OUT: prints the status code; never through a proxy
  python3 - "http://127.0.0.1:$UNAS_HTTP_PORT$1" "$2" <<'EOF'
import sys, urllib.request, urllib.error
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(sys.argv[1], timeout=10) as r:
        body, code = r.read(), r.status
except urllib.error.HTTPError as e:
    body, code = e.read(), e.code
open(sys.argv[2], "wb").write(body)
print(code)
EOF
}
code=$(http_get / "$WORK/index.html")
check "GET / is the dashboard (HTTP $code)" bash -c "[ '$code' = 200 ] && grep -q 'node_modules/chart.js/dist/chart.umd.min.js' '$WORK/index.html'"
code=$(http_get /node_modules/chart.js/dist/chart.umd.min.js "$WORK/chart.js")
check "GET /node_modules/chart.js/dist/chart.umd.min.js (HTTP $code, $(wc -c <"$WORK/chart.js") bytes)" \
  bash -c "[ '$code' = 200 ] && [ \$(wc -c <'$WORK/chart.js') -gt 100000 ] && grep -q 'Chart' '$WORK/chart.js'"

# --- 4. a job, and two workers killed in the middle of it --------------------------
client() { dk exec "$COORD" unas "$@" --token-file /run/secrets/unas_token; }
readonly TRIALS=40 DELAY_MS=1000
echo '{"name":"container-test","dataset":"synthetic","evaluator":"synthetic","strategy":"random","seed":7,
  "synthetic_delay_ms":'"$DELAY_MS"',"budget":{"trials":'"$TRIALS"'},
  "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
  "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000}}' >"$WORK/job.json"
COMPOSE_TIMEOUT=60 compose exec -T coordinator unas submit - --token-file /run/secrets/unas_token \
  <"$WORK/job.json" >"$WORK/submit.log" 2>&1 || fail "docker-compose exec ... unas submit: $(cat "$WORK/submit.log")"
JOB=$(awk '/^submitted /{print $2}' "$WORK/submit.log")
[ -n "$JOB" ] || fail "no job id in: $(cat "$WORK/submit.log")"
log "submitted $JOB: $TRIALS synthetic trials of $DELAY_MS ms"

# The trial a worker has just started: the last "trial JOB/N attempt K" line.
last_trial() { dk logs "$1" 2>&1 | grep -o "trial $JOB/[0-9]* attempt [0-9]*" | tail -n 1 | sed 's|.*/\([0-9]*\) .*|\1|'; }
started_new_trial() {  # started_new_trial CONTAINER SEEN_COUNT: a trial line beyond the first SEEN_COUNT
  [ "$(dk logs "$1" 2>&1 | grep -c "trial $JOB/[0-9]* attempt")" -gt "$2" ]
}
trial_lines() { dk logs "$1" 2>&1 | grep -c "trial $JOB/[0-9]* attempt"; }

# Worker 0 crashes: its process is killed by the host, as the OOM killer would.
VICTIM_CRASH=${WORKERS[0]} VICTIM_KILL=${WORKERS[1]}
CRASH_ID=$(worker_id "$VICTIM_CRASH") KILL_ID=$(worker_id "$VICTIM_KILL")
seen=$(trial_lines "$VICTIM_CRASH")
wait_for 60 "worker $CRASH_ID starts a trial of $JOB" started_new_trial "$VICTIM_CRASH" "$seen"
CRASH_TRIAL=$(last_trial "$VICTIM_CRASH")
pid=$(state "$VICTIM_CRASH" '{{.State.Pid}}')
kill -KILL "$pid" || fail "kill -9 $pid (worker $CRASH_ID's process)"
log "kill -9 of worker $CRASH_ID's process (host pid $pid) during trial $CRASH_TRIAL"
# The other worker is killed through Docker, also mid-trial.
seen=$(trial_lines "$VICTIM_KILL")
wait_for 60 "worker $KILL_ID starts a trial of $JOB" started_new_trial "$VICTIM_KILL" "$seen"
KILL_TRIAL=$(last_trial "$VICTIM_KILL")
dk kill --signal=KILL "$VICTIM_KILL" >/dev/null || fail "docker kill --signal=KILL worker $KILL_ID"
log "docker kill --signal=KILL of worker $KILL_ID during trial $KILL_TRIAL"

restarted() { [ "$(state "$VICTIM_CRASH" '{{.RestartCount}} {{.State.Running}}')" = "1 true" ]; }
wait_for 60 "Docker restarts the crashed worker (restart: unless-stopped)" restarted
echo "ok: the worker killed from the host was restarted by Docker (RestartCount 1)"
sleep 5
check "the worker stopped with docker kill stays stopped (exit 137, RestartCount 0): Docker treats it as a manual stop" \
  test "$(state "$VICTIM_KILL" '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}')" = "exited 137 0"

job_status() { client status "$JOB" --json 2>/dev/null | sed -n 's/^  "status": "\([a-z]*\)",\{0,1\}$/\1/p'; }
job_final() { case $(job_status) in succeeded | failed | cancelled) return 0 ;; esac; return 1; }
job_start=$SECONDS
wait_for 240 "job $JOB finishes" job_final
log "job finished $((SECONDS - job_start)) s after the kills: $(job_status)"
check "job $JOB succeeded" test "$(job_status)" = succeeded

# --- 5. a clean stop, and the database ------------------------------------------------
COMPOSE_TIMEOUT=90 compose stop -t 30 >"$WORK/stop.log" 2>&1 || fail "docker-compose stop: $(tail -n 3 "$WORK/stop.log")"
check "the coordinator exits 0 on SIGTERM (docker-compose stop)" test "$(state "$COORD" '{{.State.ExitCode}}')" = 0
VOLUME=$(dk volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | head -n 1)
DB="$(dk volume inspect -f '{{.Mountpoint}}' "$VOLUME")/unas.db"
check "the coordinator's database is in the named volume $VOLUME" test -f "$DB"
python3 - "$DB" "$JOB" "$TRIALS" "$CRASH_TRIAL" "$CRASH_ID" "$KILL_TRIAL" "$KILL_ID" <<'EOF' || fail "the database check"
import sqlite3, sys
db, job, trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
interrupted = {int(sys.argv[4]): sys.argv[5], int(sys.argv[6]): sys.argv[7]}
con = sqlite3.connect(db)
rows = con.execute("SELECT trial_id, status, attempts, worker_id, val_error IS NOT NULL FROM trials WHERE job_id = ?",
                   (job,)).fetchall()
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond
ids = {r[0] for r in rows}
check(len(rows) == trials and len(ids) == trials,
      f"database: {len(rows)} trial rows of {job}, {len(ids)} distinct ids; expected {trials} of each")
completed = [r for r in rows if r[1] == 3 and r[4]]  # TrialStatus::kCompleted, with a result
check(len(completed) == trials, f"database: {len(completed)} of {trials} completed with a result, each once (one row per trial)")
by_id = {r[0]: r for r in rows}
for trial, killed in interrupted.items():
    r = by_id.get(trial)
    check(r is not None and r[2] >= 2 and r[3] not in ("", killed),
          f"database: trial {trial}, interrupted on worker {killed}, was leased {r[2] if r else '?'} times "
          f"and its result is from worker {r[3] if r else '?'}")
status = con.execute("SELECT status FROM jobs WHERE job_id = ?", (job,)).fetchone()
check(status == (3,), f"database: job {job} has status {status} (3 = succeeded)")
sys.exit(0 if ok else 1)
EOF

log "PASS: Debian's Docker and docker-compose ran the image: coordinator and 2 workers, two workers killed mid-job (one restarted, one left stopped), every trial completed exactly once"
