#!/usr/bin/env bash
# The load comparison of issue 5: bare hyper, axum and bareasgi (and, when pip can install
# it, the Python bareASGI on uvicorn) serving the same endpoints, each pinned to one core
# with wrk on the other; and issue 10's row, axum and bareasgi wrapped in the same tower-http
# CorsLayer + CompressionLayer; and issue 15's h2c row, HTTP/2 without TLS under h2load (from
# Debian's nghttp2-client) against bare hyper (hyper-util's auto builder), axum and bareasgi.
# Each run also measures the server's CPU time per request
# (utime + stime from /proc/PID/stat over the run, divided by the requests wrk completed),
# which is steadier than requests/s on a shared machine. One command:
#
#     benches/load.sh
#
# Settings (environment):
#   DURATION=10      seconds per wrk run           ROUNDS=3       rounds; medians are reported
#   CONNECTIONS=64   wrk connections               WARMUP=1       seconds of warm-up per server and scenario
#   SERVERS="hyper hyper-auto axum bareasgi axum-layers bareasgi-layers bareasgi-no-ping"
#                                                  which Rust servers, in this order in round 1;
#                                                  bareasgi-no-ping (h2c only) is bareasgi without
#                                                  its HTTP/2 keep-alive pings, to show their cost
#   SCENARIOS="hello captures stream layers h2c"   which endpoints; "layers" is GET / with an
#                                                  Origin and Accept-Encoding: gzip, served by
#                                                  the *-layers servers only; "h2c" is GET /
#                                                  over HTTP/2 with prior knowledge, by h2load
#                                                  (hyper-auto, axum and bareasgi only)
#   H2C_REQUESTS=200000 H2C_CLIENTS=16 H2C_STREAMS=10
#                                                  h2load -n REQUESTS -c CLIENTS -m STREAMS per h2c run
#                                                  (the warm-up: a tenth of REQUESTS)
#   PYTHON=auto      auto: add the Python row if pip can install it; 0: skip it
#   PYTHON_PACKAGES="bareasgi uvicorn"             what pip installs for it (into target/bench/venv)
#   IDLE_CONNS=1000  idle keep-alive connections for the memory measurement (0: skip it)
#   SERVER_CPU=0 CLIENT_CPU=1                      the cores the servers and wrk are pinned to
#   BASE_PORT=18080
#
# Writes target/bench/: results.md (the tables), results.csv, memory.csv, ratios.svg,
# and runs/ with every wrk output.
set -euo pipefail

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-1}
SERVERS=${SERVERS:-"hyper hyper-auto axum bareasgi axum-layers bareasgi-layers bareasgi-no-ping"}
SCENARIOS=${SCENARIOS:-"hello captures stream layers h2c"}
H2C_REQUESTS=${H2C_REQUESTS:-200000}
H2C_CLIENTS=${H2C_CLIENTS:-16}
H2C_STREAMS=${H2C_STREAMS:-10}
PYTHON=${PYTHON:-auto}
PYTHON_PACKAGES=${PYTHON_PACKAGES:-"bareasgi uvicorn"}
IDLE_CONNS=${IDLE_CONNS:-1000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-18080}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/target/bench
BIN=$ROOT/target/bench-servers/release
VENV=$OUT/venv

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- tools --------------------------------------------------------------------------------
need wrk wrk
need curl curl
need taskset util-linux
need python3 python3
[[ " $SCENARIOS " == *" h2c "* ]] && need h2load nghttp2-client
if (( $(nproc) < 2 )); then
    log "warning: $(nproc) core(s); the servers and wrk will share one"
    CLIENT_CPU=$SERVER_CPU
fi

# --- build --------------------------------------------------------------------------------
log "building the servers (release, fat LTO)"
CARGO_TARGET_DIR=$ROOT/target/bench-servers \
    cargo build --release --quiet --manifest-path "$ROOT/benches/servers/Cargo.toml"

rm -rf "$OUT/runs"
mkdir -p "$OUT/runs"

PY_ROW=0
if [[ $PYTHON != 0 ]]; then
    if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import bareasgi, uvicorn' 2>/dev/null; then
        PY_ROW=1
    else
        log "installing $PYTHON_PACKAGES for the Python row (target/bench/venv)"
        # shellcheck disable=SC2086 # PYTHON_PACKAGES is a list
        if python3 -m venv "$VENV" >/dev/null 2>&1 \
            && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PYTHON_PACKAGES >/dev/null 2>&1; then
            PY_ROW=1
        else
            log "could not install $PYTHON_PACKAGES; no Python row"
        fi
    fi
fi

# --- servers ------------------------------------------------------------------------------
declare -A PORT PID
read -r -a ALL_SERVERS <<<"$SERVERS"
(( PY_ROW )) && ALL_SERVERS+=(python)
n=0
for server in "${ALL_SERVERS[@]}"; do
    n=$((n + 1))
    PORT[$server]=$((BASE_PORT + n))
done

command_of() { # the command line of a server
    case $1 in
        hyper) echo "$BIN/hyper_server ${PORT[$1]}" ;;
        hyper-auto) echo "$BIN/hyper_server ${PORT[$1]} --auto" ;;
        axum) echo "$BIN/axum_server ${PORT[$1]}" ;;
        bareasgi) echo "$BIN/bareasgi_server ${PORT[$1]}" ;;
        axum-layers) echo "$BIN/axum_server ${PORT[$1]} --layers" ;;
        bareasgi-layers) echo "$BIN/bareasgi_server ${PORT[$1]} --layers" ;;
        bareasgi-no-ping) echo "env BAREASGI_H2_KEEP_ALIVE=0 $BIN/bareasgi_server ${PORT[$1]}" ;;
        python) echo "$VENV/bin/python $ROOT/benches/bare_hello.py ${PORT[$1]}" ;;
        *) echo "unknown server $1" >&2; exit 2 ;;
    esac
}

start() { # start SERVER: pinned to SERVER_CPU, and wait until it answers
    local server=$1
    # shellcheck disable=SC2046 # the command line is words
    taskset -c "$SERVER_CPU" $(command_of "$server") >"$OUT/runs/$server.log" 2>&1 &
    PID[$server]=$!
    for _ in $(seq 100); do
        if curl -sf -o /dev/null "http://127.0.0.1:${PORT[$server]}/"; then return; fi
        if ! kill -0 "${PID[$server]}" 2>/dev/null; then break; fi
        sleep 0.1
    done
    log "$server did not start; its output:"
    cat "$OUT/runs/$server.log" >&2
    exit 1
}

stop() { # stop SERVER: SIGTERM, then SIGKILL after 3 s
    local server=$1 pid=${PID[$1]:-}
    [[ -n $pid ]] || return 0
    unset "PID[$server]"
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

HELPER=""
cleanup() {
    [[ -n $HELPER ]] && kill "$HELPER" 2>/dev/null
    for server in "${!PID[@]}"; do stop "$server"; done
}
trap cleanup EXIT

path_of() {
    case $1 in
        hello | layers | h2c) echo / ;;
        captures) echo /users/42/posts/hello-world ;;
        stream) echo /stream ;;
        *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}

headers_of() { # wrk arguments: the layers scenario is a cross-origin client accepting gzip
    case $1 in
        layers) printf '%s\n' -H "Origin: http://example.com" -H "Accept-Encoding: gzip" ;;
    esac
}

serves() { # serves SERVER SCENARIO: whether the server has that endpoint
    if [[ $2 == h2c ]]; then
        [[ $1 == hyper-auto || $1 == axum || $1 == bareasgi || $1 == bareasgi-no-ping ]]
        return
    fi
    [[ $1 == bareasgi-no-ping ]] && return 1
    case $1 in
        python) [[ $2 == hello ]] ;;
        *-layers) [[ $2 == layers ]] ;;
        *) [[ $2 != layers ]] ;;
    esac
}

cpu_ticks() { # utime + stime of a process, in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

run_wrk() { # run_wrk SERVER SCENARIO SECONDS OUTPUT: also writes OUTPUT.cpu, the server's ticks
    local headers=() before
    if [[ $2 == h2c ]]; then
        run_h2load "$@"
        return
    fi
    mapfile -t headers < <(headers_of "$2")
    before=$(cpu_ticks "${PID[$1]}")
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"$3"s --latency "${headers[@]}" \
        "http://127.0.0.1:${PORT[$1]}$(path_of "$2")" >"$4" 2>&1 || {
        log "wrk failed against $1 $2:"
        cat "$4" >&2
        exit 1
    }
    echo $(($(cpu_ticks "${PID[$1]}") - before)) >"$4.cpu"
}

run_h2load() { # run_h2load SERVER h2c SECONDS OUTPUT: a fixed number of requests, not SECONDS
    local requests=$H2C_REQUESTS before
    [[ $4 == */warmup.txt ]] && requests=$((H2C_REQUESTS / 10))
    before=$(cpu_ticks "${PID[$1]}")
    taskset -c "$CLIENT_CPU" h2load -n "$requests" -c "$H2C_CLIENTS" -m "$H2C_STREAMS" \
        "http://127.0.0.1:${PORT[$1]}/" >"$4" 2>&1 || {
        log "h2load failed against $1:"
        cat "$4" >&2
        exit 1
    }
    echo $(($(cpu_ticks "${PID[$1]}") - before)) >"$4.cpu"
}

# --- throughput and latency ---------------------------------------------------------------
read -r load1 _ </proc/loadavg
log "load average $load1 before starting$(awk -v l="$load1" 'BEGIN { if (l > 0.5) print " — the machine is busy; expect noisy numbers" }')"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

for server in "${ALL_SERVERS[@]}"; do start "$server"; done
if (( WARMUP > 0 )); then
    log "warming up (${WARMUP}s per server and scenario)"
    for scenario in $SCENARIOS; do
        for server in "${ALL_SERVERS[@]}"; do
            serves "$server" "$scenario" || continue
            run_wrk "$server" "$scenario" "$WARMUP" "$OUT/runs/warmup.txt"
        done
    done
fi

MANIFEST=$OUT/runs/manifest.csv
echo "round,scenario,server,file" >"$MANIFEST"
count=${#ALL_SERVERS[@]}
for round in $(seq "$ROUNDS"); do
    # Rotate the order every round, so no server always runs first or last.
    order=()
    for i in $(seq 0 $((count - 1))); do
        order+=("${ALL_SERVERS[$(((i + round - 1) % count))]}")
    done
    for scenario in $SCENARIOS; do
        for server in "${order[@]}"; do
            serves "$server" "$scenario" || continue
            file=$OUT/runs/$round-$scenario-$server.txt
            if [[ $scenario == h2c ]]; then
                log "round $round/$ROUNDS  $scenario  $server  ($H2C_REQUESTS requests)"
            else
                log "round $round/$ROUNDS  $scenario  $server  (${DURATION}s)"
            fi
            run_wrk "$server" "$scenario" "$DURATION" "$file"
            echo "$round,$scenario,$server,$file" >>"$MANIFEST"
        done
    done
done
for server in "${ALL_SERVERS[@]}"; do stop "$server"; done

# --- memory -------------------------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

MEMORY=$OUT/memory.csv
echo "server,idle_rss_kib,connections,loaded_rss_kib" >"$MEMORY"
if (( IDLE_CONNS > 0 )); then
    for server in "${ALL_SERVERS[@]}"; do
        log "memory: $server idle, then with $IDLE_CONNS idle keep-alive connections"
        start "$server" # its readiness check was one request
        sleep 0.5
        idle=$(rss_kib "${PID[$server]}")
        ready=$OUT/runs/idle-$server.txt
        taskset -c "$CLIENT_CPU" "$BIN/idle_conns" "127.0.0.1:${PORT[$server]}" "$IDLE_CONNS" 60 >"$ready" 2>&1 &
        HELPER=$!
        for _ in $(seq 300); do
            grep -q ready "$ready" && break
            kill -0 "$HELPER" 2>/dev/null || break
            sleep 0.1
        done
        if grep -q ready "$ready"; then
            sleep 0.5
            echo "$server,$idle,$IDLE_CONNS,$(rss_kib "${PID[$server]}")" >>"$MEMORY"
        else
            log "could not hold $IDLE_CONNS connections to $server:"
            cat "$ready" >&2
            echo "$server,$idle,0," >>"$MEMORY"
        fi
        kill "$HELPER" 2>/dev/null || true
        wait "$HELPER" 2>/dev/null || true
        HELPER=""
        stop "$server"
    done
fi

# --- report -------------------------------------------------------------------------------
{
    echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -sr)"
    echo "rustc=$(rustc --version)"
    echo "wrk=$(wrk --version 2>&1 | head -1 | awk '{ print $2 }')"
    command -v h2load >/dev/null && echo "h2load=$(h2load --version 2>&1 | head -1)"
    (( PY_ROW )) && echo "python=$("$VENV/bin/python" -c 'import sys, importlib.metadata as m; print(sys.version.split()[0], "bareasgi", m.version("bareasgi"), "uvicorn", m.version("uvicorn"))')"
    echo "load=$load1"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "settings=wrk -t1 -c$CONNECTIONS -d${DURATION}s$([[ " $SCENARIOS " == *" h2c "* ]] && echo ", h2c: h2load -n $H2C_REQUESTS -c $H2C_CLIENTS -m $H2C_STREAMS"), $ROUNDS round(s), servers on core $SERVER_CPU, the load generator on core $CLIENT_CPU"
    echo "clk_tck=$(getconf CLK_TCK)"
} >"$OUT/runs/machine.txt"
python3 "$ROOT/benches/report.py" "$OUT"
