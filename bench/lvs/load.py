#!/usr/bin/env python3
"""HTTP/1.0 GETs, one new TCP connection each (what a load balancer schedules), from THREADS
threads for SECONDS; prints the requests per second answered with a 200, and the errors.

The client closes first, abortively (SO_LINGER 0, an RST), once it has the whole response
(Content-Length): no side keeps a TIME_WAIT. With nginx closing first (HTTP/1.0), 10^5
connections per run left the real servers' TIME_WAITs colliding with the client's reused
ports, and every arm decayed over the run (bench/results/lvs.md, section 2, first runs)."""
import socket
import struct
import sys
import threading
import time

host, port, seconds, threads = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
request = f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
counts = [0] * threads
errors = [0] * threads
deadline = time.monotonic() + seconds
LINGER_RST = struct.pack("ii", 1, 0)


def fetch():
    """One request on a new connection; True on a complete 200."""
    s = socket.create_connection((host, port), timeout=2)
    try:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while length is None or len(body) < length:
            chunk = s.recv(4096)
            if not chunk:
                break
            body += chunk
        return head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")) and (length is None or len(body) >= length)
    finally:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
        s.close()


def worker(i):
    while time.monotonic() < deadline:
        try:
            if fetch():
                counts[i] += 1
            else:
                errors[i] += 1
        except OSError:
            errors[i] += 1


ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
start = time.monotonic()
for t in ts:
    t.start()
for t in ts:
    t.join()
elapsed = time.monotonic() - start
print(f"{sum(counts) / elapsed:.1f} {sum(errors)}")
