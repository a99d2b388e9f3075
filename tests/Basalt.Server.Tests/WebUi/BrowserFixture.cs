using Microsoft.Playwright;

namespace Basalt.Server.Tests.WebUi;

/// <summary>A server with a model context long enough for long answers, and a headless Chromium driven by Playwright.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>The system Chromium: the tests run offline, so Playwright's own browser download is not an option.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    private TestServer? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        // A missing browser must fail the tests loudly: skipping would hide that the web UI went untested.
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException(
                $"Chromium is not installed at {ChromiumPath}; the web UI tests need it (apt-get install -y chromium).");
        _server = await TestServer.StartAsync(o => o with { ContextLength = 2048 });
        try
        {
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
            });
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"Chromium at {ChromiumPath} could not be started through Playwright: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }
}
