#!/usr/bin/python3
"""A stand-in child daemon for vigil-controld's supervision tests, on Debian's python3-grpcio.

  fake_daemon.py NAME --run-dir DIR [other daemon options, ignored]

Serves grpc.health.v1.Health on DIR/NAME.sock (NAME: vrrpd, checkd, ipvsd), SERVING at first and
NOT_SERVING once VIGIL_FAKE_NOT_SERVING_AFTER seconds have passed (as a daemon whose work loop
stalled while its server still answers). Health/Watch streams get the change when it happens.
"""
import os
import sys
import threading
import time
from concurrent import futures

import grpc
from grpc_health_v1 import health_pb2, health_pb2_grpc


class Health(health_pb2_grpc.HealthServicer):
    def __init__(self, not_serving_after):
        self.started = time.monotonic()
        self.not_serving_after = not_serving_after
        self.changed = threading.Condition()

    def status(self):
        if self.not_serving_after is not None and time.monotonic() - self.started >= self.not_serving_after:
            return health_pb2.HealthCheckResponse.NOT_SERVING
        return health_pb2.HealthCheckResponse.SERVING

    def Check(self, request, context):
        return health_pb2.HealthCheckResponse(status=self.status())

    def Watch(self, request, context):
        last = None
        while context.is_active():
            s = self.status()
            if s != last:
                last = s
                yield health_pb2.HealthCheckResponse(status=s)
            time.sleep(0.05)


def main():
    name = sys.argv[1]
    args = sys.argv[2:]
    run_dir = args[args.index("--run-dir") + 1]
    after = os.environ.get("VIGIL_FAKE_NOT_SERVING_AFTER")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    health_pb2_grpc.add_HealthServicer_to_server(Health(float(after) if after else None), server)
    sock = os.path.join(run_dir, name + ".sock")
    if os.path.exists(sock):
        os.unlink(sock)
    server.add_insecure_port("unix:" + sock)
    server.start()
    print(f"fake {name} serving on {sock} (pid {os.getpid()})", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
