namespace Basalt.Tokenizers;

/// <summary>Token types as GGUF stores them in <c>tokenizer.ggml.token_type</c> (SentencePiece's piece types).</summary>
public enum TokenType
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
