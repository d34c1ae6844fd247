#!/usr/bin/env python3
"""HTTP/1.0 GETs, one new TCP connection each (what a load balancer schedules), from THREADS
threads for SECONDS; prints the requests per second answered with a 200."""
import socket
import sys
import threading
import time

host, port, seconds, threads = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
request = f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
counts = [0] * threads
errors = [0] * threads
deadline = time.monotonic() + seconds


def worker(i):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                s.sendall(request)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            if data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200"):
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
