using System.Text;
using OllamaSharp;
using OllamaSharp.Models;
using OllamaSharp.Models.Chat;

namespace Basalt.Server.Tests.Ollama;

/// <summary>The Ollama-compatible /api through OllamaSharp.</summary>
public sealed class OllamaSharpTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private OllamaApiClient Client() => new(fixture.Server.CreateClient(), TestServer.Stories);

    [Fact]
    public async Task ChatStreams()
    {
        using var client = Client();
        var request = new ChatRequest
        {
            Model = TestServer.Stories,
            Messages = [new Message(ChatRole.User, "Once upon a time")],
            Options = new RequestOptions { Temperature = 0, NumPredict = 20 },
        };
        var text = new StringBuilder();
        int chunks = 0;
        ChatDoneResponseStream? done = null;
        await foreach (var chunk in client.ChatAsync(request, Ct))
        {
            chunks++;
            text.Append(chunk?.Message.Content);
            if (chunk is ChatDoneResponseStream d) done = d;
        }
        Assert.True(chunks > 5);
        Assert.Equal(Reference.Greedy(Reference.ChatPrompt("Once upon a time"), 20).Text, text.ToString());
        Assert.NotNull(done);
        Assert.Equal(20, done.EvalCount);
        Assert.Equal("length", done.DoneReason);
        Assert.True(done.PromptEvalCount > 0);
        Assert.True(done.TotalDuration > 0);
    }

    [Fact]
    public async Task GenerateIsARawCompletion()
    {
        using var client = Client();
        var text = new StringBuilder();
        GenerateDoneResponseStream? done = null;
        await foreach (var chunk in client.GenerateAsync(new GenerateRequest
        {
            Model = TestServer.Stories,
            Prompt = "Once upon a time",
            Options = new RequestOptions { Temperature = 0, NumPredict = 30, Stop = ["Lily"] },
        }, Ct))
        {
            text.Append(chunk?.Response);
            if (chunk is GenerateDoneResponseStream d) done = d;
        }
        Assert.Equal(", there was a little girl named ", text.ToString());
        Assert.Equal("stop", done?.DoneReason);
    }

    [Fact]
    public async Task TagsShowAndVersion()
    {
        using var client = Client();
        var models = (await client.ListLocalModelsAsync(Ct)).ToList();
        Assert.Contains(models, m => m.Name == TestServer.Stories && m.Size > 0 && m.Details.Family == "llama");
        Assert.Contains(models, m => m.Name == TestServer.Phi3);

        var show = await client.ShowModelAsync(TestServer.Phi3, Ct);
        Assert.Equal("phi3", show.Details.Family);
        Assert.False(string.IsNullOrEmpty(show.Template));

        var version = await client.GetVersionAsync(Ct);
        Assert.NotNull(version);
    }
}
