#!/usr/bin/env bash
# Event streams at scale (issue 15): how many open streams a server holds, what each costs
# in memory, and how fast one broadcast reaches them all; bareasgi against axum's Sse with
# the same handler shape, clients and run, and against a floor with no framework (one
# write(2) per stream in a loop: what the kernel alone charges). One command:
#
#     benches/streams.sh                       # 19,900 streams per server, 10 broadcasts
#     SCALE=100000 benches/streams.sh          # and 100,000 on 7 reuse_port processes + Redis
#     STREAMS=2000 BROADCASTS=3 SERVERS=bareasgi benches/streams.sh   # a quick check
#
# Settings (environment): STREAMS=19900 BROADCASTS=10 PER_CLIENT=10000
# SERVERS="bareasgi axum floor" ROUNDS=1 SCALE=0 SCALE_SERVERS=7 SERVER_CPU=0 CLIENT_CPU=1
# GAP_MS=300 CONCURRENCY=256 PERF=1 SPIN=1 PERF_KEEP=FILE
# (see benches/servers/src/bin/streams.rs for what each does).
#
# OS settings it depends on, checked here and printed with the results:
# - open files per process: every server and client process raises its soft limit to the
#   hard limit itself; the hard limit (`ulimit -Hn`, LimitNOFILE= in systemd,
#   /etc/security/limits.conf) caps the streams of one process, and the harness says so;
# - net.ipv4.ip_local_port_range: ports per client source address; the clients spread
#   their connections over 127.B.0.2, 127.B.0.3, ... (two addresses per client process,
#   B from the harness's process id, new in every run), so it does not cap the total;
# - net.core.somaxconn: caps the listen backlog (bareasgi asks for 1,024); the clients keep
#   at most CONCURRENCY connects in flight each, so the backlog does not overflow.
#
# Writes target/bench/streams/results.md (also printed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/target/bench/streams
BIN=$ROOT/target/bench-servers/release

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need taskset util-linux
if (( ${SCALE:-0} > 0 )); then need redis-server redis-server; fi
if (( $(nproc) < 2 )); then
    log "warning: $(nproc) core(s); servers and clients will share one"
    export CLIENT_CPU=${SERVER_CPU:-0}
fi

hard=$(ulimit -Hn)
log "open files: hard limit $hard per process; ports per source address: $(awk '{ print $2 - $1 + 1 }' /proc/sys/net/ipv4/ip_local_port_range); somaxconn $(cat /proc/sys/net/core/somaxconn)"
if [[ $hard != unlimited ]] && (( hard < ${STREAMS:-19900} + 100 )); then
    log "warning: the hard limit ($hard) caps a server process below ${STREAMS:-19900} streams"
fi

log "building the servers and the harness (release, fat LTO)"
CARGO_TARGET_DIR=$ROOT/target/bench-servers \
    cargo build --release --quiet --manifest-path "$ROOT/benches/servers/Cargo.toml"

mkdir -p "$OUT"
"$BIN/streams" | tee "$OUT/results.md"
