using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Basalt.Inference.Quantization;
using Basalt.Inference.Synthesis;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt create-model --shape NAME --type TYPE OUT [--seed S] [--vocab FILE] [--json]</c>: a random-weight model of
/// a real model's shape, so benchmarks need no download.
/// </summary>
internal static class CreateModelCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        string shapes = string.Join(", ", ModelShapes.All.Select(s => s.Name));
        var shape = new Option<string>("--shape") { Description = $"The shape: {shapes}.", Required = true };
        var type = new Option<string>("--type") { Description = "Weight type, as for quantize (F16, Q8_0, Q4_K_M, ...).", DefaultValueFactory = _ => "F16" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights (same seed, same file).", DefaultValueFactory = _ => 0 };
        var vocab = new Option<string?>("--vocab")
        {
            Description = "GGUF to copy the tokenizer from (default: the shape's vocabulary file in the shared test data).",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object describing the result." };
        var output = new Argument<string>("OUT") { Description = "The .gguf file to write." };
        var command = new Command("create-model", "Write a random-weight model with the shape of a real one (for benchmarks).")
        {
            output, shape, type, seed, vocab, json,
        };
        command.SetAction(parse =>
        {
            string shapeName = parse.GetRequiredValue(shape);
            var s = ModelShapes.Find(shapeName) ?? throw new CliUsageException($"unknown shape '{shapeName}'; expected one of {shapes}.");
            string typeName = parse.GetValue(type)!;
            if (!QuantizationPreset.TryParse(typeName, out var preset))
                throw new CliUsageException($"unknown type '{typeName}'; expected one of {string.Join(", ", QuantizationPreset.All.Select(p => p.Name))}.");
            string vocabPath = parse.GetValue(vocab) ?? FindSharedFile(s.VocabularyFile);
            string outPath = parse.GetRequiredValue(output);
            bool asJson = parse.GetValue(json);
            var clock = Stopwatch.StartNew();
            IReadOnlyList<TensorPlan> plan;
            try
            {
                plan = RandomModelWriter.Write(s, preset, outPath, vocabPath, parse.GetValue(seed),
                    asJson ? null : t => stderr.WriteLine($"{t.Name,-32} {string.Join(" x ", t.Dimensions),-16} {t.TargetType}"));
            }
            catch (Exception e) when (e is NotSupportedException or ArgumentException)
            {
                throw new CliUsageException(e.Message.Split(" (Parameter")[0]);
            }
            long bytes = new FileInfo(outPath).Length;
            double seconds = clock.Elapsed.TotalSeconds;
            if (asJson)
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteString("output", Path.GetFullPath(outPath));
                    w.WriteString("shape", s.Name);
                    w.WriteString("type", preset.Name);
                    w.WriteNumber("parameters", s.ParameterCount);
                    w.WriteNumber("bytes", bytes);
                    w.WriteNumber("seconds", seconds);
                });
            }
            else
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {outPath} ({s.Name}, {preset.Name}, {s.ParameterCount / 1e6:F1} M parameters, {bytes / 1048576.0:F1} MiB, {seconds:F1} s)"));
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Finds a file of the shared test data: under <c>$BASALT_SHARED</c>, else in a <c>shared</c> folder beside or
    /// above the working directory or the program.
    /// </summary>
    private static string FindSharedFile(string relative)
    {
        if (Path.IsPathRooted(relative)) return relative;
        var roots = new List<string>();
        if (Environment.GetEnvironmentVariable("BASALT_SHARED") is { Length: > 0 } env) roots.Add(env);
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent) roots.Add(Path.Combine(dir.FullName, "shared"));
        }
        foreach (var root in roots)
        {
            string candidate = Path.Combine(root, relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new CliUsageException($"vocabulary file {relative} not found in a 'shared' folder (set BASALT_SHARED or pass --vocab FILE).");
    }
}
