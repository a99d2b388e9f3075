using System.Text.Json;

namespace Basalt.Cli.Tests;

public sealed class GenerateCommandTests
{
    private static string Stories => SharedData.Path("models", "stories260K.gguf");

    [Fact]
    public void JsonFollowsTheContractAndGreedyMatchesLlamaCpp()
    {
        var (exit, stdout, stderr) = CliRunner.Run("generate", "-m", Stories, "-p", "Once upon a time", "-n", "16", "--temperature", "0", "--logprobs", "3", "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal([1, 403, 407, 261, 378], root.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([432, 383, 286, 261, 376, 298, 315, 421], root.GetProperty("tokens").EnumerateArray().Take(8).Select(e => e.GetInt32()));
        Assert.StartsWith(", there was a little girl named Lily", root.GetProperty("text").GetString());
        Assert.Equal("length", root.GetProperty("finish_reason").GetString());
        var timings = root.GetProperty("timings");
        foreach (var field in new[] { "prompt_ms", "gen_ms", "prompt_tok_s", "gen_tok_s" }) Assert.True(timings.GetProperty(field).GetDouble() > 0, field);
        var logprobs = root.GetProperty("logprobs");
        Assert.Equal(16, logprobs.GetArrayLength());
        var first = logprobs[0].EnumerateArray().ToList();
        Assert.Equal(3, first.Count);
        Assert.Equal(432, first[0].GetProperty("id").GetInt32());
        Assert.True(first[0].GetProperty("logprob").GetDouble() >= first[1].GetProperty("logprob").GetDouble());
    }

    [Fact]
    public void StopSequenceEndsWithStop()
    {
        var (exit, stdout, _) = CliRunner.Run("generate", "-m", Stories, "-p", "Once upon a time", "-n", "64", "--temperature", "0", "--stop", "Lily", "--json");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("stop", doc.RootElement.GetProperty("finish_reason").GetString());
        Assert.Equal(", there was a little girl named ", doc.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void PromptLongerThanTheContextIsAClearError()
    {
        var (exit, stdout, stderr) = CliRunner.Run("generate", "-m", Stories, "-p", string.Concat(Enumerable.Repeat("Once upon a time ", 40)), "-c", "32", "--json");
        Assert.Equal(BasaltCli.UserError, exit);
        Assert.Equal("", stdout);
        Assert.Contains("context holds 32", stderr);
    }

    [Fact]
    public void RunStreamsACompletionForAModelWithoutTemplate()
    {
        var (exit, stdout, stderr) = CliRunner.Run("run", Stories, "Once upon a time", "-n", "12", "--temperature", "0");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily", stdout);
        Assert.Contains("tok/s", stderr);
    }

    [Fact]
    public void ChatReadsTurnsUntilBye()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = BasaltCli.Run(["chat", SharedData.Path("models", "arch", "phi3-tiny-random.gguf"), "-n", "4", "--temperature", "0"],
            new StringReader("Hi\n/clear\nAgain\n/bye\nignored\n"), stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());
        Assert.Equal(2, stderr.ToString().Split('\n').Count(l => l.Contains("tok/s")));
        Assert.Contains("(conversation cleared)", stderr.ToString());
    }

    [Fact]
    public void ChatRunsOnlyEachTurnsNewTokens()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = BasaltCli.Run(["chat", SharedData.Path("models", "arch", "phi3-tiny-random.gguf"), "-n", "4", "--temperature", "0"],
            new StringReader("Hi\nAnd then?\n/bye\n"), stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());
        var turns = stderr.ToString().Split('\n').Where(l => l.Contains("tok/s")).ToArray();
        Assert.Equal(2, turns.Length);
        Assert.DoesNotContain("cached", turns[0]);
        // The second turn's prompt repeats the first turn and its answer: those tokens come from the kept cache.
        var m = System.Text.RegularExpressions.Regex.Match(turns[1], @"\[(\d+) prompt tokens \((\d+) cached\)");
        Assert.True(m.Success, turns[1]);
        Assert.InRange(int.Parse(m.Groups[2].Value), 5, int.Parse(m.Groups[1].Value) - 1);
    }

    [Fact]
    public void BenchJsonHasTheContractFields()
    {
        var (exit, stdout, stderr) = CliRunner.Run("bench", "-m", Stories, "-p", "16", "-n", "8", "-r", "2", "-t", "1", "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("pp_tok_s").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("tg_tok_s").GetDouble() > 0);
        Assert.Equal(1, doc.RootElement.GetProperty("threads").GetInt32());
    }

    [Fact]
    public void BenchAtADepthStartsEachTestAfterThatManyTokens()
    {
        var (exit, stdout, stderr) = CliRunner.Run("bench", "-m", Stories, "-p", "8", "-n", "4", "-d", "200", "-r", "2", "-t", "1", "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(200, doc.RootElement.GetProperty("n_depth").GetInt32());
        Assert.True(doc.RootElement.GetProperty("pp_tok_s").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("tg_tok_s").GetDouble() > 0);

        var (tableExit, table, tableErr) = CliRunner.Run("bench", "-m", Stories, "-p", "0", "-n", "4", "-d", "200", "-r", "1", "-t", "1");
        Assert.True(tableExit == 0, tableErr);
        Assert.Contains("| tg4 @ d200 |", table);

        // The model holds 2048 positions: a depth that leaves no room is refused up front, saying what it needs.
        var (overExit, _, overErr) = CliRunner.Run("bench", "-m", Stories, "-p", "0", "-n", "64", "-d", "2000", "-r", "1", "-t", "1");
        Assert.NotEqual(0, overExit);
        Assert.Contains("context of 2065", overErr);
        var (negativeExit, _, negativeErr) = CliRunner.Run("bench", "-m", Stories, "-n", "4", "-d", "-1");
        Assert.NotEqual(0, negativeExit);
        Assert.Contains("--n-depth", negativeErr);
    }

    [Fact]
    public void BenchBandwidthReportsTheReadBandwidthAroundGenerationAndItsShare()
    {
        var (exit, stdout, stderr) = CliRunner.Run("bench", "-m", Stories, "-p", "0", "-n", "8", "-r", "2", "-t", "1", "--bandwidth", "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        double read = root.GetProperty("read_gb_s").GetDouble(), share = root.GetProperty("tg_read_share").GetDouble();
        Assert.True(read > 0 && root.GetProperty("read_gb_s_stddev").GetDouble() >= 0);
        // The share is a mean of per-run ratios; with two runs it lies within a factor of the bandwidth's spread of the ratio of means.
        double ratio = root.GetProperty("tg_read_gb_s").GetDouble() / read;
        Assert.InRange(share, ratio / 3, ratio * 3);
        // The same against every read of a window as long as each run.
        double sustained = root.GetProperty("read_gb_s_sustained").GetDouble(), sustainedShare = root.GetProperty("tg_read_share_sustained").GetDouble();
        Assert.True(sustained > 0 && root.GetProperty("read_gb_s_sustained_stddev").GetDouble() >= 0);
        double sustainedRatio = root.GetProperty("tg_read_gb_s").GetDouble() / sustained;
        Assert.InRange(sustainedShare, sustainedRatio / 3, sustainedRatio * 3);

        var (plainExit, plain, plainErr) = CliRunner.Run("bench", "-m", Stories, "-p", "0", "-n", "4", "-r", "1", "-t", "1", "--json");
        Assert.True(plainExit == 0, plainErr);
        using var plainDoc = JsonDocument.Parse(plain);
        Assert.False(plainDoc.RootElement.TryGetProperty("read_gb_s", out _));
        Assert.False(plainDoc.RootElement.TryGetProperty("tg_read_share", out _));
        Assert.False(plainDoc.RootElement.TryGetProperty("tg_read_share_sustained", out _));
    }

    [Fact]
    public void PerplexityJsonHasTheContractFields()
    {
        string text = string.Concat(Enumerable.Repeat("Once upon a time, there was a little girl named Lily. She loved to play outside. ", 12));
        string path = Path.GetTempFileName();
        File.WriteAllText(path, text);
        try
        {
            var (exit, stdout, stderr) = CliRunner.Run("perplexity", "-m", Stories, "-f", path, "-c", "64", "--json");
            Assert.True(exit == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            Assert.InRange(doc.RootElement.GetProperty("perplexity").GetDouble(), 1.0, 50.0);
            Assert.True(doc.RootElement.GetProperty("chunks").GetInt32() >= 2);
            Assert.True(doc.RootElement.GetProperty("tokens").GetInt32() >= 128);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public sealed class RunDefaultModelTests
{
    [Fact]
    public void RunWithoutModelUsesTheFirstModelInTheDataDirectoryOrSaysWhereItLooked()
    {
        string home = Path.Combine(Path.GetTempPath(), $"basalt-home-{Guid.NewGuid():N}");
        string? before = Environment.GetEnvironmentVariable("BASALT_HOME");
        try
        {
            Environment.SetEnvironmentVariable("BASALT_HOME", home);
            var stderr = new StringWriter();
            int exit = BasaltCli.Run(["run"], new StringReader(""), new StringWriter(), stderr);
            Assert.Equal(BasaltCli.UserError, exit);
            Assert.Contains(Path.Combine(home, "models"), stderr.ToString());

            Directory.CreateDirectory(Path.Combine(home, "models"));
            File.Copy(SharedData.Path("models", "stories260K.gguf"), Path.Combine(home, "models", "stories260K.gguf"));
            var (named, stdout, err) = CliRunner.Run("run", "stories260K", "Once upon a time", "-n", "8", "--temperature", "0");
            Assert.True(named == 0, err);
            Assert.StartsWith("Once upon a time, there was a little girl", stdout);
        }
        finally
        {
            Environment.SetEnvironmentVariable("BASALT_HOME", before);
            if (Directory.Exists(home)) Directory.Delete(home, recursive: true);
        }
    }
}
