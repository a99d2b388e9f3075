using System.Buffers.Binary;
using System.Text;

namespace Basalt.Gguf;

/// <summary>
/// Little-endian primitive writer with its own buffer and byte count, so padding can be computed
/// without asking the stream for its position (network and pipe streams cannot answer).
/// </summary>
internal sealed class GgufStreamWriter(Stream stream)
{
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _used;

    /// <summary>Bytes written so far, counted from the start of the GGUF image.</summary>
    public long Position { get; private set; }

    private Span<byte> Reserve(int count)
    {
        if (_used + count > _buffer.Length) Flush();
        var span = _buffer.AsSpan(_used, count);
        _used += count;
        Position += count;
        return span;
    }

    public void WriteU8(byte v) => Reserve(1)[0] = v;

    public void WriteU16(ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), v);

    public void WriteU32(uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), v);

    public void WriteU64(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), v);

    public void WriteString(string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (max <= _buffer.Length - 8)
        {
            // Encode straight into the buffer and back-fill the length: no temporary array per string.
            if (_used + 8 + max > _buffer.Length) Flush();
            int n = Encoding.UTF8.GetBytes(s, _buffer.AsSpan(_used + 8));
            WriteU64((ulong)n);
            _used += n;
            Position += n;
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(s);
        WriteU64((ulong)bytes.Length);
        WriteBytes(bytes);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= _buffer.Length - _used)
        {
            bytes.CopyTo(_buffer.AsSpan(_used));
            _used += bytes.Length;
            Position += bytes.Length;
            return;
        }
        Flush();
        stream.Write(bytes);
        Position += bytes.Length;
    }

    public void WriteZeros(long count)
    {
        while (count > 0)
        {
            int chunk = (int)Math.Min(count, 4096);
            Reserve(chunk).Clear();
            count -= chunk;
        }
    }

    /// <summary>Writes zero bytes until <see cref="Position"/> is a multiple of <paramref name="alignment"/>.</summary>
    public void PadTo(int alignment) => WriteZeros(GgufParser.AlignUp(Position, alignment) - Position);

    public void Flush()
    {
        if (_used == 0) return;
        stream.Write(_buffer, 0, _used);
        _used = 0;
    }
}
