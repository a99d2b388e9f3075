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
}
