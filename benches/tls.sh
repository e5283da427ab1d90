#!/usr/bin/env bash
# HTTPS with HTTP/2 (issue 13): bareasgi's `serve_tls` against bare hyper + tokio-rustls,
# the same certificate, the same rustls and crypto provider (aws-lc-rs), loaded by h2load from
# Debian's nghttp2-client. Each server pinned to one core, h2load on the other. One command:
#
#     benches/tls.sh
#
# Per round and server, two runs:
#   requests    h2load -D DURATION -c CLIENTS -m STREAMS: requests/s over a few long-lived
#               HTTP/2 connections, and the server's CPU time per request
#   handshakes  h2load -n HANDSHAKES -c HANDSHAKES -m 1, BURSTS times: every request on a
#               new connection, so a full TLS 1.3 handshake each: new handshakes/s, server
#               CPU per handshake (bursts of at most the listen backlog, 1024, so that no
#               SYN is dropped; several, so that the CPU time is many clock ticks)
# The server's CPU time is utime + stime from /proc/PID/stat around each run; steadier than
# requests/s on a shared machine.
#
# Settings (environment):
#   DURATION=10  ROUNDS=3  CLIENTS=8  STREAMS=16  HANDSHAKES=1000  BURSTS=4  WARMUP=2
#   KEY=ec (ECDSA P-256) or rsa (RSA 2048)      the certificate's key, made with openssl
#   SERVER_CPU=0 CLIENT_CPU=1 BASE_PORT=18440
#
# Writes target/bench/tls/: results.md (the table, also printed), results.csv, runs/.
set -euo pipefail

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-8}
STREAMS=${STREAMS:-16}
HANDSHAKES=${HANDSHAKES:-1000}
BURSTS=${BURSTS:-4}
WARMUP=${WARMUP:-2}
KEY=${KEY:-ec}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-18440}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/target/bench/tls
BIN=$ROOT/target/bench-servers/release
SERVERS=(hyper bareasgi)

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need h2load nghttp2-client
need openssl openssl
need taskset util-linux
need python3 python3
if (( $(nproc) < 2 )); then
    log "warning: $(nproc) core(s); the servers and h2load will share one"
    CLIENT_CPU=$SERVER_CPU
fi

log "building the servers (release, fat LTO)"
CARGO_TARGET_DIR=$ROOT/target/bench-servers \
    cargo build --release --quiet --manifest-path "$ROOT/benches/servers/Cargo.toml"

rm -rf "$OUT/runs"
mkdir -p "$OUT/runs"

log "making a $KEY certificate for localhost"
case $KEY in
    ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    rsa) newkey=(-newkey rsa:2048) ;;
    *) echo "KEY must be ec or rsa" >&2; exit 2 ;;
esac
openssl req -x509 "${newkey[@]}" -nodes -days 30 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null

declare -A PORT PID
n=0
for server in "${SERVERS[@]}"; do
    n=$((n + 1))
    PORT[$server]=$((BASE_PORT + n))
done

url() { echo "https://127.0.0.1:${PORT[$1]}/"; }

start() { # start SERVER: pinned to SERVER_CPU, and wait until it answers over TLS
    local server=$1
    taskset -c "$SERVER_CPU" "$BIN/${server}_server" "${PORT[$server]}" --tls "$OUT/cert.pem" "$OUT/key.pem" \
        >"$OUT/runs/$server.log" 2>&1 &
    PID[$server]=$!
    for _ in $(seq 100); do
        if h2load -n 1 -c 1 "$(url "$server")" 2>/dev/null | grep -q '1 succeeded'; then return; fi
        kill -0 "${PID[$server]}" 2>/dev/null || break
        sleep 0.1
    done
    log "$server did not start; its output:"
    cat "$OUT/runs/$server.log" >&2
    exit 1
}

stop() {
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
cleanup() { for server in "${!PID[@]}"; do stop "$server"; done; }
trap cleanup EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICKS_PER_SECOND=$(getconf CLK_TCK)

RESULTS=$OUT/results.csv
echo "round,server,run,seconds,succeeded,failed,req_per_s,cpu_seconds" >"$RESULTS"

run() { # run ROUND SERVER NAME TIMES H2LOAD-ARGS...: one measurement of TIMES h2load runs
    local round=$1 server=$2 name=$3 times=$4
    shift 4
    local file=$OUT/runs/$round-$name-$server.txt before after
    : >"$file"
    before=$(cpu_ticks "${PID[$server]}")
    for _ in $(seq "$times"); do
        taskset -c "$CLIENT_CPU" h2load "$@" "$(url "$server")" >>"$file" 2>&1 || true
    done
    after=$(cpu_ticks "${PID[$server]}")
    python3 - "$file" "$round" "$server" "$name" "$((after - before))" "$TICKS_PER_SECOND" >>"$RESULTS" <<'EOF'
import re, sys
path, round_, server, name, ticks, hz = sys.argv[1:]
text = open(path).read()
finished = re.findall(r"finished in ([\d.]+)(ms|s), ([\d.]+) req/s", text)
counts = re.findall(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", text)
if not finished or len(finished) != len(counts):
    sys.exit(f"cannot read h2load's output in {path}:\n{text}")
seconds = sum(float(t) / (1000 if unit == "ms" else 1) for t, unit, _ in finished)
succeeded = sum(int(ok) for ok, _ in counts)
failed = sum(int(bad) for _, bad in counts)
print(f"{round_},{server},{name},{seconds},{succeeded},{failed},{succeeded / seconds},{int(ticks) / int(hz)}")
EOF
}

read -r load1 _ </proc/loadavg
log "load average $load1 before starting"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

for server in "${SERVERS[@]}"; do
    start "$server"
    log "warming up $server (${WARMUP}s)"
    taskset -c "$CLIENT_CPU" h2load -D "$WARMUP" -c "$CLIENTS" -m "$STREAMS" "$(url "$server")" >/dev/null 2>&1 || true
done

for round in $(seq "$ROUNDS"); do
    # Alternate the order, so that neither server always goes first.
    order=("${SERVERS[@]}")
    (( round % 2 == 0 )) && order=("${SERVERS[1]}" "${SERVERS[0]}")
    for server in "${order[@]}"; do
        log "round $round/$ROUNDS  $server  requests (${DURATION}s, $CLIENTS connections x $STREAMS streams)"
        run "$round" "$server" requests 1 -D "$DURATION" -c "$CLIENTS" -m "$STREAMS"
        log "round $round/$ROUNDS  $server  handshakes ($BURSTS x $HANDSHAKES new connections)"
        run "$round" "$server" handshakes "$BURSTS" -n "$HANDSHAKES" -c "$HANDSHAKES" -m 1
    done
done

{
    echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -sr)"
    echo "rustc=$(rustc --version)"
    echo "h2load=$(h2load --version 2>&1 | head -1)"
    echo "load=$load1"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "settings=key $KEY, $ROUNDS round(s), requests: h2load -D $DURATION -c $CLIENTS -m $STREAMS; handshakes: $BURSTS x h2load -n $HANDSHAKES -c $HANDSHAKES -m 1; servers on core $SERVER_CPU, h2load on core $CLIENT_CPU"
} >"$OUT/runs/machine.txt"

python3 - "$RESULTS" "$OUT/runs/machine.txt" <<'EOF' | tee "$OUT/results.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
machine = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[2]))
def median(server, run, field):
    values = [float(r[field]) for r in rows if r["server"] == server and r["run"] == run]
    return statistics.median(values)
def cpu_us(server, run):
    per = [float(r["cpu_seconds"]) * 1e6 / int(r["succeeded"])
           for r in rows if r["server"] == server and r["run"] == run and int(r["succeeded"])]
    return statistics.median(per)
def failed(server):
    return sum(int(r["failed"]) for r in rows if r["server"] == server)
def handshakes_per_s(server):
    per = [int(r["succeeded"]) / float(r["seconds"])
           for r in rows if r["server"] == server and r["run"] == "handshakes"]
    return statistics.median(per)
servers = ["hyper", "bareasgi"]
print(f"# HTTPS with HTTP/2: bareasgi vs bare hyper + tokio-rustls\n")
print(f"{machine['settings']}. Medians over the rounds; ratios are bareasgi / hyper.\n")
print("| server | requests/s | server CPU µs/request | new handshakes/s | server CPU µs/handshake | failed |")
print("|---|---:|---:|---:|---:|---:|")
for s in servers:
    print(f"| {s} | {median(s, 'requests', 'req_per_s'):,.0f} | {cpu_us(s, 'requests'):.1f} | "
          f"{handshakes_per_s(s):,.0f} | {cpu_us(s, 'handshakes'):.0f} | {failed(s)} |")
h, b = "hyper", "bareasgi"
print(f"| **ratio** | **{median(b, 'requests', 'req_per_s') / median(h, 'requests', 'req_per_s'):.2f}×** | "
      f"**{cpu_us(b, 'requests') / cpu_us(h, 'requests'):.2f}×** | "
      f"**{handshakes_per_s(b) / handshakes_per_s(h):.2f}×** | "
      f"**{cpu_us(b, 'handshakes') / cpu_us(h, 'handshakes'):.2f}×** | |")
print(f"\n{machine['cpu']}, {machine['cores']} cores, {machine['kernel']}, {machine['rustc']}, "
      f"{machine['h2load']}; load average {machine['load']} at the start; {machine['date']}.")
EOF
