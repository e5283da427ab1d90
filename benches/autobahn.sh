#!/usr/bin/env bash
# Autobahn|Testsuite's fuzzingclient, every case from 1.* to 13.* (517 with
# permessage-deflate), against examples/ws_echo.rs built in release; fails on any case
# FAILED or UNIMPLEMENTED, and on a count other than CASES (517).
#
#   benches/autobahn.sh                 # about 3 minutes on 2 cores (see benches/README.md)
#
# The suite is Python 2.7 only: it is installed once into a virtualenv of pyenv's 2.7.18
# (`pyenv install 2.7.18` if `pyenv versions` lacks it), or of AUTOBAHN_PYTHON, under
# target/autobahn/venv. Reports (HTML and JSON) go to target/autobahn/reports.
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
    "$VENV/bin/pip" install -q autobahntestsuite
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

rm -rf "$WORK/reports"
cat >"$WORK/fuzzingclient.json" <<JSON
{
  "outdir": "$WORK/reports",
  "servers": [{"agent": "bareasgi", "url": "ws://127.0.0.1:$PORT/ws"}],
  "cases": ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "8.*", "9.*", "10.*", "11.*", "12.*", "13.*"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
log "running the fuzzingclient on port $PORT"
start=$(date +%s)
(cd "$WORK" && "$OLDPWD/$VENV/bin/wstest" -m fuzzingclient -s fuzzingclient.json) >"$WORK/wstest.log" 2>&1
log "done in $(( $(date +%s) - start )) s"

python3 - "$WORK/reports/index.json" "$CASES" <<'PY'
import collections, json, sys
index = json.load(open(sys.argv[1]))
cases = index["bareasgi"]
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
if bad or len(cases) != int(sys.argv[2]):
    sys.exit(1)
PY
