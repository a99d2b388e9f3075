using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Basalt.Server.Tests.WebUi;

/// <summary>The web chat at <c>/</c>, driven in headless Chromium against the real server.</summary>
public sealed class WebChatTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string SystemPrompt = "You tell short stories.";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<ChatPage> OpenReadyAsync()
    {
        var chat = await ChatPage.OpenAsync(fixture);
        await chat.EnterApiKeyAsync(TestServer.ApiKey);
        await chat.ChooseModelAsync(TestServer.Stories);
        return chat;
    }

    /// <summary>The server's answer to one user message over the plain HTTP API, with the page's default top-p.</summary>
    private async Task<string> GreedyAnswerAsync(string message, int maxTokens)
    {
        using var response = await fixture.Server.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = TestServer.Stories,
            messages = new object[] { new { role = "system", content = SystemPrompt }, new { role = "user", content = message } },
            temperature = 0,
            top_p = 0.95,
            max_tokens = maxTokens,
        }, Ct);
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }

    private static string Collapse(string text) => Regex.Replace(text, @"\s+", " ").Trim();

    [Fact]
    public async Task AnswerStreamsInAndEqualsTheGreedyAnswer()
    {
        const string message = "Tell me a story about a cat.";
        const int maxTokens = 200;
        await using var chat = await OpenReadyAsync();
        await chat.SetAsync("#system-prompt", SystemPrompt);
        await chat.SetAsync("#temperature", "0");
        await chat.SetAsync("#max-tokens", maxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));

        await chat.RecordAnswerGrowthAsync();
        await chat.SendAsync(message);
        await chat.WaitForAnswerStateAsync("done");

        string expected = await GreedyAnswerAsync(message, maxTokens);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, await chat.StoredAnswerAsync());
        Assert.Equal(Collapse(expected), Collapse(await chat.LastAnswer.Locator(".content").InnerTextAsync()));
        // Token by token: the page showed the answer at many lengths on the way, each longer than the last.
        int[] lengths = await chat.AnswerLengthsAsync();
        Assert.True(lengths.Length >= 5, $"The answer arrived in {lengths.Length} step(s): [{string.Join(", ", lengths)}]");
        Assert.Equal(lengths.Order(), lengths);
        await Expect(chat.Page.Locator(".message.user .content")).ToHaveTextAsync(message);
        await Expect(chat.Prompt).ToHaveValueAsync("");
        await Expect(chat.Error).ToBeHiddenAsync();
    }

    [Fact]
    public async Task StopKeepsThePartialAnswerAndFreesTheServer()
    {
        await using var chat = await OpenReadyAsync();
        // Greedy, so the answer is the same every run: it goes on for all 1900 tokens without an end-of-text token.
        await chat.SetAsync("#temperature", "0");
        await chat.SetAsync("#max-tokens", "1900");
        double cancelledBefore = await fixture.Server.MetricAsync("basalt_engine_requests_total", "{outcome=\"cancelled\"}");

        // Midway: some text is there, far from the 1900 tokens asked for, and Stop is pressed.
        await chat.StopAfterAsync(40);
        await chat.SendAsync("Tell me a very long story.");
        await chat.WaitForAnswerStateAsync("stopped", 30_000);
        var pressed = await chat.StopPressedAsync();
        Assert.NotNull(pressed);
        Assert.True(pressed.Value.GetProperty("stopShown").GetBoolean(), "Stop was not showing while the answer streamed in.");
        Assert.True(pressed.Value.GetProperty("sendHidden").GetBoolean(), "Send was showing while the answer streamed in.");

        string partial = await chat.LastAnswer.Locator(".content").InnerTextAsync();
        Assert.NotEmpty(partial.Trim());
        await Task.Delay(500, Ct);
        Assert.Equal(partial, await chat.LastAnswer.Locator(".content").InnerTextAsync());
        string stored = await chat.StoredAnswerAsync();
        Assert.Equal(Collapse(stored), Collapse(partial));
        await Expect(chat.LastAnswer.Locator(".note")).ToHaveTextAsync("Stopped.");
        await Expect(chat.Error).ToBeHiddenAsync();

        // The server dropped the generation rather than finishing it unread.
        var clock = Stopwatch.StartNew();
        while (await fixture.Server.MetricAsync("basalt_active_sequences") != 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "basalt_active_sequences did not return to 0 after Stop.");
            await Task.Delay(50, Ct);
        }
        Assert.Equal(cancelledBefore + 1, await fixture.Server.MetricAsync("basalt_engine_requests_total", "{outcome=\"cancelled\"}"));

        // Ready for the next message, which goes through in the same conversation.
        await Expect(chat.Send).ToBeVisibleAsync();
        await Expect(chat.Send).ToBeEnabledAsync();
        await Expect(chat.Stop).ToBeHiddenAsync();
        await Expect(chat.Prompt).ToBeFocusedAsync();
        await chat.SetAsync("#max-tokens", "8");
        await chat.SendAsync("And then?");
        await chat.WaitForAnswerStateAsync("done");
        await Expect(chat.Answers).ToHaveCountAsync(2);
        Assert.Equal(partial, await chat.Answers.First.Locator(".content").InnerTextAsync());
        await Expect(chat.Conversations).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task ConversationsAndSettingsSurviveAReload()
    {
        await using var chat = await OpenReadyAsync();
        await chat.SetAsync("#temperature", "0");
        await chat.SetAsync("#max-tokens", "16");
        await chat.SendAsync("First **conversation**");
        await chat.WaitForAnswerStateAsync("done");
        string first = await chat.StoredAnswerAsync();

        await chat.Page.Locator("#new-chat").ClickAsync();
        await Expect(chat.Answers).ToHaveCountAsync(0);
        await chat.SendAsync("Second conversation");
        await chat.WaitForAnswerStateAsync("done");
        await Expect(chat.Conversations).ToHaveCountAsync(2);

        await chat.Page.ReloadAsync();
        // Newest first; the open one is marked, and the key, model and settings came back with the page.
        await Expect(chat.Conversations).ToHaveTextAsync(["Second conversation", "First **conversation**"]);
        await Expect(chat.Conversations.First).ToHaveAttributeAsync("aria-current", "true");
        await Expect(chat.Page.Locator(".message.user .content")).ToHaveTextAsync("Second conversation");
        await Expect(chat.Page.Locator("#model")).ToHaveValueAsync(TestServer.Stories);
        await Expect(chat.Page.Locator("#temperature")).ToHaveValueAsync("0");
        await Expect(chat.Page.Locator("#max-tokens")).ToHaveValueAsync("16");
        await Expect(chat.Page.Locator("#api-key")).ToHaveValueAsync(TestServer.ApiKey);

        await chat.Conversations.Nth(1).ClickAsync();
        // The user's text is shown as typed, never as markup.
        await Expect(chat.Page.Locator(".message.user .content")).ToHaveTextAsync("First **conversation**");
        Assert.Equal(first, await chat.StoredAnswerAsync());
        Assert.Equal(Collapse(first), Collapse(await chat.LastAnswer.Locator(".content").InnerTextAsync()));

        chat.Page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await chat.Page.Locator("#conversations .conversation-delete").First.ClickAsync();
        await Expect(chat.Conversations).ToHaveTextAsync(["First **conversation**"]);
        Assert.Equal(1, (await chat.StoredConversationsAsync()).GetArrayLength());
    }

    [Fact]
    public async Task ServerErrorsAreShownFromTheErrorBody()
    {
        await using var chat = await ChatPage.OpenAsync(fixture);
        // No key yet: the model list is refused, and the page says why.
        await Expect(chat.Error).ToContainTextAsync("No API key given");
        await chat.EnterApiKeyAsync("wrong-key");
        await Expect(chat.Error).ToContainTextAsync("The API key is not valid.");

        await chat.EnterApiKeyAsync(TestServer.ApiKey);
        await chat.ChooseModelAsync(TestServer.Stories);
        await Expect(chat.Error).ToBeHiddenAsync();
        // A prompt longer than the context is refused before anything streams; the text goes back in the box.
        string tooLong = string.Join(' ', Enumerable.Repeat("once upon a time", 1200));
        await chat.SendAsync(tooLong);
        await Expect(chat.Error).ToContainTextAsync("context holds 2048 tokens");
        await Expect(chat.Prompt).ToHaveValueAsync(tooLong);
        await Expect(chat.Answers).ToHaveCountAsync(0);
        await Expect(chat.Conversations).ToHaveCountAsync(0);
        await Expect(chat.Send).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AnswersRenderMarkdownAndNeverMarkup()
    {
        await using var chat = await OpenReadyAsync();
        const string answer = "# Plan\n\nSome **bold**, *italic* and `a <b> tag`.\nNext line.\n\n- one\n- two\n\n1. first\n2. second\n\n"
            + "```js\nif (a < b) alert('x');\n```\n\n[docs](https://example.org/d?a=1&b=2) [bad](javascript:window.pwned=1)\n\n"
            + "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=1</script>";
        await chat.Page.EvaluateAsync("""
            answer => localStorage.setItem('basalt.conversations', JSON.stringify([{ id: 'c1', title: 'Markdown', model: 'stories260K',
              updated: 1, messages: [{ role: 'user', content: '<b>hi</b>' }, { role: 'assistant', content: answer }] }]));
            """, answer);
        await chat.Page.EvaluateAsync("() => localStorage.setItem('basalt.current', 'c1')");
        await chat.Page.ReloadAsync();

        var content = chat.LastAnswer.Locator(".content");
        await Expect(content.Locator("h3")).ToHaveTextAsync("Plan");
        await Expect(content.Locator("strong")).ToHaveTextAsync("bold");
        await Expect(content.Locator("em")).ToHaveTextAsync("italic");
        await Expect(content.Locator("p > code")).ToHaveTextAsync("a <b> tag");
        await Expect(content.Locator("p br")).ToHaveCountAsync(1);
        await Expect(content.Locator("ul > li")).ToHaveTextAsync(["one", "two"]);
        await Expect(content.Locator("ol > li")).ToHaveTextAsync(["first", "second"]);
        await Expect(content.Locator("pre code")).ToHaveTextAsync("if (a < b) alert('x');");
        await Expect(content.Locator("a")).ToHaveCountAsync(1);
        await Expect(content.Locator("a")).ToHaveAttributeAsync("href", "https://example.org/d?a=1&b=2");
        await Expect(content).ToContainTextAsync("[bad](javascript:window.pwned=1)");
        await Expect(content).ToContainTextAsync("<img src=x onerror=\"window.pwned=1\"><script>window.pwned=1</script>");
        await Expect(chat.Page.Locator("#messages img, #messages script")).ToHaveCountAsync(0);
        await Expect(chat.Page.Locator(".message.user .content")).ToHaveTextAsync("<b>hi</b>");
        Assert.True(await chat.Page.EvaluateAsync<bool>("() => window.pwned === undefined"));
    }
}
