using Basalt.Gguf;

namespace Basalt.Tokenizers;

/// <summary>Reads <c>tokenizer.ggml.*</c> keys into a <see cref="Vocabulary"/>, applying llama.cpp's defaults per family.</summary>
internal static class VocabularyLoader
{
    public static Vocabulary Load(GgufMetadata md, string file)
    {
        string model = md.GetString("tokenizer.ggml.model")
            ?? throw new TokenizerFormatException($"{file}: no tokenizer.ggml.model string; expected \"llama\", \"gpt2\" or \"bert\".");
        var kind = model switch
        {
            "llama" => TokenizerKind.Spm,
            "gpt2" => TokenizerKind.Bpe,
            "bert" => TokenizerKind.Wpm,
            _ => throw new TokenizerFormatException($"{file}: tokenizer.ggml.model is \"{model}\"; supported are \"llama\", \"gpt2\" and \"bert\"."),
        };
        string[] tokens = md.GetArray<string>("tokenizer.ggml.tokens")
            ?? throw new TokenizerFormatException($"{file}: no tokenizer.ggml.tokens string array.");
        if (tokens.Length == 0) throw new TokenizerFormatException($"{file}: tokenizer.ggml.tokens is empty.");

        float[]? scores = md.GetArray<float>("tokenizer.ggml.scores");
        var types = ReadTypes(md, file, tokens.Length);
        string[]? merges = md.GetArray<string>("tokenizer.ggml.merges");
        if (kind == TokenizerKind.Bpe && merges is null)
            throw new TokenizerFormatException($"{file}: a gpt2 tokenizer needs tokenizer.ggml.merges.");
        if (scores is not null && scores.Length != tokens.Length)
            throw new TokenizerFormatException($"{file}: {tokens.Length} tokens but {scores.Length} scores.");

        int? Id(string key, int? fallback)
        {
            var v = md.Find("tokenizer.ggml." + key);
            if (v is null) return fallback;
            if (!v.IsInteger) throw new TokenizerFormatException($"{file}: tokenizer.ggml.{key} is {v.Type}, expected an integer token id.");
            long id = v.AsInt64();
            // Converters write -1 (as u32 0xFFFFFFFF) for "none".
            if (id < 0 || id >= tokens.Length) return null;
            return (int)id;
        }

        // Defaults follow llama.cpp: SPM models use <unk>=0 <s>=1 </s>=2; BERT uses [CLS]/[SEP] as BOS/EOS.
        var (bos, eos, unk, sep, pad, cls, mask) = kind switch
        {
            TokenizerKind.Spm => ((int?)1, (int?)2, (int?)0, (int?)null, (int?)null, (int?)null, (int?)null),
            TokenizerKind.Wpm => (101, 102, 100, 102, 0, 101, 103),
            _ => (Find(tokens, "<|endoftext|>"), Find(tokens, "<|endoftext|>"), null, null, null, null, null),
        };
        cls = Id("cls_token_id", cls);
        sep = Id("seperator_token_id", sep);
        string? pre = md.GetString("tokenizer.ggml.pre");
        // llama.cpp turns BOS on by default for these byte-level families; files usually say so anyway.
        bool bpeAddsBos = pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "tekken" or "chameleon";
        bool defaultAddBos = kind switch { TokenizerKind.Spm => true, TokenizerKind.Wpm => true, _ => bpeAddsBos };
        bool defaultAddEos = kind == TokenizerKind.Wpm;
        bool defaultSpacePrefix = kind == TokenizerKind.Spm;

        return new Vocabulary(kind, pre, tokens, scores, types, merges)
        {
            Bos = kind == TokenizerKind.Wpm ? Id("bos_token_id", cls) : Id("bos_token_id", bos),
            Eos = kind == TokenizerKind.Wpm ? Id("eos_token_id", sep) : Id("eos_token_id", eos),
            Eot = Id("eot_token_id", null) ?? FindEot(tokens),
            Eom = Id("eom_token_id", null) ?? Find(tokens, "<|eom_id|>"),
            Unk = Id("unknown_token_id", unk),
            Sep = sep,
            Pad = Id("padding_token_id", pad),
            Cls = cls,
            Mask = Id("mask_token_id", mask),
            AddBos = md.GetBool("tokenizer.ggml.add_bos_token") ?? defaultAddBos,
            AddEos = md.GetBool("tokenizer.ggml.add_eos_token") ?? defaultAddEos,
            AddSpacePrefix = md.GetBool("tokenizer.ggml.add_space_prefix") ?? defaultSpacePrefix,
            ModelName = md.GetString("general.name"),
        };
    }

    private static TokenType[] ReadTypes(GgufMetadata md, string file, int count)
    {
        var arr = md.GetArray("tokenizer.ggml.token_type");
        if (arr is null) return Enumerable.Repeat(TokenType.Normal, count).ToArray();
        if (arr.Count != count) throw new TokenizerFormatException($"{file}: {count} tokens but {arr.Count} token types.");
        var result = new TokenType[count];
        for (int i = 0; i < count; i++)
        {
            long t = Convert.ToInt64(arr.Values.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
            result[i] = t is >= 0 and <= 6 ? (TokenType)t : TokenType.Undefined;
        }
        return result;
    }

    private static int? Find(string[] tokens, string text)
    {
        int i = Array.IndexOf(tokens, text);
        return i >= 0 ? i : null;
    }

    // Chat models mark the end of a turn with one of these; llama.cpp looks them up by text when no id is given.
    private static readonly string[] EotTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<|end_of_text|>", "<｜end▁of▁sentence｜>"];

    private static int? FindEot(string[] tokens)
    {
        foreach (var t in EotTexts)
            if (Find(tokens, t) is { } id) return id;
        return null;
    }
}
