using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Basalt.Tensors.Quants;
using Basalt.Tensors.Threading;

namespace Basalt.Tensors.Packed;

/// <summary>
/// A quantized weight matrix repacked at load time into groups of <see cref="GroupRows"/> interleaved rows, the
/// layout the Vector512 kernels want: one 512-bit load holds a few weights of each of sixteen rows, the activation
/// bytes they meet are broadcast to every lane, and sixteen dot products advance together with no horizontal sums.
/// The sixteen per-row scales of a block sit side by side, so they widen with one vector operation. A product
/// unpacks each weight block once for up to eight inputs (prompts, several sequences per step).
/// <para>
/// The integer block sums are the exact values ggml forms; each row accumulates its block terms in block order with
/// one fused multiply-add per block, so a result does not depend on how many inputs or which row groups a call
/// covers (the thread split and batch size change no bit). Against the row kernels only the f32 summation order
/// differs.
/// </para>
/// The packed copy lives in native memory owned by this object; <see cref="Dispose"/> frees it.
/// </summary>
public abstract unsafe class PackedMatrix : IDisposable
{
    /// <summary>Rows per interleaved group.</summary>
    public const int GroupRows = 16;

    private byte* _data;

    private protected PackedMatrix(GgmlType type, int rows, int cols, long groupBytes)
    {
        Type = type;
        Rows = rows;
        Cols = cols;
        // Each group starts on a cache line.
        GroupBytes = (groupBytes + 63) & ~63L;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)(GroupBytes * Groups), 64);
        NativeMemory.Clear(_data, (nuint)(GroupBytes * Groups)); // padding and bit fields that packing ORs into
        GC.AddMemoryPressure(GroupBytes * Groups);
    }

    ~PackedMatrix() => Free();

    /// <summary>The weight type the packed blocks hold.</summary>
    public GgmlType Type { get; }

    /// <summary>Rows (a multiple of <see cref="GroupRows"/>).</summary>
    public int Rows { get; }

    /// <summary>Elements per row.</summary>
    public int Cols { get; }

    /// <summary>Number of row groups.</summary>
    public int Groups => Rows / GroupRows;

    /// <summary>Bytes of one packed group (a multiple of 64).</summary>
    public long GroupBytes { get; }

    /// <summary>Bytes of native memory the packed copy takes.</summary>
    public long PackedBytes => GroupBytes * Groups;

    /// <summary>
    /// The packed bytes of groups [<paramref name="groupStart"/>, <paramref name="groupEnd"/>), at most
    /// <paramref name="maxBytes"/> of them from the start; nothing once the matrix is disposed.
    /// </summary>
    public ReadAhead ReadAheadOf(int groupStart, int groupEnd, long maxBytes)
    {
        byte* data = _data;
        groupStart = Math.Max(groupStart, 0);
        groupEnd = Math.Min(groupEnd, Groups);
        if (data == null || groupEnd <= groupStart) return default;
        return new ReadAhead(data + groupStart * GroupBytes, Math.Min(maxBytes, (groupEnd - groupStart) * GroupBytes));
    }

    /// <summary>Bytes of one input prepared by <see cref="PrepareInput"/>.</summary>
    public abstract int InputBytes { get; }

    /// <summary>Whether <paramref name="type"/> matrices of this shape can be packed on this CPU.</summary>
    public static bool CanPack(GgmlType type, int rows, int cols) =>
        FastKernels.IsVector512Accelerated && rows > 0 && rows % GroupRows == 0 && cols > 0 && type switch
        {
            GgmlType.Q4_0 or GgmlType.Q8_0 => cols % 32 == 0,
            GgmlType.Q4_K or GgmlType.Q6_K => cols % 256 == 0,
            GgmlType.F16 => cols % 32 == 0,
            _ => false,
        };

    /// <summary>
    /// Packs the <paramref name="rows"/> × <paramref name="cols"/> matrix whose rows start every
    /// <paramref name="rowBytes"/> bytes at <paramref name="data"/>, or returns null when <see cref="CanPack"/> is false.
    /// </summary>
    public static PackedMatrix? TryPack(GgmlType type, byte* data, int rows, int cols, int rowBytes)
    {
        if (!CanPack(type, rows, cols)) return null;
        long need = GgmlTypeInfo.Of(type).RowBytes(cols);
        if (rowBytes < need) throw new ArgumentException($"A {type} row of {cols} elements needs {need} bytes; rows are {rowBytes} apart.", nameof(rowBytes));
        PackedMatrix packed = type switch
        {
            GgmlType.Q4_0 => new PackedQ4_0(rows, cols),
            GgmlType.Q8_0 => new PackedQ8_0(rows, cols),
            GgmlType.Q4_K => new PackedQ4_K(rows, cols),
            GgmlType.F16 => new PackedF16(rows, cols),
            _ => new PackedQ6_K(rows, cols),
        };
        byte* dst = packed._data;
        long groupBytes = packed.GroupBytes;
        Parallel.For(0, packed.Groups, g => packed.PackGroup(data + (long)g * GroupRows * rowBytes, rowBytes, dst + g * groupBytes));
        return packed;
    }

    /// <summary>
    /// Whether an input prepared by <paramref name="other"/> is also this matrix's input: the same type, and where a
    /// type prepares its inputs in more than one way (F16 scales them only for matrices with no infinities or NaNs),
    /// the same way.
    /// </summary>
    public bool SharesInputWith(PackedMatrix other) => other.Type == Type && other.InputVariant == InputVariant;

    /// <summary>Which of its type's ways of preparing an input this matrix takes (see <see cref="SharesInputWith"/>).</summary>
    private protected virtual int InputVariant => 0;

    /// <summary>Converts an activation vector of <see cref="Cols"/> floats into the input form the kernels read.</summary>
    public abstract void PrepareInput(ReadOnlySpan<float> x, Span<byte> input);

    /// <summary>
    /// y[i·<paramref name="yStride"/> + r] = row r · input i for the <paramref name="count"/> inputs, which start every
    /// <paramref name="inputStride"/> bytes of <paramref name="inputs"/>, and the rows of groups
    /// [<paramref name="groupStart"/>, <paramref name="groupEnd"/>).
    /// </summary>
    public void Multiply(ReadOnlySpan<byte> inputs, int inputStride, int count, int groupStart, int groupEnd, Span<float> y, int yStride)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        if (groupStart < 0 || groupEnd < groupStart || groupEnd > Groups)
            throw new ArgumentOutOfRangeException(nameof(groupEnd), $"Bad group range [{groupStart}, {groupEnd}) of {Groups}.");
        if (count <= 0 || groupEnd == groupStart) return;
        if (inputStride < InputBytes || (long)(count - 1) * inputStride + InputBytes > inputs.Length)
            throw new ArgumentException($"{count} inputs of {InputBytes} bytes, {inputStride} apart, do not fit in {inputs.Length} bytes.", nameof(inputs));
        if (yStride < GroupRows * groupEnd || (long)(count - 1) * yStride + GroupRows * groupEnd > y.Length)
            throw new ArgumentException($"y holds {y.Length} floats, too few for {count} outputs {yStride} apart.", nameof(y));
        // A tail of six or seven inputs costs less as one eight-input pass than as 4 + 1 + 1 (+ 1), and a tail of
        // three as one four-input pass: the wider kernels unpack each weight block once for all their inputs. With
        // enough inputs before the tail, the wide pass ends at the last input and recomputes one or two already done
        // (every output is computed the same way whatever the pass, so they come out the same bits); with fewer, the
        // tail is copied into a padded scratch batch.
        int full = count / 8 * 8, tail = count - full;
        int wide = tail >= 6 ? 8 : tail == 3 ? 4 : 0;
        byte[]? padded = null;
        float[]? paddedOutputs = null;
        if (wide > 0 && count < wide)
        {
            padded = t_paddedInputs is { } buffer && buffer.Length >= wide * inputStride ? buffer : t_paddedInputs = new byte[wide * inputStride];
            paddedOutputs = t_paddedOutputs ??= new float[8 * GroupRows];
            for (int k = 0; k < wide; k++)
                inputs.Slice(Math.Min(k, count - 1) * inputStride, InputBytes).CopyTo(padded.AsSpan(k * inputStride));
        }
        fixed (byte* x = inputs)
        fixed (byte* xPadded = padded)
        fixed (float* scratch = paddedOutputs)
        fixed (float* yp = y)
        {
            for (int g = groupStart; g < groupEnd; g++)
            {
                byte* group = _data + g * GroupBytes;
                float* yg = yp + g * GroupRows;
                int i = 0;
                for (; i < full; i += 8)
                    Group8(group, x + (long)i * inputStride, inputStride, yg + (long)i * yStride, yStride);
                if (wide == 0)
                {
                    for (; i + 4 <= count; i += 4)
                        Group4(group, x + (long)i * inputStride, inputStride, yg + (long)i * yStride, yStride);
                    for (; i < count; i++)
                        Group1(group, x + (long)i * inputStride, yg + (long)i * yStride);
                }
                else if (padded is null)
                {
                    int start = count - wide;
                    if (wide == 8) Group8(group, x + (long)start * inputStride, inputStride, yg + (long)start * yStride, yStride);
                    else Group4(group, x + (long)start * inputStride, inputStride, yg + (long)start * yStride, yStride);
                }
                else
                {
                    if (wide == 8) Group8(group, xPadded, inputStride, scratch, GroupRows);
                    else Group4(group, xPadded, inputStride, scratch, GroupRows);
                    for (int k = 0; k < count; k++)
                        new ReadOnlySpan<float>(scratch + k * GroupRows, GroupRows).CopyTo(new Span<float>(yg + (long)k * yStride, GroupRows));
                }
            }
        }
    }

    [ThreadStatic] private static byte[]? t_paddedInputs;
    [ThreadStatic] private static float[]? t_paddedOutputs;

    /// <summary>
    /// Bytes past the current position that the one-input kernels prefetch (read once into a local at the top of a
    /// kernel). It depends on the core, measured on the 5632×2048 GEMV with weights streaming from memory:
    /// <list type="bullet">
    /// <item>Zen 4: 0–128 best (Q4_0 ~25 GB/s on one thread), none 20 GB/s, 512 19 GB/s, further worse still: with each
    /// group one sequential stream the hardware prefetcher does most of the work.</item>
    /// <item>Zen 5 (family 1Ah): far ahead. At 128 one thread read F16 at 25–27 GB/s, Q6_K 14–20, Q8_0 17–26; at 4096
    /// F16 34–36, Q6_K 32–34, Q8_0 29–37 (two threads: F16 46–52 → 56–65, Q6_K 26 → 64–69 GB/s). With the page
    /// prefetch (<see cref="PageAhead"/>), 6 KiB beat 4 KiB: over each model's products, the kernels compiled for both
    /// distances side by side in one process and alternated (24 passes a run, medians of the paired ratios), one thread
    /// Q4_0 1.011–1.016, Q8_0 1.014–1.023, the Q4_K_M model 1.028–1.059; two threads Q4_0 1.051, Q8_0 1.032, Q4_K_M
    /// 1.047 (twice). 5 KiB did as well for Q4_0 and Q8_0 and half as well for Q4_K_M; 8 KiB nothing (Q8_0 1.003,
    /// Q4_0 1.000). Variants identical to the 4 KiB one, run as controls, came out 0.993–1.023.</item>
    /// </list>
    /// </summary>
    private protected static readonly int NearPrefetch = IsZen5OrLater() ? 6144 : 128;

    /// <summary>An AMD core of family 1Ah (Zen 5) or later, from CPUID leaf 1.</summary>
    private static bool IsZen5OrLater()
    {
        if (!X86Base.IsSupported) return false;
        var (_, b, c, d) = X86Base.CpuId(0, 0);
        bool amd = b == 0x68747541 && d == 0x69746E65 && c == 0x444D4163; // "AuthenticAMD"
        int eax = X86Base.CpuId(1, 0).Eax, family = (eax >> 8) & 0xF;
        if (family == 0xF) family += (eax >> 20) & 0xFF;
        return amd && family >= 0x1A;
    }

    /// <summary>
    /// The same for the multi-input kernels, which spend longer on each byte: there the hardware prefetcher alone
    /// leaves the first pass over a group waiting on memory. Measured as above with eight inputs: 128 → 183,
    /// 1152 → 230, 2304 → 240, 4608 → 223 GFLOP/s (Q4_0); four inputs 166 → 194.
    /// </summary>
    private protected const int FarPrefetch = 2304;

    /// <summary>Prefetches <paramref name="bytes"/> bytes from <paramref name="distance"/> past <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static void Prefetch(byte* at, int bytes, int distance)
    {
        for (int i = 0; i < bytes; i += 64) Sse.Prefetch0(at + distance + i);
    }

    /// <summary>
    /// How far past a one-input kernel's prefetch burst it prefetches one more line, so that the pages ahead are in
    /// the TLB before the bursts reach them. Without it, the packed copy placed on a page boundary (each 4 KiB F16 burst
    /// exactly one page) read 63–68% of a plain read against 97–105% 64 bytes past it, where each burst's last line
    /// falls in the next page; so a prefetch into a page the TLB does not hold seems to do little. With it both
    /// placements read 116%. Over a model's products alternating in one process with the plain read (Zen 5, packed copy
    /// 64 bytes past a page as the allocator places it), one thread: F16 100–107% -> 121–130% (4–32 KiB all alike),
    /// Q4_0 90–91% -> 121–123%, Q8_0 89% -> 117–120%, the Q4_K_M model 105–111% -> 121–123% (4 KiB: 113–116%); two
    /// threads: Q4_0 86–95% -> 111–115%, Q8_0 98–100% -> 116–117%, F16 106–113% -> 109–115% (the plain read there
    /// is a 256-bit loop without this prefetch). Those figures came from a flag in this helper, which can change the
    /// kernels' code; separate builds confirmed the gain (the F16 sequence alone 30.2–31.9 -> 33.1 GB/s, one-thread
    /// decode against llama.cpp Q4_0 1.46 -> 1.85x, F16 1.06 -> 1.40x). Measured on Zen 5 only.
    /// </summary>
    internal const int PageAhead = 16384;

    /// <summary><see cref="Prefetch"/> a one-input kernel's burst, and one line <see cref="PageAhead"/> past it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static void PrefetchBurst(byte* at, int bytes, int distance)
    {
        Prefetch(at, bytes, distance);
        PrefetchPage(at, distance);
    }

    /// <summary>Only the line <see cref="PageAhead"/> past the burst <see cref="PrefetchBurst"/> would take, for a kernel the hardware prefetcher keeps fed without the burst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static void PrefetchPage(byte* at, int distance) => Sse.Prefetch0(at + distance + PageAhead);

    /// <summary>The four activation bytes at <paramref name="at"/>, repeated in every 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static Vector512<sbyte> Broadcast(byte* at) => Vector512.Create(Unsafe.ReadUnaligned<int>(at)).AsSByte();

    /// <summary>
    /// Control for <c>vpermw</c> that turns sixteen int16 scales into the pairs (s₀, s₀, s₁, s₁, …) of
    /// <c>vpmaddwd</c>. Built where it is used (a constant there): a static readonly vector costs a
    /// class-initialisation check that makes the JIT spill.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static Vector512<short> DuplicatePairs() => Vector512.Create(
        (short)0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);

    /// <summary>Sixteen row scales (bytes, sign-extended when <paramref name="signed"/>) as (s, s) int16 pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static Vector512<short> ScalePairs(byte* scales, Vector512<short> pairs, bool signed)
    {
        var wide = signed ? Avx2.ConvertToVector256Int16(Vector128.LoadAligned((sbyte*)scales)) : Avx2.ConvertToVector256Int16(Vector128.LoadAligned(scales));
        return Avx512BW.PermuteVar32x16(wide.ToVector512Unsafe(), pairs);
    }

    private protected const float TwoTo112 = 5.192296858534828e33f, TwoToMinus112 = 1.925929944387236e-34f;

    /// <summary>How sixteen fp16 block scales (one per row) become f32, 2^−112 times their values; the kernels take it as a type argument.</summary>
    private protected interface IScaleWidening
    {
        static abstract Vector512<float> Widen(ushort* at);
    }

    /// <summary>
    /// For finite scales. Sign-extended to 32 bits and shifted left 13, a half's exponent and mantissa land in an f32's
    /// low exponent and mantissa bits and its sign in bits 28–31; clearing bits 28–30 leaves exactly w·2^−112,
    /// subnormals included.
    /// </summary>
    private protected struct FiniteScales : IScaleWidening
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Widen(ushort* at) =>
            (Vector512.ShiftLeft(Avx512F.ConvertToVector512Int32(Vector256.LoadAligned((short*)at)), 13) & Vector512.Create(unchecked((int)0x8FFFFFFF))).AsSingle();
    }

    /// <summary>Any scales, infinities and NaNs included: the exact widening times 2^−112 (exact: every finite half stays representable).</summary>
    private protected struct ExactScales : IScaleWidening
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Widen(ushort* at) => Halves((byte*)at) * Vector512.Create(TwoToMinus112);
    }

    /// <summary>The sixteen fp16 values at <paramref name="at"/> (one per row) as f32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static Vector512<float> Halves(byte* at) =>
        FastKernels.WidenHalves512(Avx512F.ConvertToVector512UInt32(Vector256.LoadAligned((ushort*)at)));

    /// <summary>Writes the sixteen rows at <paramref name="src"/> into the group layout at <paramref name="dst"/>.</summary>
    private protected abstract void PackGroup(byte* src, int rowBytes, byte* dst);

    /// <summary>Sixteen dot products of one group with one input, stored at <paramref name="y"/>.</summary>
    private protected abstract void Group1(byte* group, byte* x, float* y);

    /// <summary>The same for four inputs <paramref name="xStride"/> bytes apart, with results <paramref name="yStride"/> floats apart.</summary>
    private protected abstract void Group4(byte* group, byte* x, int xStride, float* y, int yStride);

    /// <summary>
    /// The same for eight inputs. Types whose unpacking is costly override it to unpack once for all eight, which
    /// also keeps the group's weights streaming from memory in one pass; by default, two four-input passes.
    /// </summary>
    private protected virtual void Group8(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        Group4(group, x, xStride, y, yStride);
        Group4(group, x + 4L * xStride, xStride, y + 4L * yStride, yStride);
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        GC.RemoveMemoryPressure(PackedBytes);
        _data = null;
    }
}
