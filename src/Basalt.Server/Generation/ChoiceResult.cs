using Basalt.Inference.Engine;
using Basalt.Inference.Generation;

namespace Basalt.Server.Generation;

/// <summary>One finished choice of a non-streaming request: its text, tokens (with log-probs when asked) and how it ended.</summary>
internal sealed record ChoiceResult(string Text, IReadOnlyList<EngineUpdate> Tokens, FinishReason FinishReason, EngineUsage Usage);
