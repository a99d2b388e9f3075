using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Basalt.Server.Tests.Http;

/// <summary>Every failure is an OpenAI error body with the right status; none is a 500.</summary>
public sealed class ErrorTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("type", out _));
        Assert.True(error.TryGetProperty("param", out _));
        Assert.True(error.TryGetProperty("code", out _));
        return error;
    }

    private Task<HttpResponseMessage> PostRaw(string path, string json, HttpClient? client = null) =>
        (client ?? fixture.Server.Client).PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    [Fact]
    public async Task MalformedJsonIs400()
    {
        using var response = await PostRaw("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [");
        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task WrongTypeNamesTheParameter()
    {
        using var response = await PostRaw("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": \"hi\", \"max_tokens\": \"many\"}");
        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Equal("max_tokens", error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("{\"model\": \"stories260K\"}", "messages")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "model")]
    [InlineData("{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 0}", "n")]
    [InlineData("{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_p\": 2}", "top_p")]
    [InlineData("{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 5}", "stop")]
    [InlineData("{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logit_bias\": {\"x\": 1}}", "logit_bias")]
    [InlineData("{\"model\": \"stories260K\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", "messages[0].role")]
    [InlineData("{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", "messages[0].content")]
    public async Task InvalidParameterIs400NamingIt(string body, string param)
    {
        using var response = await PostRaw("/v1/chat/completions", body);
        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task ContentPartsAreRead()
    {
        using var response = await PostRaw("/v1/chat/completions",
            "{\"model\": \"stories260K\", \"max_tokens\": 3, \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Once\"}]}]}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnknownModelIs404ModelNotFound()
    {
        using var response = await PostRaw("/api/generate", "{\"model\": \"nope\", \"prompt\": \"hi\"}");
        var error = await ErrorOf(response, HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task MissingKeyIs401ButHealthIsOpen()
    {
        using var anonymous = fixture.Server.CreateClient(apiKey: null);
        using var response = await anonymous.GetAsync("/api/tags", Ct);
        Assert.Equal("invalid_api_key", (await ErrorOf(response, HttpStatusCode.Unauthorized)).GetProperty("code").GetString());
        using var metrics = await anonymous.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
        using var health = await anonymous.GetAsync("/health", Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task OverlongPromptIsContextLengthExceeded()
    {
        string prompt = string.Join(' ', Enumerable.Repeat("Once upon a time there was a dog.", 100));
        using var response = await fixture.Server.Client.PostAsJsonAsync("/v1/completions", new { model = TestServer.Stories, prompt, max_tokens = 4 }, Ct);
        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());

        // Streaming requests fail the same way, before any event is sent.
        using var streamed = await fixture.Server.Client.PostAsJsonAsync("/v1/chat/completions",
            new { model = TestServer.Stories, messages = new[] { new { role = "user", content = prompt } }, stream = true }, Ct);
        Assert.Equal("context_length_exceeded", (await ErrorOf(streamed, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task HugeBodyIs413()
    {
        string prompt = new('a', 9 * 1024 * 1024);
        // The body's length is declared and the client waits for "100 Continue" before sending it, as well-behaved
        // clients of large uploads do: the server refuses at the declared length, so the 413 is always what the
        // client reads (sent blind, the body can still be on its way when the server closes the connection).
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { model = TestServer.Stories, prompt })),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.ExpectContinue = true;
        using var response = await fixture.Server.Client.SendAsync(request, Ct);
        await ErrorOf(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task UnknownApiPathIs404WithErrorBody()
    {
        using var response = await fixture.Server.Client.GetAsync("/v1/nothing-here", Ct);
        await ErrorOf(response, HttpStatusCode.NotFound);
    }
}
