#!/usr/bin/python3
"""Prints a Vigil node's status from vigil-controld (vigil.control.v1.ControlService/GetStatus).

  make -C clients/python                     # generates the stubs into clients/python/build
  clients/python/vigil_status.py [unix:/run/vigil/controld.sock]

The stubs are looked up in $VIGIL_PY_STUBS, else in build/ beside this file. Exit codes as
vigilctl's: 0 ok, 1 failed, 2 INVALID_ARGUMENT, 3 NOT_FOUND, 4 controld not reachable.
"""
import os
import sys

sys.path.insert(0, os.environ.get("VIGIL_PY_STUBS") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "build"))

import grpc  # noqa: E402  (python3-grpcio)
from vigil.control.v1 import control_pb2, control_pb2_grpc  # noqa: E402
from vigil.vrrp.v1 import vrrp_pb2  # noqa: E402

EXIT = {grpc.StatusCode.INVALID_ARGUMENT: 2, grpc.StatusCode.NOT_FOUND: 3,
        grpc.StatusCode.UNAVAILABLE: 4, grpc.StatusCode.DEADLINE_EXCEEDED: 4}


def main() -> int:
    target = sys.argv[1] if len(sys.argv) > 1 else "unix:/run/vigil/controld.sock"
    with grpc.insecure_channel(target) as channel:
        stub = control_pb2_grpc.ControlServiceStub(channel)
        try:
            status = stub.GetStatus(control_pb2.GetStatusRequest(), timeout=5)
        except grpc.RpcError as e:
            print(f"vigil_status: {target}: {e.code().name}: {e.details()}", file=sys.stderr)
            return EXIT.get(e.code(), 1)
    print(f"config {status.config_file or '-'}")
    for d in status.children:
        print(f"daemon {d.name} pid {d.pid} {'ready' if d.ready else 'not ready'} restarts {d.restarts}")
    for i in status.instances:
        state = vrrp_pb2.InstanceState.Name(i.state).removeprefix("INSTANCE_STATE_")
        print(f"instance {i.name} vrid {i.virtual_router_id} {state} priority {i.effective_priority} master {i.master_address or '-'}")
    for u in status.unavailable:
        print(f"unavailable {u}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
