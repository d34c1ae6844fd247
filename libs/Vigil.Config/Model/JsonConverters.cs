using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Config.Model;

/// <summary>Addresses are written as their usual text ("10.0.0.1", "fe80::1").</summary>
public sealed class IpAddressJsonConverter : JsonConverter<IPAddress>
{
    public override IPAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        IPAddress.Parse(reader.GetString() ?? throw new JsonException("address expected"));

    public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

/// <summary>"10.0.0.1/24".</summary>
public sealed class IpPrefixJsonConverter : JsonConverter<IpPrefix>
{
    public override IpPrefix Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var s = reader.GetString() ?? throw new JsonException("prefix expected");
        var slash = s.IndexOf('/');
        var address = IPAddress.Parse(slash < 0 ? s : s[..slash]);
        return slash < 0 ? IpPrefix.Host(address) : new IpPrefix(address, int.Parse(s[(slash + 1)..], CultureInfo.InvariantCulture));
    }

    public override void Write(Utf8JsonWriter writer, IpPrefix value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

/// <summary>MAC addresses as "00:00:5e:00:01:33".</summary>
public sealed class PhysicalAddressJsonConverter : JsonConverter<PhysicalAddress>
{
    public override PhysicalAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        PhysicalAddress.Parse(reader.GetString() ?? throw new JsonException("MAC address expected"));

    public override void Write(Utf8JsonWriter writer, PhysicalAddress value, JsonSerializerOptions options) =>
        writer.WriteStringValue(string.Join(':', value.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture))));
}

/// <summary>Bytes as a lower-case hex string.</summary>
public sealed class HexBytesJsonConverter : JsonConverter<EquatableArray<byte>?>
{
    public override EquatableArray<byte>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? (EquatableArray<byte>?)null : new EquatableArray<byte>(Convert.FromHexString(reader.GetString() ?? ""));

    public override void Write(Utf8JsonWriter writer, EquatableArray<byte>? value, JsonSerializerOptions options)
    {
        if (value is { } bytes) writer.WriteStringValue(Convert.ToHexStringLower(bytes.AsSpan()));
        else writer.WriteNullValue();
    }
}

/// <summary>Durations as seconds (a JSON number, fractions allowed), the unit keepalived.conf uses.</summary>
public sealed class SecondsJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeSpan.FromTicks((long)Math.Round(reader.GetDecimal() * TimeSpan.TicksPerSecond));

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteNumberValue((decimal)value.Ticks / TimeSpan.TicksPerSecond);
}

/// <summary>Address families as keepalived.conf names them: "inet", "inet6".</summary>
public sealed class AddressFamilyJsonConverter : JsonConverter<System.Net.Sockets.AddressFamily>
{
    public override System.Net.Sockets.AddressFamily Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetString() switch
        {
            "inet" => System.Net.Sockets.AddressFamily.InterNetwork,
            "inet6" => System.Net.Sockets.AddressFamily.InterNetworkV6,
            var s => throw new JsonException($"unknown address family '{s}'"),
        };

    public override void Write(Utf8JsonWriter writer, System.Net.Sockets.AddressFamily value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "inet6" : "inet");
}

/// <summary>Endpoints as ADDRESS:PORT text ("127.0.0.1:9650", "[::1]:9650").</summary>
public sealed class IpEndPointJsonConverter : JsonConverter<IPEndPoint>
{
    public override IPEndPoint Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        IPEndPoint.Parse(reader.GetString() ?? throw new JsonException("endpoint expected"));

    public override void Write(Utf8JsonWriter writer, IPEndPoint value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
