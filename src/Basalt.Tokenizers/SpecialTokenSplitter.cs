namespace Basalt.Tokenizers;

/// <summary>
/// Splits text into runs of plain text and special tokens, the way llama.cpp partitions a prompt:
/// longer special texts are matched first; control and unknown tokens only when special parsing is
/// on; user-defined tokens always. Tokens marked to strip whitespace eat it from their neighbours.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    public readonly record struct Fragment(string Text, int? Token);

    private readonly Vocabulary _vocab;
    private readonly int[] _specials;          // longest text first
    private readonly HashSet<int> _lstrip = [];
    private readonly HashSet<int> _rstrip = [];

    public SpecialTokenSplitter(Vocabulary vocab)
    {
        _vocab = vocab;
        _specials = Enumerable.Range(0, vocab.Count)
            .Where(id => vocab.Types[id] is TokenType.Control or TokenType.UserDefined or TokenType.Unknown && vocab.Tokens[id].Length > 0)
            .OrderByDescending(id => vocab.Tokens[id].Length).ThenBy(id => id)
            .ToArray();
        SetStripAttributes();
    }

    // llama.cpp sets these per model family because the converters do not record them.
    private void SetStripAttributes()
    {
        string name = (_vocab.ModelName ?? "").ToLowerInvariant();
        string pre = _vocab.Pre ?? "";
        if (pre is "jina-v2-de" or "jina-v2-es" or "jina-v2-code")
        {
            if (_vocab.Find("<mask>") is int mask) _lstrip.Add(mask);
        }
        else if (name.Contains("phi-3") || name.Contains("phi3"))
        {
            foreach (int id in _specials) _rstrip.Add(id);
            if (_vocab.Find("</s>") is int eos) _rstrip.Add(eos);
            foreach (var t in new[] { "<unk>", "<s>", "<|endoftext|>" })
                if (_vocab.Find(t) is int id) _rstrip.Remove(id);
        }
    }

    public List<Fragment> Split(string text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(new Fragment(text, null));
        foreach (int id in _specials)
        {
            if (!parseSpecial && _vocab.Types[id] is TokenType.Control or TokenType.Unknown) continue;
            string special = _vocab.Tokens[id];
            for (int i = 0; i < fragments.Count; i++)
            {
                if (fragments[i].Token is not null) continue;
                string raw = fragments[i].Text;
                int match = raw.IndexOf(special, StringComparison.Ordinal);
                if (match < 0) continue;
                var replacement = new List<Fragment>();
                int pos = 0;
                while (match >= 0)
                {
                    int leftEnd = match;
                    if (_lstrip.Contains(id)) while (leftEnd > pos && char.IsWhiteSpace(raw[leftEnd - 1])) leftEnd--;
                    if (leftEnd > pos) replacement.Add(new Fragment(raw[pos..leftEnd], null));
                    replacement.Add(new Fragment(special, id));
                    pos = match + special.Length;
                    if (_rstrip.Contains(id)) while (pos < raw.Length && char.IsWhiteSpace(raw[pos])) pos++;
                    match = pos < raw.Length ? raw.IndexOf(special, pos, StringComparison.Ordinal) : -1;
                }
                if (pos < raw.Length) replacement.Add(new Fragment(raw[pos..], null));
                fragments.RemoveAt(i);
                fragments.InsertRange(i, replacement);
                i += replacement.Count - 1;
            }
        }
        return fragments;
    }
}
