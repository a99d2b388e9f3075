using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Packed;

/// <summary>
/// Q6_K in sixteen-row groups. A superblock (256 columns) of a group takes 3392 bytes, 53 cache lines, read front to back:
/// <list type="bullet">
/// <item>the sixteen int8 sub-block scales of the sixteen rows, sub-block-major (256 bytes);</item>
/// <item>the rows' fp16 d (32 bytes), and 32 bytes of padding;</item>
/// <item>eight 384-byte units of 32 columns. Each holds four nibble vectors laid out as Q4_0's (vector c, row r in
/// lanes 4r..4r+3: low nibbles the low four bits of the row's weights 4c..4c+3 of the unit, high nibbles those of
/// weights 16+4c..16+4c+3), then two vectors of the top two bits, vector h serving nibble vectors 2h and 2h+1: in
/// each byte, bits 0–1 and 2–3 go with vector 2h's low and high nibble, bits 4–5 and 6–7 with vector 2h+1's.</item>
/// </list>
/// The 6-bit weights q (0..63) meet the Q8_K activations x in <c>vpmaddubsw</c> (a lane pair is at most 2·63·127,
/// so two add up exactly in int16); <c>vpmaddwd</c> against the sub-block scale, duplicated into both int16 halves
/// of each row's lane, gives sc·Σq·x in int32, and the "−32" of every weight comes off as 32·sc·Σx with the Q8_K
/// block sums. So each superblock's integer sum is exactly Σ sc·Σ(q−32)·x, as ggml forms it, and meets d·dx once.
/// Input: per superblock the 256 quants, then per superblock sixteen int16 pairs (16·Σx, 16·Σx) of the sub-blocks,
/// then the superblock scales dx as f32.
/// </summary>
internal sealed unsafe class PackedQ6_K : PackedMatrix
{
    // The header (scales, d) comes first, so a superblock is read front to back in one pass.
    private const int ScalesAt = 0, DAt = 256, UnitsAt = 320, UnitBytes = 384, SuperBytes = UnitsAt + 8 * UnitBytes;

    private readonly int _supers;

    public PackedQ6_K(int rows, int cols) : base(GgmlType.Q6_K, rows, cols, (long)(cols / 256) * SuperBytes) => _supers = cols / 256;

    public override int InputBytes => _supers * (256 + 64 + 4);

    public override void PrepareInput(ReadOnlySpan<float> x, Span<byte> input)
    {
        if (x.Length != Cols) throw new ArgumentException($"Expected {Cols} activations, got {x.Length}.", nameof(x));
        if (input.Length < InputBytes) throw new ArgumentException($"Need {InputBytes} bytes, got {input.Length}.", nameof(input));
        int* sums = stackalloc int[16];
        fixed (float* xp = x)
        fixed (byte* dst = input)
        {
            short* offsets = (short*)(dst + _supers * 256);
            float* scales = (float*)(dst + _supers * 320);
            for (int s = 0; s < _supers; s++)
            {
                Q8Blocks.QuantizeSuperBlocks(xp + 256 * s, 1, (sbyte*)dst + 256 * s, scales + s, sums);
                for (int j = 0; j < 16; j++)
                {
                    // |Σx| ≤ 16·127, so 16·Σx fits an int16; the pair gives 32·sc·Σx in one vpmaddwd.
                    short sixteen = (short)(16 * sums[j]);
                    offsets[32 * s + 2 * j] = sixteen;
                    offsets[32 * s + 2 * j + 1] = sixteen;
                }
            }
        }
    }

    private protected override void PackGroup(byte* src, int rowBytes, byte* dst)
    {
        Span<byte> q = stackalloc byte[256];
        for (int r = 0; r < GroupRows; r++)
        {
            for (int s = 0; s < _supers; s++)
            {
                var block = new ReadOnlySpan<byte>(src + (long)r * rowBytes + 210 * s, 210);
                for (int e = 0; e < 256; e++) q[e] = (byte)(ReferenceKernels.Q6Value(block, e) + 32);
                byte* super = dst + (long)s * SuperBytes;
                for (int u = 0; u < 8; u++)
                {
                    byte* unit = super + UnitsAt + u * UnitBytes;
                    var w = q.Slice(32 * u, 32);
                    for (int c = 0; c < 4; c++)
                        for (int i = 0; i < 4; i++)
                        {
                            byte lo = w[4 * c + i], hi = w[16 + 4 * c + i];
                            unit[64 * c + 4 * r + i] = (byte)((lo & 0xF) | (hi & 0xF) << 4);
                            int shift = 4 * (c & 1);
                            ref byte top = ref unit[256 + 64 * (c >> 1) + 4 * r + i];
                            top |= (byte)(((lo >> 4) | (hi >> 4) << 2) << shift);
                        }
                }
                for (int j = 0; j < 16; j++) super[ScalesAt + 16 * j + r] = block[192 + j];
                Unsafe.WriteUnaligned(super + DAt + 2 * r, BinaryPrimitives.ReadUInt16LittleEndian(block[208..]));
            }
        }
    }

    /// <summary>6-bit weights from a nibble vector's low nibbles and the top bits already shifted to bits 4–5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Low(Vector512<byte> nibbles, Vector512<ushort> top) =>
        (nibbles & Vector512.Create((byte)0x0F)) | (top.AsByte() & Vector512.Create((byte)0x30));

    /// <summary>The same from the high nibbles. 16-bit shifts move bits across a byte boundary only where the masks drop them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> High(Vector512<byte> nibbles, Vector512<ushort> top) =>
        (Vector512.ShiftRightLogical(nibbles.AsUInt16(), 4).AsByte() & Vector512.Create((byte)0x0F)) | (top.AsByte() & Vector512.Create((byte)0x30));

    /// <summary>Sub-block <paramref name="j"/>'s scales of the sixteen rows as (sc, sc) int16 pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> ScalePairs(byte* super, int j, Vector512<short> pairs) => ScalePairs(super + ScalesAt + 16 * j, pairs, signed: true);

    /// <summary>
    /// One unit's contribution for one input: sc·Σq·x of its two sub-blocks minus their 32·sc·Σx.
    /// <paramref name="xu"/> is the unit's 32 activations, <paramref name="offsets"/> the superblock's offset pairs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Unit(Vector512<byte> l0, Vector512<byte> h0, Vector512<byte> l1, Vector512<byte> h1,
        Vector512<byte> l2, Vector512<byte> h2, Vector512<byte> l3, Vector512<byte> h3,
        Vector512<short> scA, Vector512<short> scB, byte* xu, int* offsets, int u, Vector512<int> sum)
    {
        var a01 = Avx512BW.MultiplyAddAdjacent(l0, Broadcast(xu)) + Avx512BW.MultiplyAddAdjacent(l1, Broadcast(xu + 4));
        var a23 = Avx512BW.MultiplyAddAdjacent(l2, Broadcast(xu + 8)) + Avx512BW.MultiplyAddAdjacent(l3, Broadcast(xu + 12));
        var b01 = Avx512BW.MultiplyAddAdjacent(h0, Broadcast(xu + 16)) + Avx512BW.MultiplyAddAdjacent(h1, Broadcast(xu + 20));
        var b23 = Avx512BW.MultiplyAddAdjacent(h2, Broadcast(xu + 24)) + Avx512BW.MultiplyAddAdjacent(h3, Broadcast(xu + 28));
        sum += Avx512BW.MultiplyAddAdjacent(a01, scA) + Avx512BW.MultiplyAddAdjacent(a23, scA);
        sum += Avx512BW.MultiplyAddAdjacent(b01, scB) + Avx512BW.MultiplyAddAdjacent(b23, scB);
        sum -= Avx512BW.MultiplyAddAdjacent(scA, Vector512.Create(offsets[2 * u]).AsInt16());
        return sum - Avx512BW.MultiplyAddAdjacent(scB, Vector512.Create(offsets[2 * u + 1]).AsInt16());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowScales(byte* super) => Halves(super + DAt);

    /// <summary>The unit's 6-bit weights: each nibble vector's low and high nibbles joined with their top two bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Weights(byte* unit, out Vector512<byte> l0, out Vector512<byte> h0, out Vector512<byte> l1, out Vector512<byte> h1,
        out Vector512<byte> l2, out Vector512<byte> h2, out Vector512<byte> l3, out Vector512<byte> h3)
    {
        var t0 = Vector512.LoadAligned(unit + 256).AsUInt16();
        var t1 = Vector512.LoadAligned(unit + 320).AsUInt16();
        var v0 = Vector512.LoadAligned(unit);
        var v1 = Vector512.LoadAligned(unit + 64);
        var v2 = Vector512.LoadAligned(unit + 128);
        var v3 = Vector512.LoadAligned(unit + 192);
        l0 = Low(v0, Vector512.ShiftLeft(t0, 4));
        h0 = High(v0, Vector512.ShiftLeft(t0, 2));
        l1 = Low(v1, t0);
        h1 = High(v1, Vector512.ShiftRightLogical(t0, 2));
        l2 = Low(v2, Vector512.ShiftLeft(t1, 4));
        h2 = High(v2, Vector512.ShiftLeft(t1, 2));
        l3 = Low(v3, t1);
        h3 = High(v3, Vector512.ShiftRightLogical(t1, 2));
    }

    /// <summary>
    /// One unit against the four inputs <paramref name="xStride"/> bytes apart from <paramref name="x"/>: the unit's
    /// activations are <paramref name="xu"/> bytes into each input, the superblock's offset pairs <paramref name="oo"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Units4(Vector512<byte> l0, Vector512<byte> h0, Vector512<byte> l1, Vector512<byte> h1,
        Vector512<byte> l2, Vector512<byte> h2, Vector512<byte> l3, Vector512<byte> h3, Vector512<short> scA, Vector512<short> scB,
        byte* x, int xStride, int xu, int oo, int u,
        ref Vector512<int> s0, ref Vector512<int> s1, ref Vector512<int> s2, ref Vector512<int> s3)
    {
        byte* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        s0 = Unit(l0, h0, l1, h1, l2, h2, l3, h3, scA, scB, x0 + xu, (int*)(x0 + oo), u, s0);
        s1 = Unit(l0, h0, l1, h1, l2, h2, l3, h3, scA, scB, x1 + xu, (int*)(x1 + oo), u, s1);
        s2 = Unit(l0, h0, l1, h1, l2, h2, l3, h3, scA, scB, x2 + xu, (int*)(x2 + oo), u, s2);
        s3 = Unit(l0, h0, l1, h1, l2, h2, l3, h3, scA, scB, x3 + xu, (int*)(x3 + oo), u, s3);
    }

    /// <summary>A superblock's term for the input at <paramref name="x"/>, as <see cref="Group1"/> forms it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Term(Vector512<int> sum, Vector512<float> dw, byte* x, int scaleAt, int s, Vector512<float> acc) =>
        Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sum), dw * Vector512.Create(((float*)(x + scaleAt))[s]), acc);

    private protected override void Group1(byte* group, byte* x, float* y)
    {
        int near = NearPrefetch; // a local: a static read in the loop can make the JIT spill the accumulators
        int* offsetBase = (int*)(x + _supers * 256);
        var pairs = DuplicatePairs();
        var acc = Vector512<float>.Zero;
        for (int s = 0; s < _supers; s++)
        {
            byte* super = group + (long)s * SuperBytes, xs = x + 256 * s;
            int* offsets = offsetBase + 16 * s;
            var sum = Vector512<int>.Zero;
            // The whole superblock (53 lines) at once. Prefetching each unit's 384 bytes a distance ahead of it left a
            // 320-byte hole in every superblock's stretch (the units' prefetches skip as much as the header is long),
            // for the hardware prefetcher to fill. Alternating in one process over the Q4_K_M model's products against
            // a plain read: with this for Q6_K, one thread read 100-101% -> 106% of it and two threads 92-97% ->
            // 107-108%; in a later run with Q4_K the same way too, one thread 95.5% -> 107.5%.
            PrefetchBurst(super, SuperBytes, near);
            for (int u = 0; u < 8; u++)
            {
                byte* unit = super + UnitsAt + u * UnitBytes;
                Weights(unit, out var l0, out var h0, out var l1, out var h1, out var l2, out var h2, out var l3, out var h3);
                sum = Unit(l0, h0, l1, h1, l2, h2, l3, h3,
                    ScalePairs(super, 2 * u, pairs), ScalePairs(super, 2 * u + 1, pairs), xs + 32 * u, offsets, u, sum);
            }
            acc = Term(sum, RowScales(super), x, _supers * 320, s, acc);
        }
        acc.Store(y);
    }

    private protected override void Group4(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        byte* x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        int offsetAt = _supers * 256, scaleAt = _supers * 320;
        var pairs = DuplicatePairs();
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int s = 0; s < _supers; s++)
        {
            byte* super = group + (long)s * SuperBytes;
            int xo = 256 * s, oo = offsetAt + 64 * s;
            Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int u = 0; u < 8; u++)
            {
                byte* unit = super + UnitsAt + u * UnitBytes;
                Prefetch(unit, UnitBytes, FarPrefetch);
                if (u == 0) Prefetch(super, UnitsAt, FarPrefetch); // the hole the units' prefetches leave (see Group1)
                Weights(unit, out var l0, out var h0, out var l1, out var h1, out var l2, out var h2, out var l3, out var h3);
                var scA = ScalePairs(super, 2 * u, pairs);
                var scB = ScalePairs(super, 2 * u + 1, pairs);
                Units4(l0, h0, l1, h1, l2, h2, l3, h3, scA, scB, x, xStride, xo + 32 * u, oo, u, ref s0, ref s1, ref s2, ref s3);
            }
            var dw = RowScales(super);
            a0 = Term(s0, dw, x, scaleAt, s, a0);
            a1 = Term(s1, dw, x1, scaleAt, s, a1);
            a2 = Term(s2, dw, x2, scaleAt, s, a2);
            a3 = Term(s3, dw, x3, scaleAt, s, a3);
        }
        a0.Store(y);
        a1.Store(y + yStride);
        a2.Store(y + 2 * yStride);
        a3.Store(y + 3 * yStride);
    }

    /// <summary>Eight inputs with each unit unpacked once: most quantized files keep the output matrix in Q6_K, and a batched decode step multiplies it with every sequence.</summary>
    private protected override void Group8(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        byte* x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        byte* x4 = x + 4 * xStride, x5 = x + 5 * xStride, x6 = x + 6 * xStride, x7 = x + 7 * xStride;
        int offsetAt = _supers * 256, scaleAt = _supers * 320;
        var pairs = DuplicatePairs();
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int s = 0; s < _supers; s++)
        {
            byte* super = group + (long)s * SuperBytes;
            int xo = 256 * s, oo = offsetAt + 64 * s;
            Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            for (int u = 0; u < 8; u++)
            {
                byte* unit = super + UnitsAt + u * UnitBytes;
                Prefetch(unit, UnitBytes, FarPrefetch);
                if (u == 0) Prefetch(super, UnitsAt, FarPrefetch); // the hole the units' prefetches leave (see Group1)
                Weights(unit, out var l0, out var h0, out var l1, out var h1, out var l2, out var h2, out var l3, out var h3);
                var scA = ScalePairs(super, 2 * u, pairs);
                var scB = ScalePairs(super, 2 * u + 1, pairs);
                Units4(l0, h0, l1, h1, l2, h2, l3, h3, scA, scB, x, xStride, xo + 32 * u, oo, u, ref s0, ref s1, ref s2, ref s3);
                Units4(l0, h0, l1, h1, l2, h2, l3, h3, scA, scB, x4, xStride, xo + 32 * u, oo, u, ref s4, ref s5, ref s6, ref s7);
            }
            var dw = RowScales(super);
            a0 = Term(s0, dw, x, scaleAt, s, a0);
            a1 = Term(s1, dw, x1, scaleAt, s, a1);
            a2 = Term(s2, dw, x2, scaleAt, s, a2);
            a3 = Term(s3, dw, x3, scaleAt, s, a3);
            a4 = Term(s4, dw, x4, scaleAt, s, a4);
            a5 = Term(s5, dw, x5, scaleAt, s, a5);
            a6 = Term(s6, dw, x6, scaleAt, s, a6);
            a7 = Term(s7, dw, x7, scaleAt, s, a7);
        }
        a0.Store(y);
        a1.Store(y + yStride);
        a2.Store(y + 2 * yStride);
        a3.Store(y + 3 * yStride);
        a4.Store(y + 4 * yStride);
        a5.Store(y + 5 * yStride);
        a6.Store(y + 6 * yStride);
        a7.Store(y + 7 * yStride);
    }
}
