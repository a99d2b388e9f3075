namespace Basalt.Server.OpenAI;

/// <summary>The <c>usage</c> object of OpenAI responses (wire DTO).</summary>
internal sealed record OpenAIUsage(int PromptTokens, int CompletionTokens, int TotalTokens)
{
    public static OpenAIUsage Of(int prompt, int completion) => new(prompt, completion, prompt + completion);
}
