using System.Text.Json;

namespace Basalt.Cli.Tests;

public sealed class TokenizeCommandTests
{
    private static string Model => SharedData.Path("testdata", "tokenizers", "ggml-vocab-llama-spm.gguf");

    private static (int[] Ids, string[] Pieces) RunJson(params string[] extra)
    {
        var (exit, stdout, stderr) = CliRunner.Run(["tokenize", "-m", Model, "--json", .. extra]);
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var pieces = doc.RootElement.GetProperty("pieces").EnumerateArray().Select(e => e.GetString()!).ToArray();
        return (ids, pieces);
    }

    [Fact]
    public void AddsBosAndParsesSpecialTokensByDefault()
    {
        var (ids, pieces) = RunJson("--text", "Hello world</s>");
        Assert.Equal([1, 15043, 3186, 2], ids);
        Assert.Equal(["<s>", " Hello", " world", "</s>"], pieces);
    }

    [Fact]
    public void NoBosAndNoParseSpecialMatchTheTestVectorMode()
    {
        var (ids, _) = RunJson("--text", "Hello world</s>", "--no-bos", "--no-parse-special");
        Assert.NotEqual(1, ids[0]);
        Assert.DoesNotContain(2, ids);
        Assert.Equal([15043, 3186], ids[..2]);
    }

    [Fact]
    public void ReadsTextFromAFileExactly()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "\tHello\n");
        try
        {
            var (fromFile, _) = RunJson("--file", path, "--no-bos");
            var (fromText, _) = RunJson("--text", "\tHello\n", "--no-bos");
            Assert.Equal(fromText, fromFile);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TextAndFileTogetherIsAUsageError()
    {
        var (exit, _, stderr) = CliRunner.Run("tokenize", "-m", Model, "--text", "a", "--file", "b");
        Assert.Equal(BasaltCli.UserError, exit);
        Assert.Contains("exactly one of --text", stderr);
    }

    [Fact]
    public void MissingModelOptionIsRejected()
    {
        var (exit, _, stderr) = CliRunner.Run("tokenize", "--text", "a");
        Assert.NotEqual(0, exit);
        Assert.Contains("--model", stderr);
    }
}
