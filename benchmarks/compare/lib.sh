# lib.sh: settings and helpers shared by setup.sh and compare.sh.
# Source it; do not run it.  Everything installed or written lives under $BENCH_HOME.

export BENCH_HOME="${BENCH_HOME:-/tmp/aiport-bench}"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HARNESS_PY="$BENCH_HOME/harness/bin/python"
LITELLM_BIN="$BENCH_HOME/litellm/bin/litellm"
PORTKEY_DIR="$BENCH_HOME/portkey"
PORTKEY_JS="node_modules/@portkey-ai/gateway/build/start-server.js"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
RUN_DIR="$BENCH_HOME/run"
RESULTS_DIR="$BENCH_HOME/results"
GW_CPU="${GW_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
LITELLM_WORKERS="${LITELLM_WORKERS:-1}"

# Fixed ports: peers/litellm_config.yaml and peers/nginx.conf name 18000 and 18080 literally.
MOCK_PORT=18000
UPSTREAM_URL="http://127.0.0.1:$MOCK_PORT/v1"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# peer_port / peer_base / peer_health / peer_headers NAME: how to reach each known target.
peer_port() {
  case "$1" in
    direct|mock) echo "$MOCK_PORT" ;; nginx) echo 18080 ;; litellm) echo 4000 ;; portkey) echo 8787 ;;
    *) return 1 ;;
  esac
}
peer_base() { echo "http://127.0.0.1:$(peer_port "$1")/v1"; }
peer_health() {
  case "$1" in
    direct|mock|nginx) echo "http://127.0.0.1:$(peer_port "$1")/health" ;;
    litellm) echo "http://127.0.0.1:4000/health/liveliness" ;;
    portkey) echo "http://127.0.0.1:8787/" ;;
  esac
}
# Prints one header per line.
peer_headers() {
  case "$1" in
    litellm) echo "Authorization: Bearer sk-bench-1234" ;;
    portkey) printf '%s\n' "Authorization: Bearer sk-mock-upstream" "x-portkey-provider: openai" \
                            "x-portkey-custom-host: $UPSTREAM_URL" ;;
  esac
}

# port_busy PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# spawn LOG CPU CMD...: start CMD in its own session (so its process group id is its pid), pinned to CPU,
# stdout+stderr to LOG.  Sets SPAWNED_PID.  fd 9 (compare.sh's lock) is not passed on.
spawn() {
  local logf=$1 cpu=$2; shift 2
  setsid taskset -c "$cpu" "$@" >"$logf" 2>&1 </dev/null 9>&- &
  SPAWNED_PID=$!
}

# spawn_peer NAME LOG: start the mock or a peer gateway.  Sets SPAWNED_PID.
spawn_peer() {
  local name=$1 logf=$2
  case "$name" in
    mock)
      spawn "$logf" "$LOAD_CPU" env MOCK_PORT="$MOCK_PORT" "$HARNESS_PY" "$BENCH_DIR/mock_upstream.py" ;;
    nginx)
      mkdir -p "$BENCH_HOME/nginx"
      # -p: relative paths in nginx.conf (pid, error_log, temp dirs) resolve under $BENCH_HOME/nginx.
      spawn "$logf" "$GW_CPU" "$NGINX_BIN" -p "$BENCH_HOME/nginx/" -e "$BENCH_HOME/nginx/error.log" \
        -c "$BENCH_DIR/peers/nginx.conf" ;;
    litellm)
      # cwd = $RUN_DIR so nothing LiteLLM writes lands in the harness folder.
      cd "$RUN_DIR" || return 1
      spawn "$logf" "$GW_CPU" env LITELLM_MODE=PRODUCTION LITELLM_LOG=ERROR LITELLM_LOCAL_MODEL_COST_MAP=True \
        LITELLM_TELEMETRY_DISABLED=true NO_DOCS=True "$LITELLM_BIN" --config "$BENCH_DIR/peers/litellm_config.yaml" \
        --host 127.0.0.1 --port 4000 --num_workers "$LITELLM_WORKERS"
      cd - >/dev/null ;;
    portkey)
      cd "$PORTKEY_DIR" || return 1
      spawn "$logf" "$GW_CPU" env NODE_ENV=production node "$PORTKEY_JS" --headless --port=8787
      cd - >/dev/null ;;
    *) log "unknown peer $name"; return 2 ;;
  esac
}

# peer_installed NAME: true when setup.sh has installed what NAME needs.
peer_installed() {
  case "$1" in
    mock|direct) [ -x "$HARNESS_PY" ] ;;
    nginx) [ -x "$NGINX_BIN" ] ;;
    litellm) [ -x "$LITELLM_BIN" ] ;;
    portkey) [ -f "$PORTKEY_DIR/$PORTKEY_JS" ] && grep -q '__uh(e,t,a)' "$PORTKEY_DIR/$PORTKEY_JS" ;;
    *) return 1 ;;
  esac
}

# wait_http URL PID SECONDS: wait until URL answers anything over HTTP.
# Returns 1 on timeout, 2 as soon as the process group PID is gone.
wait_http() {
  local url=$1 pid=$2 secs=$3 i
  for ((i = 0; i < secs * 4; i++)); do
    if curl -s -o /dev/null -m 2 "$url"; then return 0; fi
    kill -0 -- "-$pid" 2>/dev/null || return 2
    sleep 0.25
  done
  return 1
}

# descendants PID: every process below PID (by parent links), whatever its process group.
descendants() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END { n = split(kids[root], q, " "); while (n > 0) { p = q[n--]; print p;
          m = split(kids[p], c, " "); for (i = 1; i <= m; i++) q[++n] = c[i] } }'
}

# stop_group PID: TERM the process group PID (and any descendant that left it), KILL after 10 s.
stop_group() {
  local pid=$1 kids i
  kids=$(descendants "$pid")
  kill -TERM -- "-$pid" 2>/dev/null
  kill -TERM "$pid" $kids 2>/dev/null
  for ((i = 0; i < 40; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || { [ -n "$kids" ] && kill -0 $kids 2>/dev/null; } || break
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null
  kill -KILL "$pid" $kids 2>/dev/null
  return 0
}

# start_time PID: the kernel's start time of PID (clock ticks since boot); guards against pid reuse.
start_time() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo "${20}"; }
