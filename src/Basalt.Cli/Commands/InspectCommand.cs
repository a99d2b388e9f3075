using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Basalt.Gguf;
using Basalt.Tensors;
using Basalt.Tokenizers;

namespace Basalt.Cli.Commands;

/// <summary><c>basalt inspect MODEL [--json]</c>: what a GGUF file holds.</summary>
internal static class InspectCommand
{
    // Arrays longer than this are summarised (type and count) rather than listed.
    private const int ShortArray = 16;

    public static Command Create(TextWriter stdout)
    {
        var model = new Argument<string>("MODEL") { Description = "Path to a .gguf file, or a model name in the data directory." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("inspect", "Show a model file's architecture, hyperparameters, vocabulary and tensors.") { model, json };
        command.SetAction(parse =>
        {
            string path = ModelLocator.Resolve(parse.GetRequiredValue(model));
            using var file = GgufFile.Open(path);
            var vocab = TryLoadVocabulary(file);
            if (parse.GetValue(json)) WriteJson(stdout, file, vocab);
            else WriteText(stdout, file, vocab);
            return 0;
        });
        return command;
    }

    private static Vocabulary? TryLoadVocabulary(GgufFile file) =>
        file.Metadata.Contains("tokenizer.ggml.model") ? Vocabulary.FromGguf(file.Metadata, file.Path) : null;

    private static string Architecture(GgufFile file) => file.Metadata.GetString("general.architecture") ?? "unknown";

    private static long ParameterCount(GgufFile file) => file.Tensors.Sum(t => t.ElementCount);

    private static IEnumerable<KeyValuePair<string, GgufValue>> Hyperparameters(GgufFile file)
    {
        string prefix = Architecture(file) + ".";
        return file.Metadata.Entries.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static void WriteText(TextWriter o, GgufFile file, Vocabulary? vocab)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"file          {file.Path}");
        o.WriteLine($"format        GGUF v{file.Version}, {Size(file.Length)}, alignment {file.Alignment}, data at byte {file.DataOffset}");
        o.WriteLine($"architecture  {Architecture(file)}");
        o.WriteLine($"name          {file.Metadata.GetString("general.name") ?? "-"}");
        o.WriteLine($"tensors       {file.Tensors.Count}, {Count(ParameterCount(file))} parameters");
        var types = file.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} × {g.Count()}");
        if (file.Tensors.Count > 0) o.WriteLine($"weight types  {string.Join(", ", types)}");

        o.WriteLine();
        o.WriteLine("hyperparameters");
        string prefix = Architecture(file) + ".";
        foreach (var (key, value) in Hyperparameters(file))
            o.WriteLine($"  {key[prefix.Length..],-40} {Render(value)}");

        o.WriteLine();
        o.WriteLine("vocabulary");
        if (vocab is null) o.WriteLine("  none");
        else
        {
            o.WriteLine($"  {"model",-40} {file.Metadata.GetString("tokenizer.ggml.model")} ({vocab.Kind})");
            o.WriteLine($"  {"pre-tokenizer",-40} {vocab.Pre ?? "-"}");
            o.WriteLine($"  {"tokens",-40} {vocab.Count.ToString(inv)}");
            if (vocab.Merges.Length > 0) o.WriteLine($"  {"merges",-40} {vocab.Merges.Length.ToString(inv)}");
            foreach (var (label, id) in SpecialIds(vocab))
                o.WriteLine($"  {label,-40} {id} {Quote(vocab.Tokens[id])}");
            o.WriteLine($"  {"add_bos / add_eos / add_space_prefix",-40} {Bool(vocab.AddBos)} / {Bool(vocab.AddEos)} / {Bool(vocab.AddSpacePrefix)}");
            if (file.Metadata.GetString("tokenizer.chat_template") is { } template)
                o.WriteLine($"  {"chat_template",-40} {template.Length} characters");
        }

        o.WriteLine();
        o.WriteLine("other metadata");
        foreach (var (key, value) in file.Metadata.Entries)
            if (!key.StartsWith(prefix, StringComparison.Ordinal) && !key.StartsWith("tokenizer.", StringComparison.Ordinal))
                o.WriteLine($"  {key,-40} {Render(value)}");

        if (file.Tensors.Count == 0) return;
        o.WriteLine();
        int nameWidth = Math.Max(4, file.Tensors.Max(t => t.Name.Length));
        o.WriteLine($"  {"name".PadRight(nameWidth)}  {"type",-8} {"shape",-22} {"bytes",12}");
        foreach (var t in file.Tensors)
            o.WriteLine($"  {t.Name.PadRight(nameWidth)}  {t.Type,-8} {t.ShapeText,-22} {t.ByteSize.ToString(inv),12}");
    }

    private static IEnumerable<(string Label, int Id)> SpecialIds(Vocabulary v)
    {
        var ids = new (string, int?)[] { ("bos", v.Bos), ("eos", v.Eos), ("eot", v.Eot), ("unk", v.Unk), ("sep", v.Sep), ("pad", v.Pad), ("cls", v.Cls), ("mask", v.Mask) };
        foreach (var (label, id) in ids)
            if (id is int i) yield return (label, i);
    }

    private static void WriteJson(TextWriter o, GgufFile file, Vocabulary? vocab) => JsonOutput.Write(o, w =>
    {
        w.WriteString("file", file.Path);
        w.WriteNumber("file_size", file.Length);
        w.WriteNumber("version", file.Version);
        w.WriteNumber("alignment", file.Alignment);
        w.WriteNumber("data_offset", file.DataOffset);
        w.WriteString("architecture", Architecture(file));
        w.WriteString("name", file.Metadata.GetString("general.name"));
        w.WriteNumber("tensor_count", file.Tensors.Count);
        w.WriteNumber("parameter_count", ParameterCount(file));

        string prefix = Architecture(file) + ".";
        w.WriteStartObject("hyperparameters");
        foreach (var (key, value) in Hyperparameters(file))
        {
            w.WritePropertyName(key[prefix.Length..]);
            WriteValue(w, value);
        }
        w.WriteEndObject();

        if (vocab is null) w.WriteNull("vocabulary");
        else
        {
            w.WriteStartObject("vocabulary");
            w.WriteString("model", file.Metadata.GetString("tokenizer.ggml.model"));
            w.WriteString("pre", vocab.Pre);
            w.WriteNumber("size", vocab.Count);
            w.WriteNumber("merges", vocab.Merges.Length);
            foreach (var (label, id) in SpecialIds(vocab)) w.WriteNumber(label + "_token_id", id);
            w.WriteBoolean("add_bos", vocab.AddBos);
            w.WriteBoolean("add_eos", vocab.AddEos);
            w.WriteBoolean("add_space_prefix", vocab.AddSpacePrefix);
            w.WriteEndObject();
        }

        w.WriteStartObject("metadata");
        foreach (var (key, value) in file.Metadata.Entries)
        {
            w.WritePropertyName(key);
            WriteValue(w, value);
        }
        w.WriteEndObject();

        w.WriteStartArray("tensors");
        foreach (var t in file.Tensors)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("type", t.Type.ToString());
            w.WriteStartArray("shape");
            foreach (var d in t.Dimensions) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteNumber("offset", file.DataOffset + t.Offset);
            w.WriteNumber("bytes", t.ByteSize);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    private static void WriteValue(Utf8JsonWriter w, GgufValue value)
    {
        switch (value.Value)
        {
            case GgufArray a when a.Count > ShortArray:
                w.WriteStartObject();
                w.WriteString("type", $"array[{a.ElementType}]");
                w.WriteNumber("count", a.Count);
                w.WriteEndObject();
                break;
            case GgufArray a:
                w.WriteStartArray();
                foreach (var item in a.Values) WriteValue(w, new GgufValue(a.ElementType, item!));
                w.WriteEndArray();
                break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case float f when float.IsFinite(f): w.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case float or double: w.WriteStringValue(value.ToString()); break;
            case ulong u: w.WriteNumberValue(u); break;
            default: w.WriteNumberValue(value.AsInt64()); break;
        }
    }

    private static string Render(GgufValue value) => value.Value switch
    {
        GgufArray { Count: <= ShortArray } a => "[" + string.Join(", ", a.Values.Cast<object>().Select(v => Render(new GgufValue(a.ElementType, v)))) + "]",
        string s => Quote(s.Length > 80 ? s[..77] + "..." : s),
        _ => value.ToString(),
    };

    private static string Quote(string s) => JsonSerializer.Serialize(s, JsonEscaping.Options);

    private static string Bool(bool b) => b ? "true" : "false";

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.00} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };

    private static string Count(long n) => n switch
    {
        >= 1_000_000_000 => $"{n / 1e9:0.00} B",
        >= 1_000_000 => $"{n / 1e6:0.00} M",
        >= 1_000 => $"{n / 1e3:0.0} K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
