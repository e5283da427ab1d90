#!/usr/bin/env bash
# CPU instructions per request, counted by valgrind's callgrind: a measure of the work each
# server does for one request that, unlike requests/s, does not move when the machine is
# busy. User space only (the kernel's TCP work is not counted, and it is the same for all).
#
#     benches/instructions.sh
#
# Each server runs under callgrind with counting off; counting is switched on, wrk sends
# requests for SECONDS over CONNECTIONS connections, counting is switched off, and the
# total is divided by the requests wrk completed.
#
# Settings (environment):
#   SECONDS_PER_RUN=3  CONNECTIONS=8
#   SERVERS="hyper hyper-auto axum bareasgi axum-layers bareasgi-layers"
#   SCENARIOS="hello captures stream layers"  SERVER_CPU=0 CLIENT_CPU=1  PORT=18190
#   FEATURES=metrics builds the servers with bareasgi's `metrics` feature, for the server
#   `bareasgi-metrics` (metrics on); `bareasgi` is then the same binary with them off.
# The *-layers servers (CorsLayer + CompressionLayer around the app) serve only the "layers"
# scenario, GET / with an Origin and Accept-Encoding: gzip; the others every other one.
#
# Keeps each profile in target/bench/callgrind/SERVER-SCENARIO.out.1; look inside with
#     callgrind_annotate --inclusive=yes target/bench/callgrind/bareasgi-captures.out.1 | less
set -euo pipefail

SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
CONNECTIONS=${CONNECTIONS:-8}
SERVERS=${SERVERS:-"hyper hyper-auto axum bareasgi axum-layers bareasgi-layers"}
SCENARIOS=${SCENARIOS:-"hello captures stream layers"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18190}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/target/bench-servers/release
OUT=$ROOT/target/bench/callgrind

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need wrk wrk
need curl curl
need valgrind valgrind
if (( $(nproc) < 2 )); then CLIENT_CPU=$SERVER_CPU; fi

log "building the servers (release, fat LTO${FEATURES:+, features $FEATURES})"
CARGO_TARGET_DIR=$ROOT/target/bench-servers \
    cargo build --release --quiet --manifest-path "$ROOT/benches/servers/Cargo.toml" \
    ${FEATURES:+--features "$FEATURES"}
rm -rf "$OUT"
mkdir -p "$OUT"

path_of() {
    case $1 in
        hello | layers) echo / ;;
        captures) echo /users/42/posts/hello-world ;;
        stream) echo /stream ;;
        *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}
command_of() {
    case $1 in
        hyper) echo "$BIN/hyper_server $PORT" ;;
        hyper-auto) echo "$BIN/hyper_server $PORT --auto" ;;
        axum) echo "$BIN/axum_server $PORT" ;;
        bareasgi) echo "$BIN/bareasgi_server $PORT" ;;
        bareasgi-metrics) echo "$BIN/bareasgi_server $PORT --metrics" ;;
        axum-layers) echo "$BIN/axum_server $PORT --layers" ;;
        bareasgi-layers) echo "$BIN/bareasgi_server $PORT --layers" ;;
        *) echo "unknown server $1" >&2; exit 2 ;;
    esac
}
headers_of() {
    case $1 in
        layers) printf '%s\n' -H "Origin: http://example.com" -H "Accept-Encoding: gzip" ;;
    esac
}
serves() { # serves SERVER SCENARIO
    case $1 in
        *-layers) [[ $2 == layers ]] ;;
        *) [[ $2 != layers ]] ;;
    esac
}

PID=""
trap '[[ -z $PID ]] || kill -KILL "$PID" 2>/dev/null || true' EXIT

declare -A IR
for scenario in $SCENARIOS; do
    for server in $SERVERS; do
        serves "$server" "$scenario" || continue
        log "$scenario  $server"
        profile=$OUT/$server-$scenario.out
        # shellcheck disable=SC2046 # the command line is words
        taskset -c "$SERVER_CPU" valgrind --tool=callgrind --instr-atstart=no \
            --callgrind-out-file="$profile" $(command_of "$server") >"$OUT/$server-$scenario.log" 2>&1 &
        PID=$!
        for _ in $(seq 150); do
            curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break
            sleep 0.2
        done
        callgrind_control -i on "$PID" >/dev/null 2>&1
        mapfile -t headers < <(headers_of "$scenario")
        taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"$SECONDS_PER_RUN"s --timeout 10s "${headers[@]}" \
            "http://127.0.0.1:$PORT$(path_of "$scenario")" >"$OUT/$server-$scenario.wrk"
        callgrind_control -i off "$PID" >/dev/null 2>&1
        callgrind_control -d "$PID" >/dev/null 2>&1
        for _ in $(seq 50); do # wait for the dump to be complete
            grep -q '^totals:' "$profile.1" 2>/dev/null && break
            sleep 0.2
        done
        kill -KILL "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
        PID=""
        requests=$(awk '/requests in/ { print $1 }' "$OUT/$server-$scenario.wrk")
        total=$(awk '/^totals:/ { print $2; exit }' "$profile.1")
        IR[$scenario,$server]=$((total / requests))
    done
done

{
    printf '# Instructions per request\n\n'
    printf 'User space, counted by callgrind; wrk -t1 -c%s -d%ss per run; %s.\n\n' \
        "$CONNECTIONS" "$SECONDS_PER_RUN" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf '| scenario |'
    for server in $SERVERS; do printf ' %s |' "$server"; done
    printf '\n|---|'
    for _ in $SERVERS; do printf -- '---:|'; done
    printf '\n'
    for scenario in $SCENARIOS; do
        printf '| %s |' "$scenario"
        for server in $SERVERS; do printf ' %s |' "${IR[$scenario,$server]:-–}"; done
        printf '\n'
    done
} | tee "$ROOT/target/bench/instructions.md"
