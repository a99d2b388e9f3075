using System.Text.Json;

namespace Basalt.Cli.Tests;

public sealed class InspectCommandTests
{
    [Fact]
    public void JsonDescribesArchitectureHyperparametersVocabularyAndTensors()
    {
        var (exit, stdout, stderr) = CliRunner.Run("inspect", SharedData.Path("models", "stories260K.gguf"), "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("llama", root.GetProperty("architecture").GetString());
        Assert.Equal(3u, root.GetProperty("version").GetUInt32());
        Assert.Equal(64, root.GetProperty("hyperparameters").GetProperty("embedding_length").GetInt32());
        Assert.Equal(5, root.GetProperty("hyperparameters").GetProperty("block_count").GetInt32());
        Assert.Equal(512, root.GetProperty("vocabulary").GetProperty("size").GetInt32());
        Assert.Equal(1, root.GetProperty("vocabulary").GetProperty("bos_token_id").GetInt32());
        var tensors = root.GetProperty("tensors");
        Assert.Equal(48, tensors.GetArrayLength());
        var embd = tensors.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "token_embd.weight");
        Assert.Equal("F32", embd.GetProperty("type").GetString());
        Assert.Equal([64, 512], embd.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(64 * 512 * 4, embd.GetProperty("bytes").GetInt64());
        // Long arrays are summarised, not dumped.
        Assert.Equal(512, root.GetProperty("metadata").GetProperty("tokenizer.ggml.tokens").GetProperty("count").GetInt32());
    }

    [Fact]
    public void TextListsTensorTypes()
    {
        var (exit, stdout, _) = CliRunner.Run("inspect", SharedData.Path("models", "quant", "tiny-random-256.Q4_K_M.gguf"));
        Assert.Equal(0, exit);
        Assert.Contains("architecture  llama", stdout);
        Assert.Contains("Q4_K", stdout);
        Assert.Contains("blk.0.attn_q.weight", stdout);
    }

    [Fact]
    public void MissingFileIsAClearErrorOnStderr()
    {
        var (exit, stdout, stderr) = CliRunner.Run("inspect", "/nonexistent/model.gguf");
        Assert.NotEqual(0, exit);
        Assert.Equal("", stdout);
        Assert.Contains("not found", stderr);
        Assert.Contains("/nonexistent/model.gguf", stderr);
    }

    [Fact]
    public void CorruptFileNamesTheFileAndOffset()
    {
        string path = Path.Combine(Path.GetTempPath(), $"basalt-corrupt-{Guid.NewGuid():N}.gguf");
        var bytes = File.ReadAllBytes(SharedData.Path("models", "stories260K.gguf"))[..100];
        File.WriteAllBytes(path, bytes);
        try
        {
            var (exit, _, stderr) = CliRunner.Run("inspect", path);
            Assert.Equal(BasaltCli.UserError, exit);
            Assert.Contains(path, stderr);
            Assert.Contains("at byte", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
