using System.Buffers.Binary;
using Basalt.Tensors;

namespace Basalt.Inference.Model;

/// <summary>Turns one stored row into floats.</summary>
internal static class RowDequantizer
{
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case GgmlType.F32:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst);
                break;
            case GgmlType.F16:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]);
                break;
            case GgmlType.BF16:
                for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16);
                break;
            default:
                throw new NotSupportedException($"Weight type {type} is not supported yet.");
        }
    }
}
