using System.Buffers.Binary;
using System.Text;

namespace Basalt.Gguf.Tests;

/// <summary>
/// Hand-assembles GGUF bytes, including invalid ones the writer refuses to produce, and remembers
/// offsets so tests can check where the reader says the problem is.
/// </summary>
internal sealed class GgufBytes
{
    private readonly List<byte> _bytes = [];

    public int Position => _bytes.Count;

    public GgufBytes Mark(out int position)
    {
        position = _bytes.Count;
        return this;
    }

    public GgufBytes Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public GgufBytes U8(byte v) => Raw(v);

    public GgufBytes U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return Raw(b.ToArray());
    }

    public GgufBytes U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return Raw(b.ToArray());
    }

    public GgufBytes Str(string s) => StrBytes(Encoding.UTF8.GetBytes(s));

    public GgufBytes StrBytes(byte[] utf8) => U64((ulong)utf8.Length).Raw(utf8);

    public GgufBytes Header(ulong tensors, ulong kvs, uint version = 3) =>
        U32(GgufFile.Magic).U32(version).U64(tensors).U64(kvs);

    public GgufBytes KvU32(string key, uint value) => Str(key).U32((uint)GgufValueType.UInt32).U32(value);

    public GgufBytes KvString(string key, string value) => Str(key).U32((uint)GgufValueType.String).Str(value);

    public GgufBytes Tensor(string name, ulong[] dims, uint type, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (ulong d in dims) U64(d);
        return U32(type).U64(offset);
    }

    public GgufBytes PadTo(int alignment)
    {
        while (_bytes.Count % alignment != 0) _bytes.Add(0);
        return this;
    }

    public GgufBytes Zeros(int count)
    {
        for (int i = 0; i < count; i++) _bytes.Add(0);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];
}
