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
    Converters = [typeof(IpAddressJsonConverter), typeof(PhysicalAddressJsonConverter), typeof(SecondsJsonConverter)])]
[JsonSerializable(typeof(KeepalivedConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
