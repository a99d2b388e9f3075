using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Basalt.Server.Tests;

/// <summary>The real server on Kestrel at 127.0.0.1 with a free port, serving the small test models.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string ApiKey = "test-key";
    public const string Stories = "stories260K";
    public const string Phi3 = "phi3-tiny-random";

    private readonly WebApplication _app;

    private TestServer(WebApplication app, Uri address)
    {
        _app = app;
        BaseAddress = address;
        Client = CreateClient();
    }

    public Uri BaseAddress { get; }

    /// <summary>A client that sends the API key.</summary>
    public HttpClient Client { get; }

    public static async Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null)
    {
        var options = new ServerOptions
        {
            ModelPaths = [SharedData.Path("models", "stories260K.gguf"), SharedData.Path("models", "arch", "phi3-tiny-random.gguf")],
            Port = 0,
            ApiKeys = [ApiKey],
            ContextLength = 512,
            Threads = 1,
        };
        if (configure is not null) options = configure(options);
        var app = BasaltServer.Build(options, logging => logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new TestServer(app, BasaltServer.Addresses(app)[0]);
    }

    public HttpClient CreateClient(string? apiKey = ApiKey, bool drainOnDispose = true)
    {
        // A client that hangs up must really close the connection: by default HttpClient drains up to
        // 1 MB of an unread response to reuse the connection, which the server sees as a normal read.
        var handler = new SocketsHttpHandler { MaxResponseDrainSize = drainOnDispose ? 1024 * 1024 : 0 };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (apiKey is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    /// <summary>A metric's value from /metrics (the unlabelled series unless <paramref name="labels"/> is given).</summary>
    public async Task<double> MetricAsync(string name, string labels = "")
    {
        string text = await Client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        string prefix = name + labels + " ";
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"No {name}{labels} in /metrics:\n{text}");
        return double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
