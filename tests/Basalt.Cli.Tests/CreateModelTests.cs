using System.Text.Json;
using Basalt.Gguf;
using Basalt.Inference.Model;
using Basalt.Inference.Quantization;
using Basalt.Inference.Synthesis;
using Basalt.Tensors;

namespace Basalt.Cli.Tests;

/// <summary>Random-weight models of a named shape: metadata, tensor types, determinism, and that they load and run.</summary>
public sealed class CreateModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("basalt-create-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // stories260K's 512-token vocabulary keeps the embedding tables small.
    private static readonly ModelShape Tiny = new("tiny-test", EmbeddingLength: 256, LayerCount: 2, HeadCount: 8, HeadCountKv: 2,
        FeedForwardLength: 512, VocabularySize: 512, ContextLength: 256, RopeFreqBase: 10000f, RmsNormEpsilon: 1e-5f,
        TiedEmbeddings: false, VocabularyFile: "unused");

    private static string StoriesVocab => SharedData.Path("models", "stories260K.gguf");

    [Theory]
    [InlineData("F16")]
    [InlineData("Q4_K_M")]
    [InlineData("Q8_0")]
    public void CustomShape_LoadsAndGenerates(string type)
    {
        string path = Path.Combine(_dir, $"tiny.{type}.gguf");
        var plan = RandomModelWriter.Write(Tiny, QuantizationPreset.Parse(type), path, StoriesVocab, seed: 3);
        Assert.Equal(3 + 9 * Tiny.LayerCount, plan.Count);
        using (var model = TransformerModel.Load(path))
        {
            Assert.Equal(256, model.Config.EmbeddingLength);
            Assert.Equal(2, model.Config.HeadCountKv);
            Assert.Equal(512, model.Tokenizer.Vocabulary.Tokens.Length);
            Assert.Equal(plan.Select(t => (t.Name, t.TargetType)), model.File.Tensors.Select(t => (t.Name, t.Type)));
            var embd = model.File.FindTensor("token_embd.weight")!;
            var values = new float[embd.ElementCount];
            Basalt.Tensors.Quants.ReferenceKernels.Dequantize(embd.Type, model.File.GetTensorData(embd), values);
            double rms = Math.Sqrt(values.Sum(v => (double)v * v) / values.Length);
            Assert.InRange(rms, 0.018, 0.022);
        }
        var (exit, stdout, stderr) = CliRunner.Run("generate", "-m", path, "-p", "Once upon a time", "-n", "4", "--temperature", "0", "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(4, doc.RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void SameSeed_SameBytes_OtherSeed_OtherWeights()
    {
        string a = Path.Combine(_dir, "a.gguf"), b = Path.Combine(_dir, "b.gguf"), c = Path.Combine(_dir, "c.gguf");
        var q = QuantizationPreset.Parse("Q4_0");
        RandomModelWriter.Write(Tiny, q, a, StoriesVocab, seed: 1);
        RandomModelWriter.Write(Tiny, q, b, StoriesVocab, seed: 1);
        RandomModelWriter.Write(Tiny, q, c, StoriesVocab, seed: 2);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
    }

    [Fact]
    public void KQuantMix_FollowsLlamaCppsPolicy()
    {
        // Eight layers: use_more_bits picks layers 0, 3, 6 and 7 for attn_v and ffn_down in Q4_K_M.
        var plan = RandomModelWriter.PlanTensors(Tiny with { LayerCount = 8 }, QuantizationPreset.Parse("Q4_K_M"))
            .ToDictionary(t => t.Name, t => t.TargetType);
        Assert.Equal(GgmlType.Q6_K, plan["output.weight"]);
        Assert.Equal(GgmlType.Q4_K, plan["token_embd.weight"]);
        Assert.Equal(GgmlType.F32, plan["blk.0.attn_norm.weight"]);
        int[] bumped = [0, 3, 6, 7];
        for (int l = 0; l < 8; l++)
        {
            var expected = bumped.Contains(l) ? GgmlType.Q6_K : GgmlType.Q4_K;
            Assert.Equal(expected, plan[$"blk.{l}.attn_v.weight"]);
            Assert.Equal(expected, plan[$"blk.{l}.ffn_down.weight"]);
            Assert.Equal(GgmlType.Q4_K, plan[$"blk.{l}.attn_q.weight"]);
        }
    }

    [Fact]
    public void SmolLMShape_FallsBackWhereRowsDoNotFitTheKQuantBlock()
    {
        // 576-wide rows are not whole 256-element super-blocks: Q4_K becomes Q5_0 and the tied output Q8_0, as in
        // llama-quantize's output for the same shape.
        var plan = RandomModelWriter.PlanTensors(ModelShapes.SmolLM135M, QuantizationPreset.Parse("Q4_K_M")).ToDictionary(t => t.Name, t => t.TargetType);
        Assert.False(plan.ContainsKey("output.weight"));
        Assert.Equal(GgmlType.Q8_0, plan["token_embd.weight"]);
        Assert.Equal(GgmlType.Q5_0, plan["blk.1.attn_q.weight"]);
        Assert.Equal(GgmlType.Q8_0, plan["blk.0.attn_v.weight"]);
        Assert.Equal(GgmlType.Q6_K, plan["blk.0.ffn_down.weight"]);
        Assert.Equal(GgmlType.Q6_K, plan["blk.2.ffn_down.weight"]);
        Assert.Equal(GgmlType.Q4_K, plan["blk.4.ffn_down.weight"]);
    }

    public static TheoryData<string> ShapeNames => new(ModelShapes.All.Select(s => s.Name));

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public void NamedShapes_WriteTheirHyperparametersAndVocabulary(string name)
    {
        var shape = ModelShapes.Find(name)!;
        string vocabPath = SharedData.Path(shape.VocabularyFile);
        string path = Path.Combine(_dir, "meta.gguf");
        using (var vocab = GgufFile.Open(vocabPath))
        {
            RandomModelWriter.CreateMetadata(shape, QuantizationPreset.Parse("Q4_K_M"), vocab).WriteTo(path);
        }
        using var file = GgufFile.Open(path);
        using var source = GgufFile.Open(vocabPath);
        var m = file.Metadata;
        Assert.Equal("llama", m.GetString("general.architecture"));
        Assert.Equal(shape.Name, m.GetString("general.name"));
        Assert.Equal(15u, m.Get("general.file_type").Value);
        Assert.Equal((uint)shape.EmbeddingLength, m.Get("llama.embedding_length").Value);
        Assert.Equal((uint)shape.LayerCount, m.Get("llama.block_count").Value);
        Assert.Equal((uint)shape.HeadCount, m.Get("llama.attention.head_count").Value);
        Assert.Equal((uint)shape.HeadCountKv, m.Get("llama.attention.head_count_kv").Value);
        Assert.Equal((uint)shape.FeedForwardLength, m.Get("llama.feed_forward_length").Value);
        Assert.Equal((uint)shape.ContextLength, m.Get("llama.context_length").Value);
        Assert.Equal((uint)shape.HeadDimension, m.Get("llama.rope.dimension_count").Value);
        Assert.Equal(10000f, m.Get("llama.rope.freq_base").Value);
        Assert.Equal(1e-5f, m.Get("llama.attention.layer_norm_rms_epsilon").Value);
        Assert.Equal(shape.VocabularySize, m.GetArray("tokenizer.ggml.tokens")!.Count);
        var copied = source.Metadata.Entries.Where(e => e.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(copied);
        foreach (var (key, value) in copied) Assert.Equal(value.Type, m.Get(key).Type);
    }

    [Fact]
    public void NamedShapes_HaveTheRealModelsSizes()
    {
        Assert.Equal(1_100_048_384, ModelShapes.TinyLlama1_1B.ParameterCount);
        Assert.Equal(134_515_008, ModelShapes.SmolLM135M.ParameterCount);
    }

    [Fact]
    public void Cli_RejectsUnknownShapesAndTypes()
    {
        var (exit, _, stderr) = CliRunner.Run("create-model", "--shape", "gpt-5", "--type", "Q4_0", Path.Combine(_dir, "x.gguf"));
        Assert.Equal(BasaltCli.UserError, exit);
        Assert.Contains("unknown shape", stderr);
        (exit, _, stderr) = CliRunner.Run("create-model", "--shape", "smollm-135m", "--type", "Q9", Path.Combine(_dir, "x.gguf"));
        Assert.Equal(BasaltCli.UserError, exit);
        Assert.Contains("unknown type", stderr);
    }
}
