"""Server memory per idle WebSocket, with and without permessage-deflate.

Starts examples/ws_echo.rs (release, one process per setting), opens N WebSockets with
Python's `websockets` client (an independent implementation of RFC 7692; compression
"deflate" is what browsers offer), and reads the server's VmRSS from /proc:
  - after connecting, nothing sent (deflate negotiated but unused);
  - after one 1 KiB JSON-like message each way on every socket (the compressor and the
    inflater now exist, context takeover on);
the difference per socket against the same steps without deflate is the cost of deflate.

  python3 -m venv target/wsbench && target/wsbench/bin/pip install websockets
  cargo build --release --example ws_echo
  target/wsbench/bin/python benches/ws_memory.py [N]      # N = 1000 by default
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
BINARY = "target/release/examples/ws_echo"
MESSAGE = json.dumps([{"id": i, "user": "someone", "text": "hello from the chat room", "ts": 1700000000} for i in range(12)])[:1024]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def measure(compression, extensions=None):
    port = free_port()
    server = subprocess.Popen([BINARY], env={**os.environ, "PORT": str(port), "RUST_LOG": "warn"}, stdout=subprocess.PIPE)
    server.stdout.readline()
    time.sleep(0.3)
    try:
        base = rss_kib(server.pid)
        sockets = []
        for _ in range(N):
            sockets.append(await websockets.connect(f"ws://127.0.0.1:{port}/ws", compression=compression, extensions=extensions, max_size=None, ping_interval=None))
        negotiated = sockets[0].response.headers.get("sec-websocket-extensions")
        await asyncio.sleep(0.5)
        connected = rss_kib(server.pid)
        for ws in sockets:
            await ws.send(MESSAGE)
            assert await ws.recv() == MESSAGE
        await asyncio.sleep(0.5)
        after_message = rss_kib(server.pid)
        for ws in sockets:
            await ws.close()
        return negotiated, base, connected, after_message
    finally:
        server.kill()
        server.wait()


async def main():
    print(f"{N} WebSockets on examples/ws_echo.rs; server VmRSS in KiB; per socket in KiB")
    print("| client offers | negotiated | idle, nothing sent | after one 1 KiB message each way |")
    print("|---|---|---|---|")
    no_context = [ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True)]
    for label, compression, extensions in (
        ("nothing", None, None),
        ("deflate (browsers' offer)", "deflate", None),
        ("deflate, server window 2^10", None, [ClientPerMessageDeflateFactory(server_max_window_bits=10)]),
        ("deflate, no context takeover both ways", None, no_context),
    ):
        negotiated, base, connected, after = await measure(compression, extensions)
        print(f"| {label} | {negotiated or '-'} | {(connected - base) / N:.1f} | {(after - base) / N:.1f} |")


asyncio.run(main())
