namespace Basalt.Tokenizers;

/// <summary>The model file's tokenizer metadata is missing, inconsistent or of an unsupported kind.</summary>
public sealed class TokenizerFormatException(string message) : Exception(message);
