using System.Text.Json;
using Basalt.Gguf;
using Basalt.Inference.Model;
using Basalt.Tensors;

namespace Basalt.Cli.Tests;

/// <summary>
/// <c>basalt quantize</c> against llama-quantize: the tiny-random-256 files were made by llama-quantize from the F32
/// file (no importance matrix), so converting that file must give the same per-tensor types, and in fact the same
/// bytes, for every preset and <c>--pure</c> target.
/// </summary>
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("basalt-quantize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Quant(string type) => SharedData.Path("models", "quant", $"tiny-random-256.{type}.gguf");

    public static TheoryData<string, bool> Targets => new()
    {
        { "Q4_K_M", false }, { "Q5_K_M", false }, { "Q3_K_M", false },
        { "F16", true }, { "BF16", true }, { "Q8_0", true }, { "Q4_0", true }, { "Q4_1", true }, { "Q5_0", true },
        { "Q5_1", true }, { "Q2_K", true }, { "Q3_K", true }, { "Q4_K", true }, { "Q5_K", true }, { "Q6_K", true },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public void ConvertingTheF32File_ReproducesLlamaQuantizesFile(string type, bool pure)
    {
        string output = Path.Combine(_dir, $"{type}.gguf");
        string[] args = pure ? ["quantize", Quant("F32"), output, type, "--pure", "--json"] : ["quantize", Quant("F32"), output, type, "--json"];
        var (exit, stdout, stderr) = CliRunner.Run(args);
        Assert.True(exit == 0, stderr);

        using (var mine = GgufFile.Open(output))
        using (var theirs = GgufFile.Open(Quant(type)))
        {
            Assert.Equal(theirs.Tensors.Select(t => (t.Name, t.Type)), mine.Tensors.Select(t => (t.Name, t.Type)));
            Assert.Equal(theirs.Metadata.Get("general.file_type").Value, mine.Metadata.Get("general.file_type").Value);
            Assert.Equal(2u, mine.Metadata.Get("general.quantization_version").Value);
        }
        Assert.True(File.ReadAllBytes(Quant(type)).AsSpan().SequenceEqual(File.ReadAllBytes(output)), $"{type}: the file differs from llama-quantize's");

        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(21, doc.RootElement.GetProperty("tensor_types").EnumerateObject().Count());
    }

    [Fact]
    public void QuantizedOutput_LoadsAndGenerates()
    {
        string output = Path.Combine(_dir, "q4km.gguf");
        Assert.Equal(0, CliRunner.Run("quantize", Quant("F32"), output, "Q4_K_M").Exit);
        using (var model = TransformerModel.Load(output))
        {
            Assert.Equal(GgmlType.Q6_K, model.File.FindTensor("output.weight")!.Type);
        }
        var (exit, stdout, stderr) = CliRunner.Run("generate", "-m", output, "-p", "Once upon a time", "-n", "4", "--temperature", "0", "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(4, doc.RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void UnknownTypeAndRequantizing_AreUserErrors()
    {
        var (exit, _, stderr) = CliRunner.Run("quantize", Quant("F32"), Path.Combine(_dir, "x.gguf"), "Q7_K");
        Assert.Equal(BasaltCli.UserError, exit);
        Assert.Contains("unknown type 'Q7_K'", stderr);

        (exit, _, stderr) = CliRunner.Run("quantize", Quant("Q8_0"), Path.Combine(_dir, "y.gguf"), "Q4_0");
        Assert.Equal(BasaltCli.UserError, exit);
        Assert.Contains("requantiz", stderr);
        Assert.Equal(0, CliRunner.Run("quantize", Quant("Q8_0"), Path.Combine(_dir, "y.gguf"), "Q4_0", "--allow-requantize").Exit);
    }
}
