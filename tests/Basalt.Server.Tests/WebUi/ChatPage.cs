using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Basalt.Server.Tests.WebUi;

/// <summary>The web chat open in a fresh browser context (its own localStorage), with the actions the tests take.</summary>
internal sealed class ChatPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page => page;

    public ILocator Prompt => page.Locator("#prompt");
    public ILocator Send => page.Locator("#send");
    public ILocator Stop => page.Locator("#stop");
    public ILocator Error => page.Locator("#error");
    public ILocator Answers => page.Locator(".message.assistant");
    public ILocator LastAnswer => Answers.Last;
    public ILocator Conversations => page.Locator("#conversations .conversation-open");

    public static async Task<ChatPage> OpenAsync(BrowserFixture fixture)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.Server.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        return new ChatPage(context, page);
    }

    /// <summary>Types the key into Settings; leaving the field is what makes the page store it and reload the models.</summary>
    public async Task EnterApiKeyAsync(string key)
    {
        await OpenSettingsAsync();
        await page.Locator("#api-key").FillAsync(key);
        await page.Locator("#api-key").PressAsync("Tab");
    }

    public async Task OpenSettingsAsync()
    {
        if (await page.Locator("#settings").IsHiddenAsync()) await page.Locator("#toggle-settings").ClickAsync();
    }

    public async Task ChooseModelAsync(string model)
    {
        await page.Locator($"#model option[value='{model}']").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await page.Locator("#model").SelectOptionAsync(model);
    }

    public async Task SetAsync(string field, string value)
    {
        await OpenSettingsAsync();
        await page.Locator(field).FillAsync(value);
        await page.Locator(field).PressAsync("Tab");
    }

    /// <summary>Types a message and sends it with Enter, as a user would.</summary>
    public async Task SendAsync(string text)
    {
        await Prompt.FillAsync(text);
        await Prompt.PressAsync("Enter");
    }

    /// <summary>Starts recording the length of the newest answer's text at every change of the message list.</summary>
    public Task RecordAnswerGrowthAsync() => page.EvaluateAsync("""
        () => {
          window.answerLengths = [];
          const messages = document.getElementById('messages');
          new MutationObserver(() => {
            const answers = messages.querySelectorAll('.message.assistant .content');
            if (answers.length === 0) return;
            const length = answers[answers.length - 1].textContent.length;
            if (window.answerLengths.at(-1) !== length) window.answerLengths.push(length);
          }).observe(messages, { childList: true, subtree: true, characterData: true });
        }
        """);

    /// <summary>
    /// Arms the page to press Stop the moment the newest answer shows more than <paramref name="characters"/>
    /// characters, recording whether Stop was showing and Send hidden at that moment. The press happens inside the
    /// page, on the same change that showed the text: a small model streams its whole answer in about a second,
    /// faster than a round trip from the test to the browser on a busy machine.
    /// </summary>
    public Task StopAfterAsync(int characters) => page.EvaluateAsync("""
        (characters) => {
          window.stopPressed = null;
          const messages = document.getElementById('messages');
          const observer = new MutationObserver(() => {
            const answers = messages.querySelectorAll('.message.assistant .content');
            if (answers.length === 0 || answers[answers.length - 1].textContent.length <= characters) return;
            observer.disconnect();
            const stop = document.getElementById('stop'), send = document.getElementById('send');
            window.stopPressed = { stopShown: !stop.hidden && stop.offsetParent !== null, sendHidden: send.hidden || send.offsetParent === null };
            stop.click();
          });
          observer.observe(messages, { childList: true, subtree: true, characterData: true });
        }
        """, characters);

    /// <summary>What <see cref="StopAfterAsync"/> saw when it pressed Stop, or null before it did.</summary>
    public async Task<JsonElement?> StopPressedAsync() => await page.EvaluateAsync<JsonElement?>("() => window.stopPressed");

    public async Task<int[]> AnswerLengthsAsync() => await page.EvaluateAsync<int[]>("() => window.answerLengths");

    public async Task WaitForAnswerStateAsync(string state, float timeoutMs = 60_000) =>
        await Expect(LastAnswer).ToHaveAttributeAsync("data-state", state, new() { Timeout = timeoutMs });

    /// <summary>The raw text of the newest answer as the page stored it (the display is rendered Markdown).</summary>
    public async Task<string> StoredAnswerAsync()
    {
        var conversations = await StoredConversationsAsync();
        var current = await page.EvaluateAsync<string>("() => localStorage.getItem('basalt.current')");
        var conversation = conversations.EnumerateArray().Single(c => c.GetProperty("id").GetString() == current);
        return conversation.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("role").GetString() == "assistant")
            .GetProperty("content").GetString()!;
    }

    public async Task<JsonElement> StoredConversationsAsync()
    {
        string json = await page.EvaluateAsync<string>("() => localStorage.getItem('basalt.conversations') ?? '[]'");
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    public async ValueTask DisposeAsync() => await context.DisposeAsync();
}
