#!/usr/bin/env bash
# User-space CPU instructions per delivered event of a broadcast, counted by valgrind's
# callgrind: the event-stream harness's servers (`benches/servers`), STREAMS open streams
# from one `sse_clients` process, BROADCASTS messages published one at a time with
# `POST /messages`; counting is on only from the first publish to the last delivery.
# A busy machine does not move the count, unlike the CPU time in benches/streams.sh; the
# kernel's share (the send, loopback TCP) is not in it.
#
#     benches/broadcast_instructions.sh
#
# Settings (environment): SERVERS="bareasgi axum floor" STREAMS=2000 BROADCASTS=5
# PORT=18300 FEATURES= (metrics: build with bareasgi's `metrics` feature, for the server
# `bareasgi-metrics`, metrics on) CACHE_SIM=0 (1: also simulate the caches and print the data misses per
# delivery, first-level reads and last-level reads; e.g. at STREAMS=19900 BROADCASTS=2,
# where the streams' state no longer fits in the cache). Keeps each profile in target/bench/callgrind/broadcast-SERVER.out; look
# inside with `callgrind_annotate --inclusive=yes FILE | less`.
set -euo pipefail

SERVERS=${SERVERS:-"bareasgi axum floor"}
STREAMS=${STREAMS:-2000}
BROADCASTS=${BROADCASTS:-5}
PORT=${PORT:-18300}
CACHE_SIM=${CACHE_SIM:-0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/target/bench-servers/release
OUT=$ROOT/target/bench/callgrind

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need valgrind valgrind
need curl curl

log "building the servers and the harness (release, fat LTO${FEATURES:+, features $FEATURES})"
CARGO_TARGET_DIR=$ROOT/target/bench-servers \
    cargo build --release --quiet --manifest-path "$ROOT/benches/servers/Cargo.toml" \
    ${FEATURES:+--features "$FEATURES"}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"

if [[ $CACHE_SIM == 1 ]]; then
    cache=(--cache-sim=yes)
    printf '| server | streams | deliveries | instructions per delivered event | D1 read misses | LL read misses |\n|---|---:|---:|---:|---:|---:|\n'
else
    cache=()
    printf '| server | streams | deliveries | instructions per delivered event |\n|---|---:|---:|---:|\n'
fi
for server in $SERVERS; do
    case $server in
        bareasgi) command=("$BIN/sse_bareasgi" "$PORT" memory) ;;
        bareasgi-metrics) command=("$BIN/sse_bareasgi" "$PORT" memory --metrics) ;;
        axum) command=("$BIN/sse_axum" "$PORT") ;;
        floor) command=("$BIN/sse_floor" "$PORT") ;;
        *) log "unknown server $server"; exit 2 ;;
    esac
    profile=$OUT/broadcast-$server.out
    rm -f "$profile" "$profile".*
    valgrind --tool=callgrind "${cache[@]}" --instr-atstart=no --callgrind-out-file="$profile" \
        "${command[@]}" 2>"$OUT/broadcast-$server.log" &
    server_pid=$!
    for _ in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
        sleep 0.1
    done
    coproc CLIENTS { "$BIN/sse_clients" "127.0.0.1:$PORT" "$STREAMS" 127.254.0.2,127.254.0.3 64; }
    read -r _limit <&"${CLIENTS[0]}"
    read -r _ready <&"${CLIENTS[0]}"
    echo go >&"${CLIENTS[1]}"
    read -r opened <&"${CLIENTS[0]}"
    log "$server: $opened"
    callgrind_control -i on "$server_pid" >/dev/null
    delivered=0
    for seq in $(seq 1 "$BROADCASTS"); do
        curl -s -o /dev/null -X POST --data "$seq 1 $(printf 'x%.0s' {1..80})" \
            "http://127.0.0.1:$PORT/messages"
        echo "wait $seq 30000" >&"${CLIENTS[1]}"
        read -r _ _ count <&"${CLIENTS[0]}"
        delivered=$((delivered + count))
    done
    callgrind_control -i off "$server_pid" >/dev/null
    callgrind_control -d "$server_pid" >/dev/null
    kill "$server_pid" "$CLIENTS_PID" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    # The totals line: "N (100.0%)" per event, in the order Ir [Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw].
    read -r -a totals < <(callgrind_annotate "$profile".1 2>/dev/null |
        awk '/PROGRAM TOTALS/ && !seen { gsub(",", ""); for (i = 1; i < NF; i += 2) printf "%s ", $i; print ""; seen = 1 }')
    if [[ $CACHE_SIM == 1 ]]; then
        printf '| %s | %s | %s | %s | %s | %s |\n' "$server" "$STREAMS" "$delivered" \
            "$((totals[0] / delivered))" \
            "$(awk -v m="${totals[4]}" -v d="$delivered" 'BEGIN { printf "%.1f", m / d }')" \
            "$(awk -v m="${totals[7]}" -v d="$delivered" 'BEGIN { printf "%.1f", m / d }')"
    else
        printf '| %s | %s | %s | %s |\n' "$server" "$STREAMS" "$delivered" "$((totals[0] / delivered))"
    fi
done
