namespace Basalt.Server.OpenAI;

/// <summary>The <c>usage</c> object of OpenAI responses (wire DTO).</summary>
internal sealed record OpenAIUsage(int PromptTokens, int CompletionTokens, int TotalTokens, PromptTokensDetails PromptTokensDetails)
{
    public static OpenAIUsage Of(int prompt, int completion, int cachedPrompt) => new(prompt, completion, prompt + completion, new PromptTokensDetails(cachedPrompt));
}

/// <summary><c>usage.prompt_tokens_details</c>: how many prompt tokens were found already computed (a cached prefix) and not run again.</summary>
internal sealed record PromptTokensDetails(int CachedTokens);
