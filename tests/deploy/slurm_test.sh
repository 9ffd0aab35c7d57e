#!/usr/bin/env bash
# A real single-node Slurm runs deploy/slurm/unas-workers.sbatch against a
# coordinator on 127.0.0.1:
#
# 1. munged, slurmctld and slurmd from Debian (slurm-wlm's daemons, munge)
#    start in the foreground with a configuration generated in a temporary
#    directory (free ports, state and logs in it; nothing under /etc is used).
# 2. `unas serve --workers 0` and a synthetic job of 200 trials (250 ms each).
# 3. sbatch --array=0-1: two workers; once task 1 has trained a few trials it
#    is scancel'led mid-trial (Slurm's SIGTERM, as for preemption).
# 4. The job ends succeeded, and the database holds every trial completed
#    exactly once; the cancelled task's worker gave its trial back.
#
# Needs root (slurmd runs jobs as their user, munged and slurmctld as root
# here); otherwise prints SKIP and exits 77. The packages are in
# deploy/install-deps.sh's test list: missing, they fail the test. Every wait
# is bounded, every daemon runs under `timeout`, and the EXIT trap stops what
# the test started (by pid) and removes the directory.
#
# Usage: tests/deploy/slurm_test.sh PATH/TO/unas
set -uo pipefail

readonly SKIP_CODE=77
source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"  # unas_binary, fail, check, wait_for
unas_binary "$0" "${1:-}"
SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../deploy/slurm" && pwd)/unas-workers.sbatch

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: not running as root (this test starts munged, slurmctld and slurmd, which run jobs as their users)"
  exit "$SKIP_CODE"
fi
for tool in munged mungekey slurmctld slurmd sbatch squeue scancel sqlite3 python3 timeout; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: '$tool' is missing: run deploy/install-deps.sh (slurmctld slurmd slurm-client munge sqlite3)"; exit 1; }
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY grpc_proxy all_proxy ALL_PROXY no_proxy NO_PROXY

readonly LIMIT_S=240  # every process started here stops by itself after this
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unas-slurm.XXXXXX")
chmod 0755 "$WORK"  # munged wants its socket's folder reachable
pids=()
failed=0
export SLURM_CONF="$WORK/slurm.conf"

cleanup() {
  local rc=$?
  if [ "$failed" -ne 0 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne "$SKIP_CODE" ]; }; then
    for log in "$WORK"/*.log "$WORK"/log/*.log; do
      [ -f "$log" ] || continue
      echo "---- last lines of $(basename "$log")"
      tail -n 20 "$log"
    done
  fi
  if [ -f "$WORK/slurm.conf" ]; then
    timeout 10 scancel --quiet --user root 2>/dev/null
    for _ in $(seq 1 100); do  # up to 10 s for the array's workers to stop
      [ -z "$(timeout 5 squeue -h -u root 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  # Newest first: the coordinator, slurmd, slurmctld, then munged.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null; done
  for _ in $(seq 1 50); do  # up to 5 s
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
COORD_PORT=$(free_port)
HOST=$(hostname -s)
CPUS=$(nproc)

# --- 1. munge and Slurm --------------------------------------------------------
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/log"
mungekey -c -k "$WORK/munge.key" -b 1024 || fail "mungekey"
timeout "$LIMIT_S" munged -F --force -S "$WORK/munge.sock" --key-file="$WORK/munge.key" \
  --log-file="$WORK/log/munged.log" --pid-file="$WORK/munged.pid" --seed-file="$WORK/munged.seed" \
  >"$WORK/log/munged.out" 2>&1 &
pids+=($!)
wait_for 10 "munged listens" test -S "$WORK/munge.sock"
cat >"$SLURM_CONF" <<EOF
ClusterName=unastest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$WORK/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
KillWait=5
NodeName=unasnode NodeHostname=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=unas Nodes=unasnode Default=YES MaxTime=INFINITE State=UP
EOF
timeout "$LIMIT_S" slurmctld -D -i >"$WORK/log/slurmctld.out" 2>&1 &
pids+=($!)
timeout "$LIMIT_S" slurmd -D -N unasnode >"$WORK/log/slurmd.out" 2>&1 &
pids+=($!)
wait_for 30 "the node is idle in Slurm" bash -c "sinfo -h -N -o '%T' | grep -q idle"
echo "slurm: slurmctld on 127.0.0.1:$CTLD_PORT, slurmd (node unasnode, $CPUS CPUs) on :$SLURMD_PORT"

# --- 2. the coordinator and a job ----------------------------------------------
TOKEN="slurm-test-token-$$-$RANDOM$RANDOM"
(umask 077 && printf '%s\n' "$TOKEN" >"$WORK/token")
COORD="127.0.0.1:$COORD_PORT"
timeout "$LIMIT_S" "$UNAS" serve --data-dir "$WORK/data" --listen "$COORD" --workers 0 --token "$TOKEN" \
  --lease-timeout-ms 3000 --heartbeat-ms 500 >"$WORK/serve.log" 2>&1 &
pids+=($!)
wait_for 30 "the coordinator listens on $COORD" grep -q "listening on port" "$WORK/serve.log"
client() { timeout 20 "$UNAS" "$@" --coordinator "$COORD" --token-file "$WORK/token"; }
echo '{"name":"slurm","dataset":"synthetic","evaluator":"synthetic","strategy":"random","seed":5,
  "synthetic_delay_ms":250,"budget":{"trials":200},
  "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
  "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000}}' >"$WORK/job.json"
JOB=$(client submit "$WORK/job.json" | awk '/^submitted /{print $2}')
[ -n "$JOB" ] || fail "submit the job"

# --- 3. the workers as a job array; one task cancelled mid-trial ------------------
ARRAY=$(UNAS="$UNAS" UNAS_COORDINATOR="$COORD" UNAS_TOKEN_FILE="$WORK/token" UNAS_CACHE_DIR="$WORK/cache" \
  sbatch --parsable --array=0-1 --cpus-per-task=1 --output="$WORK/worker-%a.log" "$SCRIPT") \
  || fail "sbatch $SCRIPT"
echo "submitted array job $ARRAY: two unas workers"
wait_for 60 "both array tasks' workers train trials" \
  bash -c "grep -qs 'trial $JOB/' '$WORK/worker-0.log' && grep -qs 'trial $JOB/' '$WORK/worker-1.log'"
trials_before=$(grep -c "trial $JOB/[0-9]* attempt" "$WORK/worker-1.log")
scancel "${ARRAY}_1" || fail "scancel ${ARRAY}_1"
echo "scancel ${ARRAY}_1 after its worker had started $trials_before trials"
wait_for 30 "task 1's worker stops on Slurm's SIGTERM" grep -q 'msg="worker stopped"' "$WORK/worker-1.log"
grep 'msg="worker stopped"' "$WORK/worker-1.log" | sed 's/^/  task 1: /'

# --- 4. every trial completed exactly once -----------------------------------------
job_succeeded() {
  [ "$(client status "$JOB" --json 2>/dev/null | sed -n 's/^  "status": "\([a-z]*\)",*$/\1/p')" = succeeded ]
}
wait_for 150 "job $JOB finishes on the remaining worker" job_succeeded
counts=$(sqlite3 "$WORK/data/unas.db" \
  "SELECT COUNT(*), COUNT(DISTINCT trial_id), SUM(status = 3) FROM trials WHERE job_id = '$JOB'")
[ "$counts" = "200|200|200" ] || fail "trials of $JOB (rows|distinct ids|completed): $counts; expected 200|200|200"
echo "ok: the database holds 200 trials of $JOB, each completed once"
if grep -q 'msg="worker stopped".* released=1' "$WORK/worker-1.log"; then
  echo "ok: the cancelled task's worker gave its trial back (released=1)"
else
  check "the cancelled task's worker stopped between trials (released=0)" \
    grep -q 'msg="worker stopped".* released=0' "$WORK/worker-1.log"
fi
check "task 0 ran to the end of the job" grep -q "trial $JOB/" "$WORK/worker-0.log"
echo "PASS: a Slurm job array of unas workers ran a 200-trial job; a task cancelled mid-trial lost nothing"
