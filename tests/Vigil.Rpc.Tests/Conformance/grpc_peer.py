#!/usr/bin/python3
"""Independent gRPC peer for Vigil.Rpc's conformance tests: Debian's python3-grpcio (the C core).

  grpc_peer.py client SOCKET CASE   run one client case against a Vigil server; exit 0 = pass
  grpc_peer.py server SOCKET        serve vigil.testing.v1.EchoService and grpc.health.v1.Health

The stubs are generated from protos/ by the test (python3 -m grpc_tools.protoc) into a folder on
PYTHONPATH. Standard protos are generated under grpc_health_v1/ and grpc_reflection_v1/ because
a top-level "grpc" package would shadow grpcio itself.
"""
import sys
import threading
import time
from concurrent import futures

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.duration_pb2 import Duration

from vigil.testing.v1 import echo_pb2, echo_pb2_grpc
from grpc_health_v1 import health_pb2, health_pb2_grpc
from grpc_reflection_v1 import reflection_pb2, reflection_pb2_grpc


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def expect_error(fn, code, contains=None):
    try:
        fn()
    except grpc.RpcError as e:
        expect(e.code() == code, f"expected {code}, got {e.code()} {e.details()!r}")
        if contains is not None:
            expect(contains in (e.details() or ""), f"expected details containing {contains!r}, got {e.details()!r}")
        return e
    fail(f"expected {code}, the call succeeded")


def wait_for(pred, what, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def client(sock, case):
    channel = grpc.insecure_channel("unix:" + sock)
    echo = echo_pb2_grpc.EchoServiceStub(channel)
    if case == "unary":
        r = echo.Echo(echo_pb2.EchoRequest(message="hello", payload=b"\x00\x01"), timeout=10)
        expect(r.message == "hello" and r.payload == b"\x00\x01", f"bad echo {r}")
        expect(r.content_type.startswith("application/grpc"), f"content type {r.content_type}")
    elif case == "unary_error":
        msg = "field 'vrid': 300 is out of range 1..255 ✗ 100%"
        e = expect_error(lambda: echo.Echo(echo_pb2.EchoRequest(fail_code=3, fail_message=msg)), grpc.StatusCode.INVALID_ARGUMENT)
        expect(e.details() == msg, f"message {e.details()!r} != {msg!r}")
    elif case == "server_stream":
        got = [m.index for m in echo.ServerStream(echo_pb2.ServerStreamRequest(count=20, payload_size=100))]
        expect(got == list(range(20)), f"got {got}")
    elif case == "server_stream_error":
        got = []
        def run():
            for m in echo.ServerStream(echo_pb2.ServerStreamRequest(count=3, fail_code=5, fail_message="gone")):
                got.append(m.index)
        expect_error(run, grpc.StatusCode.NOT_FOUND, "gone")
        expect(got == [0, 1, 2], f"got {got}")
    elif case == "client_stream":
        r = echo.ClientStream(iter([echo_pb2.ClientStreamRequest(message=s) for s in "abcd"]))
        expect(r.count == 4 and r.joined == "a,b,c,d", f"got {r}")
    elif case == "bidi":
        # Ping-pong: the next request is only sent after the previous answer arrived.
        import queue
        q = queue.Queue()
        def requests():
            for i in range(5):
                yield echo_pb2.BidiRequest(message=f"m{i}")
                q.get(timeout=5)
        for i, r in enumerate(echo.Bidi(requests())):
            expect(r.message == f"m{i}" and r.index == i, f"got {r}")
            q.put(1)
    elif case == "timeout_header":
        r = echo.Echo(echo_pb2.EchoRequest(message="t"), timeout=5)
        left = r.time_remaining.seconds + r.time_remaining.nanos / 1e9
        expect(r.HasField("time_remaining") and 3.0 < left <= 5.0, f"server saw {left} s left of a 5 s deadline")
    elif case == "deadline":
        # The client resets the stream at its deadline while the server's own deadline (counted from
        # arrival) is a moment later, so the handler may see either; it must see the call end.
        def ended():
            s = echo.GetStats(echo_pb2.GetStatsRequest())
            return s.deadline_exceeded_calls + s.cancelled_calls
        before = ended()
        expect_error(lambda: echo.Echo(echo_pb2.EchoRequest(delay=Duration(seconds=5)), timeout=1.0), grpc.StatusCode.DEADLINE_EXCEEDED)
        wait_for(lambda: ended() == before + 1, "the server handler to see the call end at the deadline")
    elif case == "cancel":
        stats = echo.GetStats(echo_pb2.GetStatsRequest())
        before, started = stats.cancelled_calls, stats.started_calls
        f = echo.Echo.future(echo_pb2.EchoRequest(delay=Duration(seconds=10)))
        wait_for(lambda: echo.GetStats(echo_pb2.GetStatsRequest()).started_calls == started + 1, "the handler to start")
        f.cancel()
        expect(f.cancelled(), "the future is not cancelled")
        wait_for(lambda: echo.GetStats(echo_pb2.GetStatsRequest()).cancelled_calls == before + 1, "the server handler to see the cancellation")
    elif case == "metadata":
        md = [("x-echo-text", "value one"), ("x-echo-data-bin", b"\x00\xff\x10"), ("x-trailer-t", "tv"), ("x-trailer-b-bin", b"\x01\x02")]
        r, call = echo.Echo.with_call(echo_pb2.EchoRequest(message="m"), metadata=md)
        initial = dict(call.initial_metadata())
        trailing = dict(call.trailing_metadata())
        expect(initial.get("x-echo-text") == "value one", f"initial {initial}")
        expect(initial.get("x-echo-data-bin") == b"\x00\xff\x10", f"initial {initial}")
        expect(trailing.get("x-trailer-t") == "tv", f"trailing {trailing}")
        expect(trailing.get("x-trailer-b-bin") == b"\x01\x02", f"trailing {trailing}")
    elif case == "oversize":
        expect_error(lambda: echo.Echo(echo_pb2.EchoRequest(payload=b"x" * (5 * 1024 * 1024))), grpc.StatusCode.RESOURCE_EXHAUSTED)
        r = echo.Echo(echo_pb2.EchoRequest(message="still ok"))
        expect(r.message == "still ok", "server unusable after oversize")
    elif case == "gzip":
        r, call = echo.Echo.with_call(echo_pb2.EchoRequest(payload=b"z" * 50000), compression=grpc.Compression.Gzip,
                                      metadata=[("x-response-encoding", "gzip")])
        expect(r.request_encoding == "gzip", f"server saw encoding {r.request_encoding!r}")
        expect(r.payload == b"z" * 50000, "payload changed")
    elif case == "unimplemented":
        bogus = channel.unary_unary("/vigil.testing.v1.EchoService/NoSuchMethod")
        expect_error(lambda: bogus(b""), grpc.StatusCode.UNIMPLEMENTED)
        bogus = channel.unary_unary("/no.such.Service/Method")
        expect_error(lambda: bogus(b""), grpc.StatusCode.UNIMPLEMENTED)
    elif case == "health":
        health = health_pb2_grpc.HealthStub(channel)
        r = health.Check(health_pb2.HealthCheckRequest(service=""))
        expect(r.status == health_pb2.HealthCheckResponse.SERVING, f"overall {r}")
        r = health.Check(health_pb2.HealthCheckRequest(service="vigil.testing.v1.EchoService"))
        expect(r.status == health_pb2.HealthCheckResponse.SERVING, f"echo {r}")
        expect_error(lambda: health.Check(health_pb2.HealthCheckRequest(service="nope")), grpc.StatusCode.NOT_FOUND)
        stream = health.Watch(health_pb2.HealthCheckRequest(service="nope"))
        first = next(stream)
        expect(first.status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN, f"watch unknown {first}")
        stream.cancel()
        stream = health.Watch(health_pb2.HealthCheckRequest(service=""))
        first = next(stream)
        expect(first.status == health_pb2.HealthCheckResponse.SERVING, f"watch {first}")
        stream.cancel()
    elif case == "reflection":
        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        def ask(**kw):
            return next(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(**kw)])))
        names = sorted(s.name for s in ask(list_services="").list_services_response.service)
        expect("vigil.testing.v1.EchoService" in names and "grpc.health.v1.Health" in names
               and "grpc.reflection.v1.ServerReflection" in names, f"services {names}")
        files = ask(file_containing_symbol="vigil.testing.v1.EchoService").file_descriptor_response.file_descriptor_proto
        parsed = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in files]
        expect(parsed[0].name == "vigil/testing/v1/echo.proto", f"first file {parsed[0].name}")
        expect("google/protobuf/duration.proto" in [p.name for p in parsed], "dependency missing")
        expect(parsed[0].service[0].method[0].name == "Echo", "method list")
        r = ask(file_by_filename="no/such.proto")
        expect(r.error_response.error_code == 5, f"error {r}")
    else:
        fail("unknown case " + case)
    print("PASS " + case)


class Echo(echo_pb2_grpc.EchoServiceServicer):
    def __init__(self):
        self.lock = threading.Lock()
        self.stats = echo_pb2.GetStatsResponse()

    def _metadata(self, context):
        initial, trailing = [], []
        for k, v in context.invocation_metadata():
            if k.startswith("x-echo-"):
                initial.append((k, v))
            if k.startswith("x-trailer-"):
                trailing.append((k, v))
            if k == "x-response-encoding" and v == "gzip":
                context.set_compression(grpc.Compression.Gzip)
        if initial:
            context.send_initial_metadata(initial)
        if trailing:
            context.set_trailing_metadata(trailing)

    def _wait(self, context, seconds):
        end = time.time() + seconds
        while time.time() < end:
            if not context.is_active():
                with self.lock:
                    if context.time_remaining() is not None and context.time_remaining() <= 0:
                        self.stats.deadline_exceeded_calls += 1
                    else:
                        self.stats.cancelled_calls += 1
                return False
            time.sleep(0.01)
        return True

    def Echo(self, request, context):
        with self.lock:
            self.stats.started_calls += 1
        self._metadata(context)
        delay = request.delay.seconds + request.delay.nanos / 1e9
        if delay > 0 and not self._wait(context, delay):
            return echo_pb2.EchoResponse()
        if request.fail_code:
            context.abort(grpc.StatusCode(next(c for c in grpc.StatusCode if c.value[0] == request.fail_code)), request.fail_message)
        with self.lock:
            self.stats.completed_calls += 1
        # The C core consumes grpc-encoding before the handler sees the metadata.
        encoding = dict(context.invocation_metadata()).get("grpc-encoding", "not visible")
        payload = b"\x00" * request.response_size if request.response_size else request.payload
        response = echo_pb2.EchoResponse(message=request.message, payload=payload, content_type="application/grpc", request_encoding=encoding)
        remaining = context.time_remaining()
        if remaining is not None:
            response.time_remaining.FromNanoseconds(int(remaining * 1e9))
        return response

    def ServerStream(self, request, context):
        self._metadata(context)
        interval = request.interval.seconds + request.interval.nanos / 1e9
        for i in range(request.count):
            if i and interval and not self._wait(context, interval):
                return
            yield echo_pb2.ServerStreamResponse(index=i, payload=b"\x00" * request.payload_size)
        if request.fail_code:
            context.abort(grpc.StatusCode(next(c for c in grpc.StatusCode if c.value[0] == request.fail_code)), request.fail_message)

    def ClientStream(self, request_iterator, context):
        self._metadata(context)
        msgs = [r.message for r in request_iterator]
        return echo_pb2.ClientStreamResponse(count=len(msgs), joined=",".join(msgs))

    def Bidi(self, request_iterator, context):
        self._metadata(context)
        for i, r in enumerate(request_iterator):
            yield echo_pb2.BidiResponse(message=r.message, index=i)

    def GetStats(self, request, context):
        with self.lock:
            return echo_pb2.GetStatsResponse().__class__.FromString(self.stats.SerializeToString())


class Health(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        if request.service in ("", "vigil.testing.v1.EchoService"):
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
        context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")


def server(sock):
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    echo_pb2_grpc.add_EchoServiceServicer_to_server(Echo(), srv)
    health_pb2_grpc.add_HealthServicer_to_server(Health(), srv)
    srv.add_insecure_port("unix:" + sock)
    srv.start()
    print("READY", flush=True)
    srv.wait_for_termination()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "server":
        server(sys.argv[2])
