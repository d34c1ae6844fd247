using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;

namespace Vigil.Rpc.Protocol;

/// <summary>
/// Length-prefixed messages:
/// <code>
///  0               1               2               3               4
/// +---------------+---------------+---------------+---------------+---------------+---...
/// | Compressed(1) |            Message-Length (4, big endian)                     | Message
/// +---------------+---------------+---------------+---------------+---------------+---...
/// </code>
/// </summary>
public static class MessageFraming
{
    public const int HeaderSize = 5;
    public const int DefaultMaxReceiveSize = 4 * 1024 * 1024;

    public static void WriteHeader(Span<byte> destination, bool compressed, int length)
    {
        destination[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }

    /// <summary>
    /// Serializes an uncompressed message with its header into <paramref name="destination"/>, which
    /// holds exactly <see cref="HeaderSize"/> + <paramref name="size"/> (the message's CalculateSize)
    /// bytes: no intermediate array.
    /// </summary>
    public static void WriteUncompressed(Span<byte> destination, IMessage message, int size)
    {
        WriteHeader(destination, false, size);
        message.WriteTo(destination.Slice(HeaderSize, size));
    }

    /// <summary>
    /// The length of the message when <paramref name="data"/> is exactly one whole uncompressed frame
    /// within <paramref name="maxSize"/> (the usual unary answer, parsed in place); -1 otherwise.
    /// </summary>
    public static int SingleUncompressedLength(ReadOnlySpan<byte> data, int maxSize)
    {
        var length = data.Length - HeaderSize;
        return length >= 0 && data[0] == 0 && BinaryPrimitives.ReadUInt32BigEndian(data[1..]) == (uint)length && length <= maxSize
            ? length : -1;
    }

    /// <summary>Frames a serialized message, compressing it with gzip when asked.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message, bool gzip)
    {
        if (gzip)
        {
            var compressed = Gzip.Compress(message);
            var framed = new byte[HeaderSize + compressed.Length];
            WriteHeader(framed, true, compressed.Length);
            compressed.CopyTo(framed.AsSpan(HeaderSize));
            return framed;
        }
        var result = new byte[HeaderSize + message.Length];
        WriteHeader(result, false, message.Length);
        message.CopyTo(result.AsSpan(HeaderSize));
        return result;
    }

    /// <summary>
    /// Tries to take one whole message from the buffer. Returns false when more bytes are needed.
    /// Throws <see cref="RpcException"/> for protocol violations (oversize, compressed without an encoding).
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxSize, string? encoding, out byte[] message)
    {
        message = [];
        if (buffer.Length < HeaderSize) return false;
        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var flag = header[0];
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (flag > 1)
        {
            throw new RpcException(StatusCode.Internal, $"Invalid message frame: compressed flag is {flag} (must be 0 or 1).");
        }
        if (length > (uint)maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {maxSize})");
        }
        if (buffer.Length < HeaderSize + length) return false;
        var payload = buffer.Slice(HeaderSize, length);
        if (flag == 1)
        {
            if (encoding is null or "identity")
            {
                throw new RpcException(StatusCode.Internal, "Compressed message received without a grpc-encoding to decompress it.");
            }
            message = Gzip.Decompress(payload, maxSize);
        }
        else
        {
            message = payload.ToArray();
        }
        buffer = buffer.Slice(HeaderSize + length);
        return true;
    }
}

internal static class Gzip
{
    public static byte[] Compress(ReadOnlySpan<byte> data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }
        return ms.ToArray();
    }

    /// <summary>Decompresses, refusing output beyond maxSize (a small bomb must not exhaust memory).</summary>
    public static byte[] Decompress(ReadOnlySequence<byte> data, int maxSize)
    {
        try
        {
            using var input = new MemoryStream(data.ToArray());
            using var gz = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buf = ArrayPool<byte>.Shared.Rent(16384);
            try
            {
                int n;
                while ((n = gz.Read(buf, 0, buf.Length)) > 0)
                {
                    if (output.Length + n > maxSize)
                    {
                        throw new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max after decompression (over {maxSize})");
                    }
                    output.Write(buf, 0, n);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buf);
            }
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new RpcException(StatusCode.Internal, $"Cannot decompress gzip message: {e.Message}");
        }
    }
}
