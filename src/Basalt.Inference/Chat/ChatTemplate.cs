using Basalt.Inference.Chat.Jinja;

namespace Basalt.Inference.Chat;

/// <summary>
/// A model's chat template (the Jinja text in GGUF <c>tokenizer.chat_template</c>), rendered the way
/// Hugging Face and llama.cpp render it: <c>trim_blocks</c> and <c>lstrip_blocks</c> on, the variables
/// <c>messages</c>, <c>add_generation_prompt</c>, <c>bos_token</c> and <c>eos_token</c>. Templates that
/// reject a system role get the system text folded into the first user turn, as llama.cpp does.
/// </summary>
public sealed class ChatTemplate
{
    private readonly JinjaTemplate _template;

    /// <summary>Parses a template.</summary>
    /// <exception cref="TemplateException">The text is not a template this interpreter understands; the message gives line and column.</exception>
    public ChatTemplate(string source)
    {
        Source = source;
        // Jinja drops one trailing newline of the template (keep_trailing_newline is off).
        _template = new JinjaTemplate(source.EndsWith('\n') ? source[..^1] : source);
        SupportsSystemRole = Probe([new ChatMessage("system", "<System Needle>"), new ChatMessage("user", "<User Needle>")], "<System Needle>");
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Whether the template renders system messages itself.</summary>
    public bool SupportsSystemRole { get; }

    /// <summary>
    /// Renders a conversation. A BOS token written at the very start and an EOS token at the very
    /// end are removed, as llama.cpp does: the tokenizer adds BOS itself when the vocabulary asks for
    /// it, and a prompt must not end the turn it asks the model to continue.
    /// </summary>
    /// <exception cref="TemplateException">The template raised an error (e.g. roles that do not alternate).</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, string bosToken = "", string eosToken = "")
    {
        var turns = SupportsSystemRole ? messages : FoldSystemMessages(messages);
        string text = RenderRaw(turns, addGenerationPrompt, bosToken, eosToken);
        if (bosToken.Length > 0 && text.StartsWith(bosToken, StringComparison.Ordinal)) text = text[bosToken.Length..];
        if (eosToken.Length > 0 && text.EndsWith(eosToken, StringComparison.Ordinal)) text = text[..^eosToken.Length];
        return text;
    }

    private bool Probe(IReadOnlyList<ChatMessage> messages, string needle)
    {
        try
        {
            return RenderRaw(messages, addGenerationPrompt: false, bosToken: "", eosToken: "").Contains(needle, StringComparison.Ordinal);
        }
        catch (TemplateException)
        {
            return false;
        }
    }

    private string RenderRaw(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, string bosToken, string eosToken) =>
        _template.Render(new Dictionary<string, object?>
        {
            ["messages"] = messages.Select(m => (object?)new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content }).ToList(),
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = bosToken,
            ["eos_token"] = eosToken,
        });

    /// <summary>System text joins the next user turn ("system\nuser"); a system turn with no user turn after it becomes a user turn.</summary>
    private static List<ChatMessage> FoldSystemMessages(IReadOnlyList<ChatMessage> messages)
    {
        var result = new List<ChatMessage>();
        string pending = "";
        foreach (var m in messages)
        {
            if (m.Role == "system")
            {
                pending = pending.Length == 0 ? m.Content : pending + "\n" + m.Content;
                continue;
            }
            if (pending.Length > 0)
            {
                if (m.Role == "user")
                {
                    result.Add(m with { Content = pending + (m.Content.Length == 0 ? "" : "\n" + m.Content) });
                    pending = "";
                    continue;
                }
                result.Add(new ChatMessage("user", pending));
                pending = "";
            }
            result.Add(m);
        }
        if (pending.Length > 0) result.Add(new ChatMessage("user", pending));
        return result;
    }

    /// <summary>The model's own template when it has one, otherwise ChatML.</summary>
    public static ChatTemplate Detect(string? templateText) =>
        string.IsNullOrWhiteSpace(templateText) ? Named("chatml") : new ChatTemplate(templateText);

    /// <summary>A built-in template by family name: chatml, llama2, llama3, mistral, phi3, gemma, zephyr.</summary>
    public static ChatTemplate Named(string name) => BuiltInTemplates.All.TryGetValue(name, out var text)
        ? new ChatTemplate(text)
        : throw new ArgumentException($"No built-in chat template '{name}'; known: {string.Join(", ", BuiltInTemplates.All.Keys)}.", nameof(name));
}
