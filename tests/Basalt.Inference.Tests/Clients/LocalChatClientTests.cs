using Basalt.Inference.Clients;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;
using Microsoft.Extensions.AI;

namespace Basalt.Inference.Tests.Clients;

public sealed class LocalChatClientTests : IDisposable
{
    private readonly TransformerModel _model = TransformerModel.Load(SharedData.Path("models", "arch", "phi3-tiny-random.gguf"));

    public void Dispose() => _model.Dispose();

    private LocalChatClient Client() => new(_model, new LocalChatClientOptions { ContextLength = 256, Threads = 2, DefaultSampling = new SamplerOptions { Temperature = 0 } });

    [Fact]
    public void RendersWithTheModelsTemplate()
    {
        using var client = Client();
        string prompt = client.RenderPrompt([new ChatMessage(ChatRole.User, "Hi")], "Be brief.");
        Assert.Equal("<|user|>\nBe brief.\nHi<|end|>\n<|assistant|>\n", prompt);
    }

    [Fact]
    public async Task ResponseEqualsTheConcatenatedStreamAndReportsUsage()
    {
        using var client = Client();
        var options = new ChatOptions { MaxOutputTokens = 12 };
        List<ChatMessage> messages = [new(ChatRole.User, "Hello")];
        var response = await client.GetResponseAsync(messages, options, TestContext.Current.CancellationToken);
        var streamed = new System.Text.StringBuilder();
        await foreach (var u in client.GetStreamingResponseAsync(messages, options, TestContext.Current.CancellationToken)) streamed.Append(u.Text);
        Assert.Equal(streamed.ToString(), response.Text);
        Assert.NotEmpty(response.Text);
        Assert.Equal(12, response.Usage?.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        // <s> + "<|user|>\nHello<|end|>\n<|assistant|>\n" as the model's vocabulary splits it
        Assert.True(response.Usage?.InputTokenCount > 5);
    }

    [Fact]
    public async Task SeedMakesSamplingRepeatable()
    {
        using var client = Client();
        List<ChatMessage> messages = [new(ChatRole.User, "Tell me a story")];
        var a = await client.GetResponseAsync(messages, new ChatOptions { Temperature = 1f, Seed = 7, MaxOutputTokens = 16 }, TestContext.Current.CancellationToken);
        var b = await client.GetResponseAsync(messages, new ChatOptions { Temperature = 1f, Seed = 7, MaxOutputTokens = 16 }, TestContext.Current.CancellationToken);
        var c = await client.GetResponseAsync(messages, new ChatOptions { Temperature = 1f, Seed = 8, MaxOutputTokens = 16 }, TestContext.Current.CancellationToken);
        Assert.Equal(a.Text, b.Text);
        Assert.NotEqual(a.Text, c.Text);
    }

    [Fact]
    public async Task StopSequencesEndTheAnswerBeforeTheStopText()
    {
        using var client = Client();
        List<ChatMessage> messages = [new(ChatRole.User, "Hello")];
        var full = await client.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 12 }, TestContext.Current.CancellationToken);
        string stop = full.Text.Substring(full.Text.Length / 2, 2);
        var cut = await client.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 12, StopSequences = [stop] }, TestContext.Current.CancellationToken);
        Assert.Equal(full.Text[..full.Text.IndexOf(stop, StringComparison.Ordinal)], cut.Text);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
    }

    [Fact]
    public void DescribesItself()
    {
        using var client = Client();
        var meta = client.GetService<ChatClientMetadata>();
        Assert.Equal("basalt", meta?.ProviderName);
        Assert.Equal("phi3-tiny-random", meta?.DefaultModelId);
    }

    [Fact]
    public async Task NextTurnRunsOnlyItsNewTokensAndAnswersAsAFreshClient()
    {
        using var client = Client();
        var options = new ChatOptions { MaxOutputTokens = 8 };
        var ct = TestContext.Current.CancellationToken;
        List<ChatMessage> messages = [new(ChatRole.User, "Hello")];
        var first = await client.GetResponseAsync(messages, options, ct);
        Assert.Equal(0, first.Usage?.CachedInputTokenCount);

        messages.AddRange(first.Messages);
        messages.Add(new ChatMessage(ChatRole.User, "And then?"));
        var second = await client.GetResponseAsync(messages, options, ct);
        using var fresh = Client();
        var expected = await fresh.GetResponseAsync(messages, options, ct);
        Assert.Equal(expected.Text, second.Text);
        Assert.Equal(expected.Usage?.InputTokenCount, second.Usage?.InputTokenCount);
        Assert.Equal(0, expected.Usage?.CachedInputTokenCount);
        // At least the first prompt's tokens came from the cache, and the new turn's went through the model.
        Assert.InRange(second.Usage?.CachedInputTokenCount ?? 0, first.Usage!.InputTokenCount!.Value - 1, second.Usage!.InputTokenCount!.Value - 1);
    }

    [Fact]
    public async Task AStreamLeftEarlyLeavesTheClientReadyForTheNext()
    {
        using var client = Client();
        var ct = TestContext.Current.CancellationToken;
        await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Tell me a story")], new ChatOptions { MaxOutputTokens = 200 }, ct))
            break;
        List<ChatMessage> messages = [new(ChatRole.User, "Hello")];
        var options = new ChatOptions { MaxOutputTokens = 12 };
        var after = await client.GetResponseAsync(messages, options, ct);
        using var fresh = Client();
        Assert.Equal((await fresh.GetResponseAsync(messages, options, ct)).Text, after.Text);
        Assert.Equal(12, after.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task WithoutReuseEveryRequestStartsFromAnEmptyCache()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = new LocalChatClient(_model, new LocalChatClientOptions
        {
            ContextLength = 256, Threads = 2, DefaultSampling = new SamplerOptions { Temperature = 0 }, ReuseCachedPrefix = false,
        });
        var options = new ChatOptions { MaxOutputTokens = 8 };
        List<ChatMessage> messages = [new(ChatRole.User, "Hello")];
        var first = await client.GetResponseAsync(messages, options, ct);
        messages.AddRange(first.Messages);
        messages.Add(new ChatMessage(ChatRole.User, "And then?"));
        var second = await client.GetResponseAsync(messages, options, ct);
        using var fresh = Client();
        Assert.Equal((await fresh.GetResponseAsync(messages, options, ct)).Text, second.Text);
        Assert.Equal(0, second.Usage?.CachedInputTokenCount);
    }
}
