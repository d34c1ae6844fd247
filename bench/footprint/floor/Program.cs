// The footprint floor: a Grpc.AspNetCore server with health and reflection on the Unix socket
// given as the first argument, and nothing else. Prints READY once it listens.
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var socket = args.Length > 0 ? args[0] : throw new ArgumentException("usage: vigil-footprint-floor SOCKET");
File.Delete(socket);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket, l => l.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
builder.Services.AddGrpcReflection();
var health = new HealthServiceImpl();
health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
builder.Services.AddSingleton(health);
var app = builder.Build();
app.MapGrpcService<HealthServiceImpl>();
app.MapGrpcReflectionService();
await app.StartAsync();
Console.WriteLine("READY");
await app.WaitForShutdownAsync();
