using System.Text.Json;
using System.Text.Json.Serialization;
using Vigil.Config.Model;

namespace Vigil.Config.Output;

/// <summary>
/// The model as JSON (--dump-config): camelCase keys in declaration order, enums as strings,
/// addresses as text, durations as seconds, "not set" as null.
/// </summary>
public static class ConfigJson
{
    public static string Serialize(KeepalivedConfig config) =>
        JsonSerializer.Serialize(config, ConfigJsonContext.Default.KeepalivedConfig);

    public static KeepalivedConfig? Deserialize(string json) =>
        JsonSerializer.Deserialize(json, ConfigJsonContext.Default.KeepalivedConfig);
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    Converters = [typeof(IpAddressJsonConverter), typeof(IpEndPointJsonConverter), typeof(PhysicalAddressJsonConverter), typeof(SecondsJsonConverter), typeof(AddressFamilyJsonConverter),
        typeof(EquatableArrayJsonConverter<BfdInstance>),
        typeof(EquatableArrayJsonConverter<Checker>),
        typeof(EquatableArrayJsonConverter<GarpGroup>),
        typeof(EquatableArrayJsonConverter<HttpUrl>),
        typeof(EquatableArrayJsonConverter<IpRoute>),
        typeof(EquatableArrayJsonConverter<IpRule>),
        typeof(EquatableArrayJsonConverter<RealServer>),
        typeof(EquatableArrayJsonConverter<StatusCodeRange>),
        typeof(EquatableArrayJsonConverter<TrackFile>),
        typeof(EquatableArrayJsonConverter<TrackGroup>),
        typeof(EquatableArrayJsonConverter<TrackProcess>),
        typeof(EquatableArrayJsonConverter<TrackedInterface>),
        typeof(EquatableArrayJsonConverter<TrackedObject>),
        typeof(EquatableArrayJsonConverter<UnicastPeer>),
        typeof(EquatableArrayJsonConverter<VirtualIpAddress>),
        typeof(EquatableArrayJsonConverter<VirtualServer>),
        typeof(EquatableArrayJsonConverter<VirtualServerGroup>),
        typeof(EquatableArrayJsonConverter<VirtualServerGroupEntry>),
        typeof(EquatableArrayJsonConverter<VrrpInstance>),
        typeof(EquatableArrayJsonConverter<VrrpScript>),
        typeof(EquatableArrayJsonConverter<VrrpSyncGroup>),
        typeof(EquatableArrayJsonConverter<byte>),
        typeof(EquatableArrayJsonConverter<string>)])]
// Element types of EquatableArray (written item by item by its converter) need metadata too;
// a model property of a new EquatableArray<X> needs its converter in the list above.
[JsonSerializable(typeof(KeepalivedConfig))]
[JsonSerializable(typeof(KeepalivedConfig[]))]
[JsonSerializable(typeof(VrrpScript))]
[JsonSerializable(typeof(VrrpScript[]))]
[JsonSerializable(typeof(TrackFile))]
[JsonSerializable(typeof(TrackFile[]))]
[JsonSerializable(typeof(TrackProcess))]
[JsonSerializable(typeof(TrackProcess[]))]
[JsonSerializable(typeof(BfdInstance))]
[JsonSerializable(typeof(BfdInstance[]))]
[JsonSerializable(typeof(VrrpSyncGroup))]
[JsonSerializable(typeof(VrrpSyncGroup[]))]
[JsonSerializable(typeof(VrrpInstance))]
[JsonSerializable(typeof(VrrpInstance[]))]
[JsonSerializable(typeof(VirtualIpAddress))]
[JsonSerializable(typeof(VirtualIpAddress[]))]
[JsonSerializable(typeof(IpRoute))]
[JsonSerializable(typeof(IpRoute[]))]
[JsonSerializable(typeof(IpRule))]
[JsonSerializable(typeof(IpRule[]))]
[JsonSerializable(typeof(GarpGroup))]
[JsonSerializable(typeof(GarpGroup[]))]
[JsonSerializable(typeof(TrackGroup))]
[JsonSerializable(typeof(TrackGroup[]))]
[JsonSerializable(typeof(VirtualServerGroup))]
[JsonSerializable(typeof(VirtualServerGroup[]))]
[JsonSerializable(typeof(VirtualServerGroupEntry))]
[JsonSerializable(typeof(VirtualServerGroupEntry[]))]
[JsonSerializable(typeof(VirtualServer))]
[JsonSerializable(typeof(VirtualServer[]))]
[JsonSerializable(typeof(RealServer))]
[JsonSerializable(typeof(RealServer[]))]
[JsonSerializable(typeof(Checker))]
[JsonSerializable(typeof(Checker[]))]
[JsonSerializable(typeof(HttpUrl))]
[JsonSerializable(typeof(HttpUrl[]))]
[JsonSerializable(typeof(StatusCodeRange))]
[JsonSerializable(typeof(StatusCodeRange[]))]
[JsonSerializable(typeof(TrackedInterface))]
[JsonSerializable(typeof(TrackedInterface[]))]
[JsonSerializable(typeof(TrackedObject))]
[JsonSerializable(typeof(TrackedObject[]))]
[JsonSerializable(typeof(UnicastPeer))]
[JsonSerializable(typeof(UnicastPeer[]))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(byte))]
[JsonSerializable(typeof(byte[]))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
