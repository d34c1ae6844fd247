using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Vigil.Rpc.Server;

/// <summary>
/// The instruments of every Vigil gRPC server, on System.Diagnostics alone (no OpenTelemetry
/// dependency here; Vigil.Hosting's telemetry listens to them by name): a histogram of call
/// durations and a server span per call, both named after OpenTelemetry's RPC conventions.
/// </summary>
public static class RpcTelemetry
{
    /// <summary>The Meter and ActivitySource name.</summary>
    public const string Name = "Vigil.Rpc";

    public static readonly ActivitySource Activities = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>vigil.rpc.server.duration (s), by rpc.service, rpc.method and rpc.grpc.status_code; Prometheus: vigil_rpc_server_duration_seconds.</summary>
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("vigil.rpc.server.duration", "s",
        "Duration of the gRPC calls this daemon served (streaming calls: until the stream ended)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
}

/// <summary>Times every call and wraps it in an Activity (<see cref="RpcTelemetry"/>).</summary>
internal sealed class RpcTelemetryInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var call = Begin(context);
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            call.End(context, null);
            return response;
        }
        catch (Exception e)
        {
            call.End(context, e);
            throw;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = Begin(context);
        try
        {
            var response = await continuation(requestStream, context).ConfigureAwait(false);
            call.End(context, null);
            return response;
        }
        catch (Exception e)
        {
            call.End(context, e);
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = Begin(context);
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            call.End(context, null);
        }
        catch (Exception e)
        {
            call.End(context, e);
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = Begin(context);
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            call.End(context, null);
        }
        catch (Exception e)
        {
            call.End(context, e);
            throw;
        }
    }

    private static Call Begin(ServerCallContext context)
    {
        // "/vigil.vrrp.v1.VrrpService/ListInstances" -> service, method.
        var full = context.Method.AsSpan().TrimStart('/');
        var slash = full.IndexOf('/');
        var service = slash < 0 ? full.ToString() : full[..slash].ToString();
        var method = slash < 0 ? "" : full[(slash + 1)..].ToString();
        var activity = RpcTelemetry.Activities.StartActivity($"{service}/{method}", ActivityKind.Server);
        if (activity is not null)
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", service);
            activity.SetTag("rpc.method", method);
        }
        return new Call(service, method, Stopwatch.GetTimestamp(), activity);
    }

    private readonly record struct Call(string Service, string Method, long Started, Activity? Activity)
    {
        public void End(ServerCallContext context, Exception? error)
        {
            var code = error switch
            {
                null => context.Status.StatusCode,
                RpcException r => r.StatusCode,
                OperationCanceledException => StatusCode.Cancelled,
                _ => StatusCode.Unknown,
            };
            var seconds = Stopwatch.GetElapsedTime(Started).TotalSeconds;
            if (RpcTelemetry.Duration.Enabled)
            {
                RpcTelemetry.Duration.Record(seconds,
                    new KeyValuePair<string, object?>("rpc.service", Service),
                    new KeyValuePair<string, object?>("rpc.method", Method),
                    new KeyValuePair<string, object?>("rpc.grpc.status_code", (int)code));
            }
            if (Activity is { } a)
            {
                a.SetTag("rpc.grpc.status_code", (int)code);
                if (code != StatusCode.OK) a.SetStatus(ActivityStatusCode.Error, error?.Message ?? context.Status.Detail);
                a.Dispose();
            }
        }
    }
}
