namespace Basalt.Inference.Generation;

/// <summary>Chooses the next token from raw logits and remembers what was chosen (for penalties).</summary>
public interface ITokenPicker
{
    /// <summary>Picks a token id from the logits after the last token.</summary>
    int Pick(ReadOnlySpan<float> logits);

    /// <summary>Records a token that became part of the sequence (prompt or generated).</summary>
    void Accept(int token);
}
