using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Basalt.Inference.Quantization;
using Basalt.Tensors;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt quantize IN OUT TYPE [--pure] [--allow-requantize] [--json]</c>: converts a model to a quantization
/// preset with llama-quantize's per-tensor choices.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var input = new Argument<string>("IN") { Description = "The model to convert: a .gguf path or a model name in the data directory." };
        var output = new Argument<string>("OUT") { Description = "The .gguf file to write." };
        var type = new Argument<string>("TYPE")
        {
            Description = $"Target: {string.Join(", ", QuantizationPreset.All.Select(p => p.Name))} (Q3_K, Q4_K, Q5_K mean the _M mixes).",
        };
        var pure = new Option<bool>("--pure") { Description = "Give every quantizable matrix the preset's type (no k-quant mix, output not bumped)." };
        var requantize = new Option<bool>("--allow-requantize") { Description = "Allow converting tensors that are already quantized." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object describing the result." };
        var command = new Command("quantize", "Convert a model to another weight type (F16, Q8_0, Q4_K_M, ...) as llama-quantize does.")
        {
            input, output, type, pure, requantize, json,
        };
        command.SetAction(parse =>
        {
            string typeName = parse.GetRequiredValue(type);
            if (!QuantizationPreset.TryParse(typeName, out var preset))
                throw new CliUsageException($"unknown type '{typeName}'; expected one of {string.Join(", ", QuantizationPreset.All.Select(p => p.Name))}.");
            string inPath = ModelLocator.Resolve(parse.GetRequiredValue(input));
            string outPath = parse.GetRequiredValue(output);
            bool asJson = parse.GetValue(json);
            var clock = Stopwatch.StartNew();
            IReadOnlyList<TensorPlan> plan;
            try
            {
                plan = ModelQuantizer.Quantize(inPath, outPath, preset, parse.GetValue(pure), parse.GetValue(requantize),
                    asJson ? null : t => stderr.WriteLine($"{t.Name,-32} {string.Join(" x ", t.Dimensions),-16} {t.SourceType,-5} -> {t.TargetType}"));
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
                    w.WriteString("type", preset.Name);
                    w.WriteNumber("file_type", (uint)preset.FileType);
                    w.WriteNumber("bytes", bytes);
                    w.WriteNumber("seconds", seconds);
                    w.WriteStartObject("tensor_types");
                    foreach (var t in plan) w.WriteString(t.Name, t.TargetType.ToString());
                    w.WriteEndObject();
                });
            }
            else
            {
                var counts = plan.GroupBy(t => t.TargetType).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}");
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {outPath} ({preset.Name}, {bytes / 1048576.0:F2} MiB, {seconds:F1} s); tensors {string.Join(", ", counts)}"));
            }
            return 0;
        });
        return command;
    }
}
