#!/usr/bin/env bash
# Autobahn|Testsuite's fuzzingclient, every case from 1.* to 13.* (517 with
# permessage-deflate), against examples/ws_echo.rs built in release; fails on any case
# FAILED or UNIMPLEMENTED, and on a count other than CASES (517).
#
#   benches/autobahn.sh                 # about 3 minutes on 2 cores (see benches/README.md)
#
# The suite is Python 2.7 only: it is installed once into a virtualenv of pyenv's 2.7.18
# (`pyenv install 2.7.18` if `pyenv versions` lacks it), or of AUTOBAHN_PYTHON, under
# target/autobahn/venv (with wsaccel, its C speed-ups). Reports (HTML and JSON) go to
# target/autobahn/reports-N, one per group of cases run side by side (JOBS=1: one group).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. benches/lib.sh

WORK=target/autobahn
VENV=$WORK/venv
CASES=${CASES:-517}
PYTHON=${AUTOBAHN_PYTHON:-$HOME/.pyenv/versions/2.7.18/bin/python}
mkdir -p "$WORK"

if [[ ! -x $VENV/bin/wstest ]]; then
    [[ -x $PYTHON ]] || { log "no Python 2.7 at $PYTHON: pyenv install 2.7.18, or set AUTOBAHN_PYTHON"; exit 1; }
    log "installing autobahntestsuite into $VENV"
    "$PYTHON" -m pip install -q "virtualenv<20.22"
    "$PYTHON" -m virtualenv -q "$VENV"
    "$VENV/bin/pip" install -q autobahntestsuite wsaccel
fi

log "building examples/ws_echo.rs (release)"
cargo build -q --release --example ws_echo
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=${RUST_LOG:-warn} PORT=$PORT target/release/examples/ws_echo >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

# The suite's client is Python and the slow side (12.* and 13.* send 1,000 compressed
# messages each): the cases run in JOBS groups side by side, each with its own report.
JOBS=${JOBS:-4}
GROUPS_OF_CASES=('"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "8.*", "9.*", "10.*", "11.*", "12.1.*"'
    '"12.2.*", "12.3.*", "12.4.*", "12.5.*"' '"13.1.*", "13.2.*", "13.3.*"' '"13.4.*", "13.5.*", "13.6.*", "13.7.*"')
[[ $JOBS -ge 4 ]] || GROUPS_OF_CASES=('"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "8.*", "9.*", "10.*", "11.*", "12.*", "13.*"')
rm -rf "$WORK"/reports*
log "running the fuzzingclient on port $PORT (${#GROUPS_OF_CASES[@]} groups)"
start=$(date +%s)
clients=()
for i in "${!GROUPS_OF_CASES[@]}"; do
    cat >"$WORK/fuzzingclient-$i.json" <<JSON
{
  "outdir": "reports-$i",
  "servers": [{"agent": "bareasgi", "url": "ws://127.0.0.1:$PORT/ws"}],
  "cases": [${GROUPS_OF_CASES[$i]}],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
    (cd "$WORK" && exec venv/bin/wstest -m fuzzingclient -s "fuzzingclient-$i.json") >"$WORK/wstest-$i.log" 2>&1 &
    clients+=($!)
done
for client in "${clients[@]}"; do wait "$client"; done
log "done in $(( $(date +%s) - start )) s"

python3 - "$CASES" "$WORK"/reports-*/index.json <<'PY'
import collections, json, sys
cases = {}
for path in sys.argv[2:]:
    cases.update(json.load(open(path))["bareasgi"])
behaviour = collections.Counter(c["behavior"] for c in cases.values())
close = collections.Counter(c["behaviorClose"] for c in cases.values())
print("cases:", len(cases))
print("behaviour:", dict(sorted(behaviour.items())))
print("close behaviour:", dict(sorted(close.items())))
bad = sorted(
    (case for case, c in cases.items()
     if c["behavior"] in ("FAILED", "UNIMPLEMENTED") or c["behaviorClose"] in ("FAILED", "UNIMPLEMENTED")),
    key=lambda case: [int(part) for part in case.split(".")],
)
if bad:
    print("FAILED or UNIMPLEMENTED:", " ".join(bad))
if bad or len(cases) != int(sys.argv[1]):
    sys.exit(1)
PY
