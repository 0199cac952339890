#!/usr/bin/env bash
# compare.sh [--peers "nginx litellm portkey" | --all-peers] [--repeats N] ["<gateway command>" [label]]
#
# Without a command it benchmarks aiport from this checkout (.venv/bin/aiport, `make install`), with its
# master key as GW_HEADER:  benchmarks/compare/setup.sh && benchmarks/compare/compare.sh --all-peers
# Starts the mock upstream (CPU $LOAD_CPU), starts "<gateway command>" pinned to CPU $GW_CPU and benchmarks
# it, benchmarks the mock directly, then each peer like the gateway; prints one markdown table.
# The gateway command runs under `bash -c` with GW_PORT and UPSTREAM_URL (http://127.0.0.1:18000/v1) in
# its environment; it must listen on 127.0.0.1:$GW_PORT, forward to $UPSTREAM_URL and stay in the
# foreground (not daemonize).  Single-quote it so that $GW_PORT is expanded by the gateway's shell, e.g.
#   ./compare.sh 'exec mygw --port $GW_PORT --upstream $UPSTREAM_URL' mygw
# Every process it starts runs in its own process group and is stopped on exit, failure or Ctrl-C.
#
# Env: PEERS ("" = none; the --peers flag wins), REPEATS (1), GW_PORT (8000), GW_HEADER (request header(s)
# for the gateway, one per line, e.g. 'Authorization: Bearer sk-x'), GW_BASE_URL (http://127.0.0.1:$GW_PORT/v1),
# GW_READY_URL (http://127.0.0.1:$GW_PORT/, any HTTP answer = ready), GW_START_TIMEOUT (60 s),
# BENCH_HOME (/tmp/aiport-bench), GW_CPU (0), LOAD_CPU (1), BENCH_DUR (8 s per load step).
# Exit status: 0 table printed, no problems; 3 table printed with problems listed under it; 1 failed; 2 usage.
set -uo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
T_START=$SECONDS

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
PEERS="${PEERS:-}"
REPEATS="${REPEATS:-1}"
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) [ $# -ge 2 ] || usage; PEERS=$2; shift 2 ;;
    --peers=*) PEERS=${1#--peers=}; shift ;;
    --all-peers) PEERS="nginx litellm portkey"; shift ;;
    --repeats) [ $# -ge 2 ] || usage; REPEATS=$2; shift 2 ;;
    --repeats=*) REPEATS=${1#--repeats=}; shift ;;
    -h|--help) usage ;;
    --) shift; ARGS+=("$@"); break ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
if [ ${#ARGS[@]} -eq 0 ]; then   # no command: aiport from this checkout (make install), SQLite in BENCH_HOME
  AIPORT_BIN="$(cd "$BENCH_DIR/../.." && pwd)/.venv/bin/aiport"
  [ -x "$AIPORT_BIN" ] || die "no $AIPORT_BIN: run make install in the repository first"
  rm -rf "$BENCH_HOME/aiport-data"
  ARGS=("AIPORT_DATA_DIR=\$BENCH_HOME/aiport-data AIPORT_MASTER_KEY=sk-bench OPENAI_API_KEY=sk-mock \
OPENAI_BASE_URL=\$UPSTREAM_URL exec $AIPORT_BIN serve --port \$GW_PORT" aiport)
  GW_HEADER="${GW_HEADER:-Authorization: Bearer sk-bench}"
fi
[ ${#ARGS[@]} -ge 1 ] && [ ${#ARGS[@]} -le 2 ] || usage
GW_CMD=${ARGS[0]}
LABEL=${ARGS[1]:-gateway}
GW_PORT="${GW_PORT:-8000}"
GW_BASE_URL="${GW_BASE_URL:-http://127.0.0.1:$GW_PORT/v1}"
GW_READY_URL="${GW_READY_URL:-http://127.0.0.1:$GW_PORT/}"
GW_START_TIMEOUT="${GW_START_TIMEOUT:-60}"
BENCH_TIMEOUT=$((180 + 8 * ${BENCH_DUR:-8}))   # one bench.py run: ~40-75 s at the default 8 s per step
PEER_LIST=($PEERS)

# ---------------------------------------------------------------- checks before starting anything
[[ "$LABEL" =~ ^[A-Za-z0-9._-]+$ ]] || die "label '$LABEL': use letters, digits, . _ -"
case " direct mock nginx litellm portkey " in *" $LABEL "*) die "label '$LABEL' is taken by a built-in target" ;; esac
[[ "$REPEATS" =~ ^[1-9][0-9]?$ ]] || die "REPEATS must be 1..99"
[[ "$GW_PORT" =~ ^[0-9]+$ ]] || die "GW_PORT must be a port number"
[ -x "$HARNESS_PY" ] || die "no harness venv at $HARNESS_PY; run $BENCH_DIR/setup.sh first"
for c in wrk curl ps taskset setsid flock timeout; do
  command -v "$c" >/dev/null || die "$c not found; run $BENCH_DIR/setup.sh first"
done
for p in "${PEER_LIST[@]}"; do
  case "$p" in nginx|litellm|portkey) ;; *) die "unknown peer '$p' (nginx litellm portkey)" ;; esac
  peer_installed "$p" || die "peer $p is not installed under $BENCH_HOME; run $BENCH_DIR/setup.sh"
done
taskset -c "$GW_CPU" true 2>/dev/null && taskset -c "$LOAD_CPU" true 2>/dev/null ||
  die "cannot pin to CPUs $GW_CPU and $LOAD_CPU (this machine has $(nproc)); set GW_CPU/LOAD_CPU"

mkdir -p "$RUN_DIR" "$RESULTS_DIR"
exec 9>"$RUN_DIR/compare.lock"
flock -n 9 || die "another compare.sh is running (lock $RUN_DIR/compare.lock)"

# Leftovers of a compare.sh that was killed hard (SIGKILL): stop them, matching pid and start time.
PIDFILE="$RUN_DIR/compare.pids"
if [ -s "$PIDFILE" ]; then
  while read -r pid st name; do
    if [ -n "$pid" ] && [ "$(start_time "$pid")" = "$st" ]; then
      log "stopping leftover $name (pid $pid) from an earlier run"; stop_group "$pid"
    fi
  done <"$PIDFILE"
fi
: >"$PIDFILE"

for port in "$MOCK_PORT" "$GW_PORT" $(for p in "${PEER_LIST[@]}"; do peer_port "$p"; done); do
  port_busy "$port" && die "127.0.0.1:$port is already in use; stop whatever listens there first"
done
[ "$GW_PORT" = "$MOCK_PORT" ] && die "GW_PORT must differ from the mock's port $MOCK_PORT"

OUT="$RESULTS_DIR/compare-$(date +%Y%m%d-%H%M%S)-$LABEL"
mkdir -p "$OUT"

# ---------------------------------------------------------------- process tracking and cleanup
TRACKED=()   # "pid name"
track() { TRACKED+=("$1 $2"); echo "$1 $(start_time "$1") $2" >>"$PIDFILE"; }
stop_tracked() {  # stop_tracked PID
  local i pid name
  for i in "${!TRACKED[@]}"; do
    read -r pid name <<<"${TRACKED[$i]}"
    [ "$pid" = "$1" ] || continue
    stop_group "$pid"
    unset 'TRACKED[i]'
    sed -i "/^$pid /d" "$PIDFILE"
  done
}
CLEANED=0
cleanup() {
  [ "$CLEANED" = 1 ] && return
  CLEANED=1
  local idx=("${!TRACKED[@]}") i pid name
  for ((i = ${#idx[@]} - 1; i >= 0; i--)); do   # newest first
    read -r pid name <<<"${TRACKED[${idx[i]}]}"
    log "stopping $name (pgid $pid)"
    stop_group "$pid"
  done
  TRACKED=()
  rm -f "$PIDFILE"
}
on_signal() { trap '' INT TERM HUP PIPE; log "$1: cleaning up"; cleanup; exit "$2"; }
trap 'on_signal interrupted 130' INT
trap 'on_signal terminated 143' TERM
trap 'on_signal "hang-up" 129' HUP
trap 'on_signal "output closed (SIGPIPE)" 141' PIPE   # e.g. compare.sh ... | head
trap cleanup EXIT

NOTES=()
note() { NOTES+=("$1"); log "PROBLEM: $1"; }

# run_bench TARGET BASE_URL PID [--header H ...]: REPEATS runs of bench.py, load pinned to $LOAD_CPU.
run_bench() {
  local target=$1 base=$2 pid=$3 r rc bpid tpid
  shift 3
  for ((r = 1; r <= REPEATS; r++)); do
    local logf="$OUT/$target-$r.bench.log"
    : >"$logf"
    spawn "$logf" "$LOAD_CPU" timeout "$BENCH_TIMEOUT" "$HARNESS_PY" "$BENCH_DIR/bench.py" "$base" "$target" --pids "$pid" \
      --json "$OUT/$target-$r.json" --skip-failed "$@"
    bpid=$SPAWNED_PID
    track "$bpid" "bench:$target"
    tail -n +1 -f --pid="$bpid" "$logf" 9>&- | grep --line-buffered -v '^|' 9>&- &
    tpid=$!
    wait "$bpid"; rc=$?
    wait "$tpid" 2>/dev/null
    stop_tracked "$bpid"
    case $rc in
      0) ;;
      3) ;;  # a preflight failed: compare_table.py lists it
      124) note "$target run $r: bench.py hit its ${BENCH_TIMEOUT} s limit and was stopped (log: $logf)" ;;
      *) note "$target run $r: bench.py exited $rc (log: $logf)" ;;
    esac
  done
}

# check_alive NAME PID: a target that died during its runs gets a problem line.
check_alive() {
  [ -d "/proc/$2" ] && return 0
  note "$1 exited during its run(s); figures after that point are not valid (log: $OUT/$1.log)"
}

# start_target NAME: start the gateway under test or a peer, wait until it answers.  Sets TARGET_PID.
start_target() {
  local name=$1 url secs logf="$OUT/$1.log"
  if [ "$name" = "$LABEL" ]; then
    spawn "$logf" "$GW_CPU" env GW_PORT="$GW_PORT" UPSTREAM_URL="$UPSTREAM_URL" bash -c "$GW_CMD"
    url=$GW_READY_URL; secs=$GW_START_TIMEOUT
  else
    spawn_peer "$name" "$logf" || return 1
    url=$(peer_health "$name"); secs=90
  fi
  TARGET_PID=$SPAWNED_PID
  track "$TARGET_PID" "$name"
  local t0=$SECONDS rc=0
  wait_http "$url" "$TARGET_PID" "$secs" || rc=$?
  if [ "$rc" != 0 ]; then
    if [ "$rc" = 2 ]; then log "$name exited before answering $url; last lines of $logf:"
    else log "$name did not answer $url within ${secs}s; last lines of $logf:"; fi
    tail -n 20 "$logf" >&2
    stop_tracked "$TARGET_PID"
    return 1
  fi
  log "$name ready after $((SECONDS - t0))s (pgid $TARGET_PID, CPU $( [ "$name" = mock ] && echo "$LOAD_CPU" || echo "$GW_CPU"))"
  sleep 2   # settle: the first run's "idle RSS" is read right after this
}

# ---------------------------------------------------------------- the runs
busy=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; sleep 1; awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
busy=$(echo $busy | awk '{b=$3-$1; i=$4-$2; printf "%d", (b+i) ? 100*b/(b+i) : 0}')
[ "$busy" -gt 15 ] && log "WARNING: the machine was ${busy}% busy before starting; expect noisy numbers"

TARGETS=(direct "$LABEL" "${PEER_LIST[@]}")
log "results in $OUT; targets: ${TARGETS[*]}; $REPEATS run(s) each"
{
  echo "gateway command: $GW_CMD"
  echo "GW_PORT=$GW_PORT GW_BASE_URL=$GW_BASE_URL GW_CPU=$GW_CPU LOAD_CPU=$LOAD_CPU REPEATS=$REPEATS BENCH_DUR=${BENCH_DUR:-8}"
  echo "started $(date '+%F %T'), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
} >"$OUT/meta.txt"

start_target mock || die "the mock upstream did not start (see $OUT/mock.log)"
MOCK_PID=$TARGET_PID

log "== $LABEL: $GW_CMD"
start_target "$LABEL" || die "the gateway under test did not start (log: $OUT/$LABEL.log)"
HDR=()
while IFS= read -r h; do [ -n "$h" ] && HDR+=(--header "$h"); done <<<"${GW_HEADER:-}"
run_bench "$LABEL" "$GW_BASE_URL" "$TARGET_PID" "${HDR[@]}"
check_alive "$LABEL" "$TARGET_PID"
stop_tracked "$TARGET_PID"
port_busy "$GW_PORT" &&
  note "$LABEL: 127.0.0.1:$GW_PORT still answers after its process group was stopped (did it daemonize?)"
[ -f "$OUT/$LABEL-1.json" ] || die "the bench run against $LABEL failed; see $OUT/$LABEL-1.bench.log"
if ! "$HARNESS_PY" - "$OUT/$LABEL-1.json" <<'PY'
import json, sys
R = json.load(open(sys.argv[1]))
if not R["scen"]:
    for k, v in R["preflight"].items():
        print("  preflight %s: HTTP %s %s" % (k, v["status"], v["sample"][:200]), file=sys.stderr)
    sys.exit(1)
PY
then
  die "$LABEL: nothing could be loaded (every preflight request failed); see $OUT"
fi

# direct after the gateway, so that a gateway that cannot start or answer fails within seconds
log "== direct (load straight to the mock)"
run_bench direct "$(peer_base direct)" "$MOCK_PID"

for p in "${PEER_LIST[@]}"; do
  log "== peer $p"
  if ! start_target "$p"; then note "peer $p did not start (log: $OUT/$p.log)"; continue; fi
  HDR=()
  while IFS= read -r h; do [ -n "$h" ] && HDR+=(--header "$h"); done < <(peer_headers "$p")
  run_bench "$p" "$(peer_base "$p")" "$TARGET_PID" "${HDR[@]}"
  check_alive "$p" "$TARGET_PID"
  stop_tracked "$TARGET_PID"
done
stop_tracked "$MOCK_PID"

NOTE_ARGS=()
for n in "${NOTES[@]}"; do NOTE_ARGS+=(--note "$n"); done
shopt -s nullglob
JSONS=("$OUT"/*.json)
echo
"$HARNESS_PY" "$BENCH_DIR/compare_table.py" --gateway "$LABEL" --targets "$(IFS=,; echo "${TARGETS[*]}")" \
  "${NOTE_ARGS[@]}" "${JSONS[@]}" | tee "$OUT/table.md"
rc=${PIPESTATUS[0]}
echo
log "wall time $(( (SECONDS - T_START) / 60 ))m$(( (SECONDS - T_START) % 60 ))s; results, logs and table.md in $OUT"
exit "$rc"
