using Basalt.Inference.Model;

namespace Basalt.Inference.Tests.Model;

public sealed class TransformerModelTests
{
    [Theory]
    [InlineData("stories260K.gguf", false)]
    [InlineData("arch/phi3-tiny-random.gguf", false)]
    [InlineData("arch/gemma-tiny-random.gguf", true)]
    [InlineData("arch/llama-bpe-tiny-random.gguf", true)]
    public void DecodeWeightBytesCountsOneEmbeddingRowUnlessTheOutputIsTheEmbedding(string file, bool tied)
    {
        using var model = TransformerModel.Load(SharedData.Path(["models", .. file.Split('/')]));
        var embedding = model.File.FindTensor("token_embd.weight")!;
        Assert.Equal(tied, model.File.FindTensor("output.weight") is null);
        // The matrices the products read (the output once, even when it is the embedding), then the norms and
        // biases, then the one embedding row a token looks up unless the output already read the whole embedding.
        long matrices = model.Weights.Matrices().Sum(w => (long)w.RowBytes * w.Rows);
        long small = model.File.Tensors.Where(t => t.Dimensions.Length == 1).Sum(t => t.ByteSize);
        long row = tied ? 0 : embedding.ByteSize / model.Config.VocabSize;
        Assert.Equal(matrices + small + row, model.DecodeWeightBytes);
    }
}
