using System.CommandLine;
using System.Text.Json;
using Basalt.Gguf;
using Basalt.Tokenizers;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt tokenize -m MODEL (--text T | --file F) [--no-bos] [--no-parse-special] [--json]</c>:
/// text to token ids with the model's own vocabulary.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new Option<string>("--model", "-m") { Description = "Path to a .gguf file, or a model name in the data directory.", Required = true };
        var text = new Option<string?>("--text") { Description = "The text to tokenize." };
        var file = new Option<string?>("--file", "-f") { Description = "Read the text from this UTF-8 file (exactly, no trimming)." };
        var noBos = new Option<bool>("--no-bos") { Description = "Add no BOS/EOS tokens even when the vocabulary asks for them." };
        var noParseSpecial = new Option<bool>("--no-parse-special") { Description = "Treat special-token text such as <s> as plain text." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with ids and pieces." };
        var command = new Command("tokenize", "Turn text into the model's token ids.") { model, text, file, noBos, noParseSpecial, json };
        command.SetAction(parse =>
        {
            string input = ReadInput(parse.GetValue(text), parse.GetValue(file));
            using var gguf = GgufFile.Open(ModelLocator.Resolve(parse.GetRequiredValue(model)));
            var tokenizer = Tokenizer.FromGguf(gguf);
            int[] ids = tokenizer.Encode(input, addSpecial: !parse.GetValue(noBos), parseSpecial: !parse.GetValue(noParseSpecial));
            string[] pieces = ids.Select(id => Piece(tokenizer, id)).ToArray();
            if (parse.GetValue(json))
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteStartArray("ids");
                    foreach (int id in ids) w.WriteNumberValue(id);
                    w.WriteEndArray();
                    w.WriteStartArray("pieces");
                    foreach (var p in pieces) w.WriteStringValue(p);
                    w.WriteEndArray();
                    w.WriteNumber("count", ids.Length);
                });
            }
            else
            {
                for (int i = 0; i < ids.Length; i++)
                    stdout.WriteLine($"{ids[i],6} -> {JsonSerializer.Serialize(pieces[i], JsonEscaping.Options)}");
                stdout.WriteLine($"{ids.Length} tokens");
            }
            return 0;
        });
        return command;
    }

    private static string ReadInput(string? text, string? file)
    {
        if ((text is null) == (file is null))
            throw new CliUsageException("give exactly one of --text TEXT or --file FILE.");
        if (text is not null) return text;
        return TextInput.ReadUtf8File(file!);
    }

    /// <summary>
    /// The token's text with special tokens shown. A token that is only part of a UTF-8 character
    /// (a byte-fallback token, or a byte-level BPE fragment) is shown as its vocabulary entry instead,
    /// so that no information is lost to U+FFFD.
    /// </summary>
    private static string Piece(Tokenizer tokenizer, int id)
    {
        return TextInput.TryDecode(tokenizer.TokenToBytes(id, renderSpecial: true)) ?? tokenizer.Vocabulary.Tokens[id];
    }
}
