using System.Runtime.CompilerServices;
using Basalt.Inference.Chat;
using Basalt.Inference.Model;

namespace Basalt.Server.Prompting;

/// <summary>
/// Turns a conversation into prompt text with the model's own chat template (ChatML when the file
/// has none). The template is parsed once per loaded model.
/// </summary>
internal static class PromptFormatter
{
    private static readonly ConditionalWeakTable<TransformerModel, ChatTemplate> Templates = [];

    /// <summary>The prompt for <paramref name="messages"/>, ending where the assistant's reply begins (BOS left to the tokenizer).</summary>
    /// <exception cref="TemplateException">The template rejected the conversation (for example, roles that do not alternate).</exception>
    public static string Format(TransformerModel model, IReadOnlyList<ChatTurn> messages)
    {
        var template = Templates.GetValue(model, m => ChatTemplate.Detect(m.File.Metadata.GetString("tokenizer.chat_template")));
        var vocab = model.Tokenizer.Vocabulary;
        return template.Render(
            messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList(),
            addGenerationPrompt: true,
            bosToken: vocab.Bos is int bos ? vocab.Tokens[bos] : "",
            eosToken: vocab.Eos is int eos ? vocab.Tokens[eos] : "");
    }
}
