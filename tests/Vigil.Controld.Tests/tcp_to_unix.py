"""Relays TCP connections on HOST:PORT to a unix socket: inside a lab namespace, a node's
"local Consul agent" on 127.0.0.1:8500 is the test's fake agent listening on a unix socket.
A refused unix connect (the fake agent stopped) closes the TCP connection, as a dead agent would.
Usage: tcp_to_unix.py HOST PORT SOCKET"""
import asyncio
import sys

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(reader, writer):
    try:
        ureader, uwriter = await asyncio.open_unix_connection(path)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, uwriter), pipe(ureader, writer))


async def main():
    server = await asyncio.start_server(handle, host, port)
    print(f"relaying {host}:{port} to {path}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
