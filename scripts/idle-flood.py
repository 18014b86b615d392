#!/usr/bin/env python3
"""An idle and slow-drip socket flood from one loopback address (127.0.0.2) against a running
Foryou server, then a request from another address (127.0.0.1): it must be served at once.
usage: scripts/idle-flood.py PORT [SOCKETS=15000]   (loopback only; mind `ulimit -n`)"""
import socket
import sys
import time
import urllib.request

port = int(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 15000
socks, errors = [], 0
t = time.time()
for i in range(n):
    s = socket.socket()
    try:
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        if i % 2 == 0:
            s.send(b"GET /healthz HTTP/1.1\r\nX-Slow: ")  # half a request, never finished
        socks.append(s)
    except OSError:
        errors += 1
        s.close()
print(f"attacker: {len(socks)} sockets opened ({errors} failed) in {time.time() - t:.1f} s")
t = time.time()
body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
print(f"another client served in {(time.time() - t) * 1000:.1f} ms: {body.decode()}")
time.sleep(0.5)
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) != b"":
            alive += 1
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
print(f"attacker sockets the server kept open: {alive} (the rest were closed at once)")
