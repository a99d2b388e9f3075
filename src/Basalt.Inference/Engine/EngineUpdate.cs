using Basalt.Inference.Generation;
using Basalt.Inference.Sampling;

namespace Basalt.Inference.Engine;

/// <summary>
/// One message from the loop to a request: a generated token with the text it completes, or
/// (when <see cref="FinishReason"/> is set) the last message, which may carry held-back text and has no token.
/// </summary>
/// <param name="TokenId">The generated token, or -1 for the final update.</param>
/// <param name="Text">Text safe to show now; may be empty while a character or stop sequence is incomplete.</param>
/// <param name="LogProb">The token's own log-probability, when asked for.</param>
/// <param name="TopLogProbs">The most likely tokens at this step, when asked for.</param>
public sealed record EngineUpdate(int TokenId, string Text, TokenLogProb? LogProb = null, IReadOnlyList<TokenLogProb>? TopLogProbs = null)
{
    /// <summary>Why generation ended; set only on the final update.</summary>
    public FinishReason? FinishReason { get; init; }

    /// <summary>Token counts and timings; set only on the final update.</summary>
    public EngineUsage? Usage { get; init; }

    /// <summary>Whether this is the last update of the request.</summary>
    public bool IsFinal => FinishReason is not null;
}
