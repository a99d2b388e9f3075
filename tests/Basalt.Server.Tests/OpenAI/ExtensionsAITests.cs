using System.ClientModel;
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Basalt.Server.Tests.OpenAI;

/// <summary>The server behind Microsoft.Extensions.AI's IChatClient over the OpenAI SDK.</summary>
public sealed class ExtensionsAITests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IChatClient Client() =>
        new OpenAIClient(new ApiKeyCredential(TestServer.ApiKey), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseAddress, "/v1") })
            .GetChatClient(TestServer.Stories).AsIChatClient();

    [Fact]
    public async Task ResponseAndStreamAgree()
    {
        using var client = Client();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 20 };
        var response = await client.GetResponseAsync("Once upon a time", options, Ct);
        Assert.Equal(Reference.Greedy(Reference.ChatPrompt("Once upon a time"), 20).Text, response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(20, response.Usage?.OutputTokenCount);

        var streamed = new StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync("Once upon a time", options, Ct))
            streamed.Append(update.Text);
        Assert.Equal(response.Text, streamed.ToString());
    }
}
