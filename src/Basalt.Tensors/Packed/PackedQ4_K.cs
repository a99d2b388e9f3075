using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Packed;

/// <summary>
/// Q4_K in sixteen-row groups. A superblock (256 columns) of a group takes 2368 bytes, exactly 37 cache lines:
/// <list type="bullet">
/// <item>eight 256-byte units, one per 32-column sub-block, each four nibble vectors laid out as Q4_0's (vector c,
/// row r in lanes 4r..4r+3: low nibbles the row's weights 4c..4c+3 of the sub-block, high nibbles 16+4c..16+4c+3);</item>
/// <item>the 6-bit sub-block scales, then mins, unpacked from ggml's 12-byte field into one byte each,
/// sub-block-major (2 × 128 bytes);</item>
/// <item>the rows' fp16 d, then dmin (2 × 32 bytes).</item>
/// </list>
/// Per sub-block the eight <c>vpmaddubsw</c> products add up exactly in int16 (at most 16·15·127) and
/// <c>vpmaddwd</c> against the scale in both halves of each row's lane gives sc·Σq·x; the mins meet the Q8_K block
/// sums in int32. So the two integer sums of a superblock are exactly ggml's, and meet d·dx and dmin·dx once.
/// Input: per superblock the 256 quants, then per superblock eight int32 lanes holding Σx of each sub-block in the
/// low int16 (for <c>vpmaddwd</c> against (m, 0) pairs), then the superblock scales dx as f32.
/// </summary>
internal sealed unsafe class PackedQ4_K : PackedMatrix
{
    // The header (scales, mins, d, dmin) comes first, so a superblock is read front to back in one pass.
    private const int ScalesAt = 0, MinsAt = 128, DAt = 256, DMinAt = 288, UnitsAt = 320, UnitBytes = 256, SuperBytes = UnitsAt + 8 * UnitBytes;

    private readonly int _supers;

    public PackedQ4_K(int rows, int cols) : base(GgmlType.Q4_K, rows, cols, (long)(cols / 256) * SuperBytes) => _supers = cols / 256;

    public override int InputBytes => _supers * (256 + 32 + 4);

    public override void PrepareInput(ReadOnlySpan<float> x, Span<byte> input)
    {
        if (x.Length != Cols) throw new ArgumentException($"Expected {Cols} activations, got {x.Length}.", nameof(x));
        if (input.Length < InputBytes) throw new ArgumentException($"Need {InputBytes} bytes, got {input.Length}.", nameof(input));
        int* sums = stackalloc int[16];
        fixed (float* xp = x)
        fixed (byte* dst = input)
        {
            int* pairs = (int*)(dst + _supers * 256);
            float* scales = (float*)(dst + _supers * 288);
            for (int s = 0; s < _supers; s++)
            {
                Q8Blocks.QuantizeSuperBlocks(xp + 256 * s, 1, (sbyte*)dst + 256 * s, scales + s, sums);
                // Σx of 32 quants is at most 4064 in magnitude: an int16 in the lane's low half, zero above.
                for (int j = 0; j < 8; j++) pairs[8 * s + j] = (ushort)(short)(sums[2 * j] + sums[2 * j + 1]);
            }
        }
    }

    private protected override void PackGroup(byte* src, int rowBytes, byte* dst)
    {
        for (int r = 0; r < GroupRows; r++)
        {
            for (int s = 0; s < _supers; s++)
            {
                var block = new ReadOnlySpan<byte>(src + (long)r * rowBytes + 144 * s, 144);
                byte* super = dst + (long)s * SuperBytes;
                for (int j = 0; j < 8; j++)
                {
                    ReferenceKernels.GetScaleMinK4(j, block.Slice(4, 12), out int sc, out int m);
                    super[ScalesAt + 16 * j + r] = (byte)sc;
                    super[MinsAt + 16 * j + r] = (byte)m;
                    // Sub-block j: the low (j even) or high (j odd) nibbles of qs[32·(j/2) ..].
                    var qs = block.Slice(16 + 32 * (j / 2), 32);
                    int shift = 4 * (j % 2);
                    byte* unit = super + UnitsAt + j * UnitBytes;
                    for (int c = 0; c < 4; c++)
                        for (int i = 0; i < 4; i++)
                        {
                            int lo = (qs[4 * c + i] >> shift) & 0xF, hi = (qs[16 + 4 * c + i] >> shift) & 0xF;
                            unit[64 * c + 4 * r + i] = (byte)(lo | hi << 4);
                        }
                }
                Unsafe.WriteUnaligned(super + DAt + 2 * r, BinaryPrimitives.ReadUInt16LittleEndian(block));
                Unsafe.WriteUnaligned(super + DMinAt + 2 * r, BinaryPrimitives.ReadUInt16LittleEndian(block[2..]));
            }
        }
    }

    /// <summary>Σq·x of one sub-block for one input, sixteen rows of two int16 halves (each at most 16·15·127).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> SubBlock(Vector512<byte> l0, Vector512<byte> h0, Vector512<byte> l1, Vector512<byte> h1,
        Vector512<byte> l2, Vector512<byte> h2, Vector512<byte> l3, Vector512<byte> h3, byte* xu) =>
        Avx512BW.MultiplyAddAdjacent(l0, Broadcast(xu)) + Avx512BW.MultiplyAddAdjacent(h0, Broadcast(xu + 16))
        + Avx512BW.MultiplyAddAdjacent(l1, Broadcast(xu + 4)) + Avx512BW.MultiplyAddAdjacent(h1, Broadcast(xu + 20))
        + Avx512BW.MultiplyAddAdjacent(l2, Broadcast(xu + 8)) + Avx512BW.MultiplyAddAdjacent(h2, Broadcast(xu + 24))
        + Avx512BW.MultiplyAddAdjacent(l3, Broadcast(xu + 12)) + Avx512BW.MultiplyAddAdjacent(h3, Broadcast(xu + 28));

    /// <summary>Σ m·Σx over the superblock's sub-blocks for one input (<paramref name="sums"/>: its eight (Σx, 0) lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> MinSum(byte* super, int* sums)
    {
        var total = Vector512<int>.Zero;
        for (int j = 0; j < 8; j++)
        {
            // Zero-extended to int32, each min is the int16 pair (m, 0).
            var mins = Avx512F.ConvertToVector512Int32(Vector128.LoadAligned(super + MinsAt + 16 * j)).AsInt16();
            total += Avx512BW.MultiplyAddAdjacent(mins, Vector512.Create(sums[j]).AsInt16());
        }
        return total;
    }

    /// <summary>The superblock's term: d·dx·Σsc·Σq·x − dmin·dx·Σm·Σx, as ggml combines them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Combine(byte* super, Vector512<int> scaled, Vector512<int> mins, float dx, Vector512<float> acc)
    {
        var dall = Halves(super + DAt) * Vector512.Create(dx);
        var dmin = Halves(super + DMinAt) * Vector512.Create(dx);
        return acc + (dall * Avx512F.ConvertToVector512Single(scaled) - dmin * Avx512F.ConvertToVector512Single(mins));
    }

    private protected override void Group1(byte* group, byte* x, float* y)
    {
        int near = NearPrefetch; // a local: a static read in the loop can make the JIT spill the accumulators
        var mask = Vector512.Create((byte)0x0F);
        var pairs = DuplicatePairs();
        int* sumBase = (int*)(x + _supers * 256);
        float* xScale = (float*)(x + _supers * 288);
        var acc = Vector512<float>.Zero;
        for (int s = 0; s < _supers; s++)
        {
            byte* super = group + (long)s * SuperBytes, xs = x + 256 * s;
            var scaled = Vector512<int>.Zero;
            PrefetchBurst(super, SuperBytes, near); // the whole superblock (37 lines) at once: see PackedQ6_K.Group1
            for (int j = 0; j < 8; j++)
            {
                byte* unit = super + UnitsAt + j * UnitBytes;
                var v0 = Vector512.LoadAligned(unit);
                var v1 = Vector512.LoadAligned(unit + 64);
                var v2 = Vector512.LoadAligned(unit + 128);
                var v3 = Vector512.LoadAligned(unit + 192);
                var p = SubBlock(v0 & mask, Vector512.ShiftRightLogical(v0.AsUInt16(), 4).AsByte() & mask,
                    v1 & mask, Vector512.ShiftRightLogical(v1.AsUInt16(), 4).AsByte() & mask,
                    v2 & mask, Vector512.ShiftRightLogical(v2.AsUInt16(), 4).AsByte() & mask,
                    v3 & mask, Vector512.ShiftRightLogical(v3.AsUInt16(), 4).AsByte() & mask, xs + 32 * j);
                scaled += Avx512BW.MultiplyAddAdjacent(p, ScalePairs(super + ScalesAt + 16 * j, pairs, signed: false));
            }
            acc = Combine(super, scaled, MinSum(super, sumBase + 8 * s), xScale[s], acc);
        }
        acc.Store(y);
    }

    private protected override void Group4(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        var mask = Vector512.Create((byte)0x0F);
        var pairs = DuplicatePairs();
        byte* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        int sumAt = _supers * 256, scaleAt = _supers * 288;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int s = 0; s < _supers; s++)
        {
            byte* super = group + (long)s * SuperBytes;
            Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int j = 0; j < 8; j++)
            {
                byte* unit = super + UnitsAt + j * UnitBytes;
                Prefetch(unit, UnitBytes, FarPrefetch);
                if (j == 0) Prefetch(super, UnitsAt, FarPrefetch); // the hole the units' prefetches leave (see PackedQ6_K.Group1)
                var v0 = Vector512.LoadAligned(unit);
                var v1 = Vector512.LoadAligned(unit + 64);
                var v2 = Vector512.LoadAligned(unit + 128);
                var v3 = Vector512.LoadAligned(unit + 192);
                var l0 = v0 & mask;
                var h0 = Vector512.ShiftRightLogical(v0.AsUInt16(), 4).AsByte() & mask;
                var l1 = v1 & mask;
                var h1 = Vector512.ShiftRightLogical(v1.AsUInt16(), 4).AsByte() & mask;
                var l2 = v2 & mask;
                var h2 = Vector512.ShiftRightLogical(v2.AsUInt16(), 4).AsByte() & mask;
                var l3 = v3 & mask;
                var h3 = Vector512.ShiftRightLogical(v3.AsUInt16(), 4).AsByte() & mask;
                var sc = ScalePairs(super + ScalesAt + 16 * j, pairs, signed: false);
                int xu = 256 * s + 32 * j;
                s0 += Avx512BW.MultiplyAddAdjacent(SubBlock(l0, h0, l1, h1, l2, h2, l3, h3, x0 + xu), sc);
                s1 += Avx512BW.MultiplyAddAdjacent(SubBlock(l0, h0, l1, h1, l2, h2, l3, h3, x1 + xu), sc);
                s2 += Avx512BW.MultiplyAddAdjacent(SubBlock(l0, h0, l1, h1, l2, h2, l3, h3, x2 + xu), sc);
                s3 += Avx512BW.MultiplyAddAdjacent(SubBlock(l0, h0, l1, h1, l2, h2, l3, h3, x3 + xu), sc);
            }
            a0 = Combine(super, s0, MinSum(super, (int*)(x0 + sumAt) + 8 * s), ((float*)(x0 + scaleAt))[s], a0);
            a1 = Combine(super, s1, MinSum(super, (int*)(x1 + sumAt) + 8 * s), ((float*)(x1 + scaleAt))[s], a1);
            a2 = Combine(super, s2, MinSum(super, (int*)(x2 + sumAt) + 8 * s), ((float*)(x2 + scaleAt))[s], a2);
            a3 = Combine(super, s3, MinSum(super, (int*)(x3 + sumAt) + 8 * s), ((float*)(x3 + scaleAt))[s], a3);
        }
        a0.Store(y);
        a1.Store(y + yStride);
        a2.Store(y + 2 * yStride);
        a3.Store(y + 3 * yStride);
    }
}
