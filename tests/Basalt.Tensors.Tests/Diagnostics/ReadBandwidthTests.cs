using Basalt.Tensors.Diagnostics;

namespace Basalt.Tensors.Tests.Diagnostics;

public sealed class ReadBandwidthTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryThreadCountReadsEachValueExactlyOnce(int threads)
    {
        // 1 MiB of 1.0f: 262144 values, a share per thread that 3 does not divide; the sum is exact in f32.
        using var probe = new ReadBandwidth(1 << 20);
        Assert.Equal(262144f, probe.Read(threads));
        Assert.True(probe.Measure(threads) > 0);
        using var pool = new Basalt.Tensors.Threading.WorkerPool(threads);
        Assert.Equal(262144f, probe.Read(pool));
        Assert.True(probe.Measure(pool) > 0);
    }

    [Fact]
    public void BadSizesAndUseAfterDisposeAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReadBandwidth(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReadBandwidth(4097));
        var probe = new ReadBandwidth(4096);
        Assert.Throws<ArgumentOutOfRangeException>(() => probe.Measure(0));
        probe.Dispose();
        probe.Dispose();
        Assert.Throws<ObjectDisposedException>(() => probe.Read(1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(4096)]
    [InlineData(3 * 4096 + 132)] // pages, then lines, then words past the last whole pair of vectors
    public unsafe void ReadRangeAddsEveryWordOnce(int bytes)
    {
        var words = new int[bytes / 4 + 16]; // past the range: must not be read into the sum
        long expected = 0;
        for (int i = 0; i < words.Length; i++) words[i] = i < bytes / 4 ? i * 7919 : 1 << 30;
        for (int i = 0; i < bytes / 4; i++) expected += words[i];
        fixed (int* w = words) Assert.Equal(unchecked((int)expected), ReadBandwidth.ReadRange((byte*)w, bytes));
    }
}
