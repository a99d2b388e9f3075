using Basalt.Tensors;

namespace Basalt.Gguf.Tests;

public sealed class GgufWriterStreamingTests
{
    [Fact]
    public void ProducedTensors_WriteTheSameFileAsInMemoryOnes()
    {
        var a = Enumerable.Range(0, 64 * 4).Select(i => (byte)i).ToArray();
        var b = Enumerable.Range(0, 34 * 3).Select(i => (byte)(i * 7)).ToArray();
        var memory = new GgufWriter().Add("general.name", GgufValueType.String, "x");
        memory.AddTensor("a", [64], GgmlType.F32, a).AddTensor("b", [96], GgmlType.Q8_0, b);
        var streamed = new GgufWriter().Add("general.name", GgufValueType.String, "x");
        streamed.AddTensor("a", [64], GgmlType.F32, s => s.Write(a))
            .AddTensor("b", [96], GgmlType.Q8_0, s =>
            {
                s.Write(b, 0, 10);
                s.Write(b.AsSpan(10));
            });
        var m1 = new MemoryStream();
        var m2 = new MemoryStream();
        memory.WriteTo(m1);
        streamed.WriteTo(m2);
        Assert.Equal(m1.ToArray(), m2.ToArray());
    }

    [Fact]
    public void AProducerThatWritesTheWrongSize_Fails()
    {
        var w = new GgufWriter().AddTensor("a", [64], GgmlType.F32, s => s.Write(new byte[255]));
        var e = Assert.Throws<InvalidOperationException>(() => w.WriteTo(new MemoryStream()));
        Assert.Contains("wrote 255", e.Message);
    }
}
