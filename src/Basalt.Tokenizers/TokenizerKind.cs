namespace Basalt.Tokenizers;

/// <summary>The tokenizer family named by <c>tokenizer.ggml.model</c>.</summary>
public enum TokenizerKind
{
    /// <summary><c>llama</c>: SentencePiece-style BPE over scores, with byte fallback.</summary>
    Spm,

    /// <summary><c>gpt2</c>: byte-level BPE over ranked merges, with a regex pre-tokenizer.</summary>
    Bpe,

    /// <summary><c>bert</c>: WordPiece.</summary>
    Wpm,
}
