using System.Text;

namespace Basalt.Tokenizers.Tests;

/// <summary>llama.cpp's tokenizer test vectors: <c>NAME.gguf.inp</c> cases and <c>NAME.gguf.out</c> expected ids.</summary>
internal static class TokenizerVectors
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    public static IReadOnlyList<string> Vocabularies() =>
        Directory.GetFiles(SharedData.Path("testdata", "tokenizers"), "*.gguf.inp")
            .Select(p => System.IO.Path.GetFileName(p)[..^".inp".Length])
            .Order(StringComparer.Ordinal)
            .ToList();

    public static IReadOnlyList<(string Input, int[] Expected)> Cases(string vocab)
    {
        string dir = SharedData.Path("testdata", "tokenizers");
        string inp = Encoding.UTF8.GetString(File.ReadAllBytes(System.IO.Path.Combine(dir, vocab + ".inp")));
        var inputs = new List<string>();
        for (int pos = 0; pos < inp.Length;)
        {
            int sep = inp.IndexOf(Separator, pos, StringComparison.Ordinal);
            if (sep < 0) break;
            inputs.Add(inp[pos..sep]);
            pos = sep + Separator.Length;
        }
        var lines = File.ReadAllText(System.IO.Path.Combine(dir, vocab + ".out"), Encoding.UTF8).Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
        if (lines.Length != inputs.Count)
            throw new InvalidDataException($"{vocab}: {inputs.Count} inputs but {lines.Length} expected-output lines.");
        return inputs.Select((s, i) => (s, ParseIds(lines[i]))).ToList();
    }

    private static int[] ParseIds(string line)
    {
        string t = line.Trim();
        return t.Length == 0 ? [] : t.Split(' ').Select(int.Parse).ToArray();
    }
}
