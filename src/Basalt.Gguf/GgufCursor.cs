using System.Buffers.Binary;
using System.Text;

namespace Basalt.Gguf;

/// <summary>
/// A bounds-checked little-endian reader over the raw bytes of a GGUF file. Every read checks the
/// remaining length first, so a truncated or lying file becomes a <see cref="GgufFormatException"/>
/// rather than an out-of-range access.
/// </summary>
internal unsafe struct GgufCursor(byte* data, long length, string file)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public long Position;

    public readonly long Length => length;

    public readonly long Remaining => length - Position;

    public readonly string File => file;

    public readonly GgufFormatException Error(long offset, string expected, string found, Exception? inner = null) =>
        new(file, offset, expected, found, inner);

    private readonly void Require(long bytes, string what)
    {
        if (bytes > Remaining)
            throw Error(Position, $"{bytes} more byte(s) for {what}", $"end of file after {Remaining} byte(s)");
    }

    public byte ReadU8(string what)
    {
        Require(1, what);
        return data[Position++];
    }

    public ushort ReadU16(string what)
    {
        Require(2, what);
        var v = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(data + Position, 2));
        Position += 2;
        return v;
    }

    public uint ReadU32(string what)
    {
        Require(4, what);
        var v = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(data + Position, 4));
        Position += 4;
        return v;
    }

    public ulong ReadU64(string what)
    {
        Require(8, what);
        var v = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(data + Position, 8));
        Position += 8;
        return v;
    }

    /// <summary>Reads a u64 element count and checks that that many elements of at least <paramref name="minBytesEach"/> bytes could fit in what is left.</summary>
    public long ReadCount(string what, int minBytesEach)
    {
        long at = Position;
        ulong n = ReadU64(what);
        if (n > (ulong)(Remaining / Math.Max(1, minBytesEach)) || n > int.MaxValue)
            throw Error(at, $"a {what} that fits in the {Remaining} byte(s) left (each entry takes at least {minBytesEach})", n.ToString());
        return (long)n;
    }

    public string ReadString(string what) => ReadString(what, element: -1);

    /// <summary>
    /// Reads a length-prefixed UTF-8 string. With <paramref name="element"/> at zero or above the
    /// string is that element of the array <paramref name="what"/>; the description is only built
    /// when there is an error, because vocab arrays hold hundreds of thousands of strings.
    /// </summary>
    public string ReadString(string what, long element)
    {
        long at = Position;
        if (Remaining < 8)
            throw Error(at, $"8 more byte(s) for the length of {Describe(what, element)}", $"end of file after {Remaining} byte(s)");
        ulong len = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(data + Position, 8));
        Position += 8;
        if (len > (ulong)Remaining)
            throw Error(at, $"a length for {Describe(what, element)} within the {Remaining} byte(s) left", len.ToString());
        if (len > int.MaxValue)
            throw Error(at, $"a length for {Describe(what, element)} under 2 GiB", len.ToString());
        var bytes = new ReadOnlySpan<byte>(data + Position, (int)len);
        string s;
        try
        {
            s = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw Error(Position + Math.Max(0, e.Index), $"valid UTF-8 in {Describe(what, element)}", $"byte 0x{(e.BytesUnknown is { Length: > 0 } b ? b[0] : 0):X2}", e);
        }
        Position += (long)len;
        return s;
    }

    private static string Describe(string what, long element) => element < 0 ? what : $"element {element} of '{what}'";

    public readonly ReadOnlySpan<byte> Slice(long offset, int count) => new(data + offset, count);
}
