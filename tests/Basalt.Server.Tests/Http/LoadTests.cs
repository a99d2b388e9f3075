using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Basalt.Server.Tests.Http;

/// <summary>Many streams at once, cancellations, a full queue and idle unloading, each on its own server.</summary>
public sealed class LoadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpRequestMessage StreamRequest(string prompt, int maxTokens, bool noEos = false) => new(HttpMethod.Post, "/v1/completions")
    {
        Content = JsonContent.Create(new Dictionary<string, object>
        {
            ["model"] = TestServer.Stories,
            ["prompt"] = prompt,
            ["temperature"] = 0,
            ["max_tokens"] = maxTokens,
            ["stream"] = true,
            ["logit_bias"] = noEos ? new Dictionary<string, int> { ["2"] = -100 } : new Dictionary<string, int>(),
        }),
    };

    private static async Task<string> StreamTextAsync(HttpClient client, string prompt, int maxTokens)
    {
        using var response = await client.SendAsync(StreamRequest(prompt, maxTokens), HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (events, done) = await Sse.ReadAllAsync(response, Ct);
        Assert.True(done);
        var text = new StringBuilder();
        foreach (var e in events) text.Append(e.GetProperty("choices")[0].GetProperty("text").GetString());
        return text.ToString();
    }

    /// <summary>Starts a long stream, reads its first event, then hangs up.</summary>
    private static async Task AbandonAsync(HttpClient client)
    {
        using var hangUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var response = await client.SendAsync(StreamRequest("Once upon a time", 2000, noEos: true), HttpCompletionOption.ResponseHeadersRead, hangUp.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(hangUp.Token));
        for (int events = 0; events < 1;)
            if ((await reader.ReadLineAsync(hangUp.Token))?.StartsWith("data:", StringComparison.Ordinal) == true) events++;
        hangUp.Cancel();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        for (int i = 0; i < 200; i++)
        {
            if (await condition()) return;
            await Task.Delay(50, Ct);
        }
        Assert.Fail($"Timed out waiting for {what}.");
    }

    [Fact]
    public async Task ConcurrentStreamsWithCancellationsAllFinishAndFreeTheirSequences()
    {
        await using var server = await TestServer.StartAsync();
        string[] prompts = ["Once upon a time", "The little dog", "Tom had a red ball", "One day", "The sun was", "Lily and Ben", "A big bird", "Mom said"];
        var expected = prompts.Select(p => Reference.Greedy(p, 24).Text).ToArray();
        var completed = new List<Task<string>>();
        var abandoned = new List<Task>();
        for (int i = 0; i < 16; i++)
        {
            // Every fourth client hangs up midway; the others must not notice.
            if (i % 4 == 3) abandoned.Add(AbandonAsync(server.CreateClient(drainOnDispose: false)));
            else completed.Add(StreamTextAsync(server.Client, prompts[i % prompts.Length], 24));
        }
        await Task.WhenAll(abandoned);
        var texts = await Task.WhenAll(completed);
        for (int i = 0, c = 0; i < 16; i++)
            if (i % 4 != 3) Assert.Equal(expected[i % prompts.Length], texts[c++]);

        await WaitForAsync(async () => await server.MetricAsync("basalt_active_sequences") == 0 && await server.MetricAsync("basalt_queue_depth") == 0,
            "every sequence to be freed");
        // The hung-up streams were cancelled, not run to their 2000-token limit.
        double cancelled = await server.MetricAsync("basalt_engine_requests_total", "{outcome=\"cancelled\"}");
        Assert.True(cancelled == 4, $"cancelled {cancelled}, failed {await server.MetricAsync("basalt_engine_requests_total", "{outcome=\"failed\"}")}, completed {await server.MetricAsync("basalt_engine_requests_total", "{outcome=\"completed\"}")}");
        Assert.Equal(12, await server.MetricAsync("basalt_engine_requests_total", "{outcome=\"completed\"}"));
        Assert.True(await server.MetricAsync("basalt_requests_total", "{endpoint=\"/v1/completions\",status=\"200\"}") >= 12);
        Assert.True(await server.MetricAsync("basalt_time_to_first_token_seconds_count") >= 12);
    }

    [Fact]
    public async Task ClientsWithDifferentKeysDoNotShareCachedPrompts()
    {
        await using var server = await TestServer.StartAsync(o => o with { ApiKeys = [TestServer.ApiKey, "second-key"] });
        using var other = server.CreateClient("second-key");
        async Task<(string Text, int Prompt, int Cached)> CompleteAsync(HttpClient client)
        {
            using var response = await client.PostAsJsonAsync("/v1/completions",
                new { model = TestServer.Stories, prompt = "Tom and his dog ran to the park", temperature = 0, max_tokens = 8 }, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            var usage = json.GetProperty("usage");
            return (json.GetProperty("choices")[0].GetProperty("text").GetString()!, usage.GetProperty("prompt_tokens").GetInt32(),
                usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        }
        var first = await CompleteAsync(server.Client);
        var otherKey = await CompleteAsync(other);
        var sameKey = await CompleteAsync(server.Client);
        Assert.Equal(0, first.Cached);
        Assert.Equal(0, otherKey.Cached); // the first key's cached prompt is not the second's to reuse, or to detect
        Assert.Equal(sameKey.Prompt - 1, sameKey.Cached);
        Assert.Equal(first.Text, otherKey.Text);
        Assert.Equal(first.Text, sameKey.Text);
    }

    [Fact]
    public async Task FullQueueIs429WithRetryAfter()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxActiveSequences = 1, QueueCapacity = 1 });
        var statuses = new List<HttpStatusCode>();
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            server.Client.PostAsJsonAsync("/v1/completions", new Dictionary<string, object>
            {
                ["model"] = TestServer.Stories, ["prompt"] = "Once", ["temperature"] = 0, ["max_tokens"] = 300,
                ["logit_bias"] = new Dictionary<string, int> { ["2"] = -100 },
            }, Ct)));
        try
        {
            var busy = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.NotEmpty(busy);
            Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
            Assert.NotNull(busy[0].Headers.RetryAfter);
            var error = (await busy[0].Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("error");
            Assert.Equal("server_busy", error.GetProperty("code").GetString());
        }
        finally
        {
            foreach (var r in responses) r.Dispose();
        }
    }

    [Fact]
    public async Task IdleModelIsUnloadedAndReloadedOnUse()
    {
        await using var server = await TestServer.StartAsync(o => o with { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(", there", await StreamTextAsync(server.Client, "Once upon a time", 2));
        Assert.True(await server.MetricAsync("basalt_model_load_seconds", "{model=\"stories260K\"}") > 0);
        await WaitForAsync(async () => await server.MetricAsync("basalt_model_loaded", "{model=\"stories260K\"}") == 0, "the idle model to unload");

        Assert.Equal(", there", await StreamTextAsync(server.Client, "Once upon a time", 2));
        var show = await server.Client.PostAsJsonAsync("/api/show", new { model = TestServer.Stories }, Ct);
        var basalt = (await show.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("basalt");
        Assert.Equal(2, basalt.GetProperty("load_count").GetInt32());
        Assert.True(basalt.GetProperty("load_seconds").GetDouble() > 0);
    }
}
