using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace Basalt.Server.Tests.OpenAI;

#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK.

/// <summary>/v1/chat/completions through the official OpenAI .NET SDK.</summary>
public sealed class OpenAISdkTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ChatClient Chat(string model = TestServer.Stories, string key = TestServer.ApiKey) =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseAddress, "/v1") });

    private static ChatCompletionOptions Greedy(int maxTokens) => new() { Temperature = 0, MaxOutputTokenCount = maxTokens };

    [Fact]
    public async Task GreedyChatIsTheGeneratorsOutputForTheChatPrompt()
    {
        var result = (await Chat().CompleteChatAsync([new UserChatMessage("Once upon a time")], Greedy(24), Ct)).Value;
        var expected = Reference.Greedy(Reference.ChatPrompt("Once upon a time"), 24);
        Assert.Equal(expected.Text, result.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, result.FinishReason);
        Assert.Equal(expected.PromptTokens.Length, result.Usage.InputTokenCount);
        Assert.Equal(24, result.Usage.OutputTokenCount);
        Assert.Equal(TestServer.Stories, result.Model);
    }

    [Fact]
    public async Task StreamingGivesTheSameTextAndUsage()
    {
        var client = Chat();
        var whole = (await client.CompleteChatAsync([new UserChatMessage("The little dog")], Greedy(30), Ct)).Value;
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        int updates = 0;
        await foreach (var u in client.CompleteChatStreamingAsync([new UserChatMessage("The little dog")], Greedy(30), Ct))
        {
            updates++;
            foreach (var part in u.ContentUpdate) text.Append(part.Text);
            finish ??= u.FinishReason;
            usage ??= u.Usage;
        }
        Assert.True(updates > 10, $"expected one update per token, got {updates}");
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
    }

    [Fact]
    public async Task ARepeatedPromptIsServedFromTheCacheWithTheSameAnswer()
    {
        var client = Chat();
        ChatMessage[] question = [new SystemChatMessage("You tell short stories about a cat called Tom."), new UserChatMessage("Tom found a box")];
        var first = (await client.CompleteChatAsync(question, Greedy(16), Ct)).Value;
        var second = (await client.CompleteChatAsync(question, Greedy(16), Ct)).Value;
        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
        Assert.Equal(first.Usage.InputTokenCount, second.Usage.InputTokenCount);
        // All but the last prompt token, which goes through the model for the first answer token's logits.
        Assert.Equal(second.Usage.InputTokenCount - 1, second.Usage.InputTokenDetails.CachedTokenCount);
    }

    [Fact]
    public async Task StopSequenceEndsWithStop()
    {
        var expected = Reference.Greedy(Reference.ChatPrompt("Once upon a time"), 64);
        // Stop on a word from the middle of the greedy answer.
        string stop = expected.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
        var options = Greedy(64);
        options.StopSequences.Add(stop);
        var result = (await Chat().CompleteChatAsync([new UserChatMessage("Once upon a time")], options, Ct)).Value;
        Assert.Equal(ChatFinishReason.Stop, result.FinishReason);
        Assert.Equal(expected.Text[..expected.Text.IndexOf(stop, StringComparison.Ordinal)], result.Content[0].Text);
    }

    [Fact]
    public async Task SameSeedSameText()
    {
        ChatCompletionOptions Seeded(long seed) => new() { Temperature = 1.0f, Seed = seed, MaxOutputTokenCount = 40 };
        var client = Chat();
        var a = (await client.CompleteChatAsync([new UserChatMessage("Tom had")], Seeded(7), Ct)).Value.Content[0].Text;
        var b = (await client.CompleteChatAsync([new UserChatMessage("Tom had")], Seeded(7), Ct)).Value.Content[0].Text;
        var c = (await client.CompleteChatAsync([new UserChatMessage("Tom had")], Seeded(8), Ct)).Value.Content[0].Text;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public async Task LogProbsAreReturned()
    {
        var options = Greedy(5);
        options.IncludeLogProbabilities = true;
        options.TopLogProbabilityCount = 3;
        var result = (await Chat().CompleteChatAsync([new UserChatMessage("Once")], options, Ct)).Value;
        Assert.Equal(5, result.ContentTokenLogProbabilities.Count);
        Assert.All(result.ContentTokenLogProbabilities, t =>
        {
            Assert.Equal(3, t.TopLogProbabilities.Count);
            Assert.Equal(t.TopLogProbabilities[0].Token, t.Token);
            Assert.True(t.LogProbability <= 0);
        });
    }

    [Fact]
    public async Task ModelWithChatTemplateAnswers()
    {
        var result = (await Chat(TestServer.Phi3).CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Hello")], Greedy(8), Ct)).Value;
        Assert.Equal(8, result.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task UnknownModelIs404()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Chat("no-such-model").CompleteChatAsync([new UserChatMessage("hi")], Greedy(4), Ct));
        Assert.Equal(404, e.Status);
        Assert.Contains("model_not_found", e.Message);
    }

    [Fact]
    public async Task BadParameterIs400NamingIt()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() =>
            Chat().CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { Temperature = 5 }, Ct));
        Assert.Equal(400, e.Status);
        Assert.Contains("temperature", e.Message);
    }

    [Fact]
    public async Task WrongKeyIs401()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Chat(key: "wrong").CompleteChatAsync([new UserChatMessage("hi")], Greedy(4), Ct));
        Assert.Equal(401, e.Status);
    }

    [Fact]
    public async Task ModelsAreListed()
    {
        var models = new global::OpenAI.Models.OpenAIModelClient(new ApiKeyCredential(TestServer.ApiKey),
            new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseAddress, "/v1") });
        var list = (await models.GetModelsAsync(Ct)).Value;
        Assert.Equal([TestServer.Phi3, TestServer.Stories], list.Select(m => m.Id).Order(StringComparer.Ordinal));
    }
}
