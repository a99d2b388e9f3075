using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Basalt.Server.Tests.Http;

/// <summary>/v1/completions over raw HTTP (the SDK has no client for it).</summary>
public sealed class CompletionsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonElement> PostAsync(object body)
    {
        using var response = await fixture.Server.Client.PostAsJsonAsync("/v1/completions", body, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    [Fact]
    public async Task GreedyCompletionIsLlamaCppText()
    {
        var json = await PostAsync(new { model = TestServer.Stories, prompt = "Once upon a time", temperature = 0, max_tokens = 64 });
        var choice = json.GetProperty("choices")[0];
        Assert.Equal(", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said",
            choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(64, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + 64, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task StreamEndsWithUsageAndDone()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { model = TestServer.Stories, prompt = "Once upon a time", temperature = 0, max_tokens = 16, stream = true, stream_options = new { include_usage = true } }),
        };
        using var response = await fixture.Server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var (events, done) = await Sse.ReadAllAsync(response, Ct);
        Assert.True(done);
        var text = new StringBuilder();
        string? finish = null;
        foreach (var e in events.Where(e => e.GetProperty("choices").GetArrayLength() > 0))
        {
            var c = e.GetProperty("choices")[0];
            text.Append(c.GetProperty("text").GetString());
            if (c.GetProperty("finish_reason").ValueKind == JsonValueKind.String) finish = c.GetProperty("finish_reason").GetString();
        }
        Assert.Equal(Reference.Greedy("Once upon a time", 16).Text, text.ToString());
        Assert.Equal("length", finish);
        Assert.Equal(16, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task EosFinishesWithStop()
    {
        // A bias that makes </s> (id 2) certain ends generation at once, as an end-of-generation token.
        var json = await PostAsync(new { model = TestServer.Stories, prompt = "Once", temperature = 0, max_tokens = 10, logit_bias = new Dictionary<string, int> { ["2"] = 100 } });
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("", choice.GetProperty("text").GetString());
    }

    [Fact]
    public async Task SeveralChoicesAndStopArray()
    {
        var json = await PostAsync(new { model = TestServer.Stories, prompt = "Once upon a time", temperature = 0, max_tokens = 40, n = 3, stop = new[] { "Lily", "park" } });
        var choices = json.GetProperty("choices");
        Assert.Equal(3, choices.GetArrayLength());
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, choices[i].GetProperty("index").GetInt32());
            Assert.Equal(", there was a little girl named ", choices[i].GetProperty("text").GetString());
            Assert.Equal("stop", choices[i].GetProperty("finish_reason").GetString());
        }
    }

    [Fact]
    public async Task LogProbsListTokens()
    {
        var json = await PostAsync(new { model = TestServer.Stories, prompt = "Once upon a time", temperature = 0, max_tokens = 4, logprobs = 2 });
        var lp = json.GetProperty("choices")[0].GetProperty("logprobs");
        Assert.Equal(4, lp.GetProperty("tokens").GetArrayLength());
        Assert.Equal(4, lp.GetProperty("token_logprobs").GetArrayLength());
        Assert.All(lp.GetProperty("top_logprobs").EnumerateArray(), t => Assert.Equal(2, t.EnumerateObject().Count()));
        Assert.Equal(",", lp.GetProperty("tokens")[0].GetString());
    }
}
