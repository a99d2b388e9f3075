using System.Runtime.Intrinsics;

namespace Basalt.Tensors.Threading;

/// <summary>
/// Memory a thread will read first in the job after this one, for it to read while it would otherwise wait: the
/// bytes are then in its core's caches when that job starts. Reading stops early when that job arrives.
/// </summary>
public readonly unsafe struct ReadAhead(byte* start, long bytes)
{
    /// <summary>Bytes read between two looks at the stop signal: sixteen lines.</summary>
    public const int Block = 1024;

    private readonly byte* _start = start;

    /// <summary>Where the range starts.</summary>
    public nint Start => (nint)_start;

    /// <summary>Bytes in the range.</summary>
    public long Bytes { get; } = Math.Max(0, bytes);

    /// <summary>Nothing to read.</summary>
    public bool IsEmpty => Bytes == 0;

    /// <summary>
    /// Reads the whole 64-byte lines of the range, <see cref="Block"/> bytes at a time, until it ends or
    /// <paramref name="stop"/> says so (asked before each block); returns the bytes read. <paramref name="fold"/> is the
    /// OR of the first byte of every line read: using it keeps the loads.
    /// </summary>
    public long Read<TStop>(ref TStop stop, out int fold) where TStop : struct, IStopSignal
    {
        var sum = Vector512<byte>.Zero;
        long lines = Bytes / 64 * 64, at = 0;
        for (; at < lines && !stop.ShouldStop; at += Block)
        {
            long end = Math.Min(lines, at + Block);
            for (long line = at; line < end; line += 64) sum |= Vector512.Load(_start + line);
        }
        fold = sum.GetElement(0);
        return Math.Min(at, lines);
    }
}

/// <summary>Tells a <see cref="ReadAhead"/> reader when to stop.</summary>
public interface IStopSignal
{
    /// <summary>Whether to stop now.</summary>
    bool ShouldStop { get; }
}
