using System.Diagnostics;
using System.Globalization;
using Basalt.Inference.Clients;
using Microsoft.Extensions.AI;

namespace Basalt.Cli.Commands;

/// <summary>
/// The interactive conversation behind <c>basalt chat</c> and <c>basalt run MODEL</c>: reads a line,
/// streams the answer, keeps the history. <c>/bye</c> ends it, <c>/clear</c> forgets the history.
/// </summary>
internal static class ChatSession
{
    public static async Task<int> RunAsync(LocalChatClient client, ChatOptions options, string? system, TextReader input, TextWriter output, TextWriter status, bool interactive, CancellationToken cancellationToken)
    {
        var history = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(system)) history.Add(new ChatMessage(ChatRole.System, system));
        if (interactive) status.WriteLine("Type a message; /clear forgets the conversation, /bye (or end of input) quits.");
        while (!cancellationToken.IsCancellationRequested)
        {
            if (interactive) output.Write(">>> ");
            string? line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null || line.Trim() == "/bye") break;
            if (line.Trim().Length == 0) continue;
            if (line.Trim() == "/clear")
            {
                history.RemoveAll(m => m.Role != ChatRole.System);
                status.WriteLine("(conversation cleared)");
                continue;
            }
            history.Add(new ChatMessage(ChatRole.User, line));
            string answer = await StreamAnswerAsync(client, history, options, output, status, cancellationToken).ConfigureAwait(false);
            history.Add(new ChatMessage(ChatRole.Assistant, answer));
        }
        return 0;
    }

    /// <summary>Streams one answer to <paramref name="output"/> and a speed line to <paramref name="status"/>; returns the answer.</summary>
    public static async Task<string> StreamAnswerAsync(LocalChatClient client, IList<ChatMessage> history, ChatOptions options, TextWriter output, TextWriter status, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var text = new System.Text.StringBuilder();
        UsageDetails? usage = null;
        double? firstTokenMs = null;
        await foreach (var update in client.GetStreamingResponseAsync(history, options, cancellationToken).ConfigureAwait(false))
        {
            if (update.Text.Length > 0)
            {
                firstTokenMs ??= clock.Elapsed.TotalMilliseconds;
                output.Write(update.Text);
                output.Flush();
                text.Append(update.Text);
            }
            usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details ?? usage;
        }
        output.WriteLine();
        double genSeconds = (clock.Elapsed.TotalMilliseconds - (firstTokenMs ?? 0)) / 1000;
        long outTokens = usage?.OutputTokenCount ?? 0;
        // A turn's prompt repeats the conversation: the tokens the client kept from the turns before are not run again.
        string cached = usage?.CachedInputTokenCount is > 0 and long c ? string.Create(CultureInfo.InvariantCulture, $" ({c} cached)") : "";
        status.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{usage?.InputTokenCount ?? 0} prompt tokens{cached}, {outTokens} generated, first token after {firstTokenMs ?? 0:F0} ms, {(outTokens > 1 && genSeconds > 0 ? (outTokens - 1) / genSeconds : 0):F1} tok/s]"));
        return text.ToString();
    }
}
