"""Server memory per idle WebSocket, and bytes on the wire per message, with and without
permessage-deflate.

Starts examples/ws_echo.rs (release, one process per setting), opens N WebSockets with
Python's `websockets` client (an independent implementation of RFC 7692; compression
"deflate" is what browsers offer), and reads the server's VmRSS from /proc:
  - after connecting, nothing sent (deflate negotiated but unused);
  - after one 1 KiB JSON-like message each way on every socket (the compressor and the
    inflater now exist, context takeover on);
the difference per socket against the same steps without deflate is the cost of deflate.
Then, on one more socket through a counting TCP relay, 100 different 1 KiB JSON-like
messages are echoed: the bytes each way per message (frames included, handshake not).

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


def message(i):
    return json.dumps([{"id": i * 100 + n, "user": f"user{n % 7}", "text": "hello from the chat room", "ts": 1700000000 + i} for n in range(12)])[:1024]


async def wire_bytes(port, compression, extensions):
    """Bytes client to server and back per echoed message, through a relay that counts."""
    counted = {"up": 0, "down": 0}

    async def pipe(reader, writer, key):
        while data := await reader.read(65536):
            counted[key] += len(data)
            writer.write(data)
            await writer.drain()
        writer.close()

    async def relay(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(client_reader, server_writer, "up"), pipe(server_reader, client_writer, "down"))

    relay_server = await asyncio.start_server(relay, "127.0.0.1", 0)
    relay_port = relay_server.sockets[0].getsockname()[1]
    ws = await websockets.connect(f"ws://127.0.0.1:{relay_port}/ws", compression=compression, extensions=extensions, max_size=None, ping_interval=None)
    await asyncio.sleep(0.1)
    start = dict(counted)
    for i in range(100):
        await ws.send(message(i))
        assert await ws.recv() == message(i)
    up, down = counted["up"] - start["up"], counted["down"] - start["down"]
    await ws.close()
    relay_server.close()
    return up / 100, down / 100


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
        up, down = await wire_bytes(port, compression, extensions)
        return negotiated, base, connected, after_message, up, down
    finally:
        server.kill()
        server.wait()


async def main():
    print(f"{N} WebSockets on examples/ws_echo.rs; server VmRSS in KiB; per socket in KiB")
    print("| client offers | negotiated | idle, nothing sent | after one 1 KiB message each way | bytes per 1 KiB message, up / down |")
    print("|---|---|---|---|---|")
    no_context = [ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True)]
    for label, compression, extensions in (
        ("nothing", None, None),
        ("deflate (browsers' offer)", "deflate", None),
        ("deflate, server window 2^10", None, [ClientPerMessageDeflateFactory(server_max_window_bits=10)]),
        ("deflate, no context takeover both ways", None, no_context),
    ):
        negotiated, base, connected, after, up, down = await measure(compression, extensions)
        print(f"| {label} | {negotiated or '-'} | {(connected - base) / N:.1f} | {(after - base) / N:.1f} | {up:.0f} / {down:.0f} |")


asyncio.run(main())
