namespace Basalt.Tokenizers;

/// <summary>Placeholder until the Bpe algorithm lands.</summary>
public sealed class BpeTokenizer(Vocabulary vocabulary) : Tokenizer(vocabulary)
{
    /// <inheritdoc />
    protected override void EncodeText(string text, bool atStartOrAfterSpecial, List<int> output) => throw new NotImplementedException();

    /// <inheritdoc />
    protected override byte[] NormalBytes(int id) => throw new NotImplementedException();
}
