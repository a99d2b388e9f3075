using System.Text;
using Basalt.Inference.Model;

namespace Basalt.Server.Prompting;

/// <summary>
/// Turns a conversation into prompt text. For now every model gets ChatML written out by hand;
/// when the GGUF chat-template renderer lands, <see cref="Format"/> is the one place to switch to it.
/// </summary>
internal static class PromptFormatter
{
    /// <summary>The prompt for <paramref name="messages"/>, ending where the assistant's reply begins.</summary>
    public static string Format(TransformerModel model, IReadOnlyList<ChatTurn> messages)
    {
        _ = model; // the model's own template will be read from here
        var text = new StringBuilder();
        foreach (var m in messages)
            text.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
        text.Append("<|im_start|>assistant\n");
        return text.ToString();
    }
}
