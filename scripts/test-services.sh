#!/usr/bin/env bash
# Start (or stop) a private PostgreSQL cluster and redis-server for aiport's tests.
#
#   eval "$(scripts/test-services.sh)"      # start if needed; prints two `export` lines
#   scripts/test-services.sh stop           # stop both
#
# Idempotent: services already answering are left alone. Everything lives under
# ${AIPORT_SERVICES_DIR:-/tmp/aiport-services-25432}; both listen on loopback only, on ports
# that do not collide with a system PostgreSQL (5432) or Redis (6379), and below Linux's
# ephemeral range (32768-60999): a port in it can be held by any outgoing connection at the
# moment the service starts (55432 was, and PostgreSQL could not bind). PostgreSQL uses
# trust auth (tests only) and fsync off; Redis keeps nothing on disk. Only the export lines
# go to stdout, so the output is safe to eval; progress and errors go to stderr.
set -euo pipefail

PG_PORT=25432
REDIS_PORT=26379
DIR="${AIPORT_SERVICES_DIR:-/tmp/aiport-services-$PG_PORT}"
PG_DATA="$DIR/pg"
PG_DB=aiport_test

log() { echo "test-services: $*" >&2; }

pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

ensure_packages() {
    local missing=()
    pg_bindir >/dev/null || missing+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        log "missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root"
        exit 1
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
    # Debian's packages start system-wide services where an init system runs; ours are
    # private and on other ports, so those are neither needed nor in the way.
}

# Run a command as the cluster's owner: initdb and postgres refuse to run as root.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; }

start_pg() {
    BIN="$(pg_bindir)"
    if pg_ready; then
        log "postgresql already running on 127.0.0.1:$PG_PORT"
    else
        mkdir -p "$DIR"
        chmod 755 "$DIR"
        if [ ! -s "$PG_DATA/PG_VERSION" ]; then
            rm -rf "$PG_DATA"
            mkdir -p "$PG_DATA"
            [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DATA"
            chmod 700 "$PG_DATA"
            log "initdb $PG_DATA"
            as_pg "$BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
                --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || {
                cat "$DIR/initdb.log" >&2
                exit 1
            }
        fi
        touch "$DIR/pg.log"
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR/pg.log"
        log "starting postgresql on 127.0.0.1:$PG_PORT"
        # A cluster killed moments ago (a previous session's, say) can leave a pidfile and
        # processes still exiting: retry for a while rather than fail the whole test run.
        local attempt
        for attempt in 1 2 3 4 5 6 7 8 9 10; do
            if [ -f "$PG_DATA/postmaster.pid" ] && ! as_pg "$BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
                rm -f "$PG_DATA/postmaster.pid"
            fi
            as_pg "$BIN/pg_ctl" -D "$PG_DATA" -l "$DIR/pg.log" -w -t 60 start -o \
                "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DATA \
                 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                 -c max_connections=200" >&2 && break
            if [ "$attempt" -eq 10 ]; then
                tail -20 "$DIR/pg.log" >&2
                exit 1
            fi
            log "postgresql did not start (attempt $attempt); retrying"
            sleep 1
        done
    fi
    local exists
    exists="$("$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")"
    if [ "$exists" != "1" ]; then
        log "creating database $PG_DB"
        "$BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB"
    fi
}

redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start_redis() {
    if redis_ready; then
        log "redis already running on 127.0.0.1:$REDIS_PORT"
        return 0
    fi
    mkdir -p "$DIR/redis"
    log "starting redis on 127.0.0.1:$REDIS_PORT"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
        --save '' --appendonly no --daemonize yes --dir "$DIR/redis" \
        --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" >&2
    local i
    for i in $(seq 1 50); do
        redis_ready && return 0
        sleep 0.1
    done
    log "redis did not answer; see $DIR/redis.log"
    tail -20 "$DIR/redis.log" >&2 || true
    exit 1
}

stop_all() {
    if BIN="$(pg_bindir)" && [ -s "$PG_DATA/PG_VERSION" ]; then
        if as_pg "$BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
            log "stopping postgresql"
            as_pg "$BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >&2
        fi
    fi
    if command -v redis-cli >/dev/null 2>&1 && redis_ready; then
        log "stopping redis"
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
}

case "${1:-start}" in
    start)
        ensure_packages
        start_pg
        start_redis
        echo "export AIPORT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB"
        echo "export AIPORT_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
        ;;
    stop)
        stop_all
        ;;
    *)
        echo "usage: $0 [start|stop]" >&2
        exit 2
        ;;
esac
