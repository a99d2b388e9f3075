using Basalt.Inference.Model;

namespace Basalt.Inference.Tests.Model;

public sealed class KvCacheTests
{
    // The cache keeps each KV head's positions in one run; every read, whatever its offset and width, and a copy into
    // a cache of another capacity must still give back what was stored, element for element.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadsAndCopiesGiveBackWhatWasStored(bool f16)
    {
        using var model = TransformerModel.Load(SharedData.Path("models", "quant", "tiny-random-256.F16.gguf"));
        var c = model.Config;
        Assert.True(c.HeadCountKv > 1, "the test needs several KV heads");
        var random = new Random(f16 ? 11 : 12);
        int positions = 9, kv = c.KvDim, hd = c.HeadDim;
        var keys = new float[c.BlockCount, positions, kv];
        var values = new float[c.BlockCount, positions, kv];
        var cache = new KvCache(c, 16, f16);
        for (int l = 0; l < c.BlockCount; l++)
            for (int p = 0; p < positions; p++)
            {
                var k = new float[kv];
                var v = new float[kv];
                for (int e = 0; e < kv; e++)
                {
                    // Values an f16 holds exactly, so both cache types give them back unchanged.
                    k[e] = keys[l, p, e] = (float)(Half)(float)(random.NextDouble() * 4 - 2);
                    v[e] = values[l, p, e] = (float)(Half)(float)(random.NextDouble() * 4 - 2);
                }
                cache.Store(l, p, k, v);
            }
        cache.Length = positions;
        var copy = new KvCache(c, 12, f16);
        copy.CopyFrom(cache, 7);
        Assert.Equal(7, copy.Length);
        foreach (var source in new[] { cache, copy })
        {
            int count = source == cache ? positions : 7;
            for (int l = 0; l < c.BlockCount; l++)
            {
                // A whole head, part of a head, and a run across the boundary between two heads.
                foreach (var (offset, width) in new[] { (hd, hd), (1, hd / 2), (hd - 3, 7), (0, kv) })
                {
                    var k = new float[count * width];
                    var v = new float[count * width];
                    source.ReadKeys(l, 0, count, offset, width, k);
                    source.ReadValues(l, 0, count, offset, width, v);
                    for (int p = 0; p < count; p++)
                        for (int e = 0; e < width; e++)
                        {
                            Assert.Equal(keys[l, p, offset + e], k[p * width + e]);
                            Assert.Equal(values[l, p, offset + e], v[p * width + e]);
                        }
                    var one = new float[width];
                    source.ReadKey(l, count - 1, offset, one);
                    for (int e = 0; e < width; e++) Assert.Equal(keys[l, count - 1, offset + e], one[e]);
                }
            }
        }
    }
}
