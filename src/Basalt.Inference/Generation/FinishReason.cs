namespace Basalt.Inference.Generation;

/// <summary>Why generation ended, spelled as the JSON contract and the OpenAI API spell it.</summary>
public enum FinishReason
{
    /// <summary>The token limit (or the end of the context) was reached: <c>length</c>.</summary>
    Length,

    /// <summary>A stop sequence was produced: <c>stop</c>.</summary>
    Stop,

    /// <summary>The model produced an end-of-generation token: <c>eos</c>.</summary>
    Eos,

    /// <summary>The caller cancelled.</summary>
    Cancelled,
}
