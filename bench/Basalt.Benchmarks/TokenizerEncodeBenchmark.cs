using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Basalt.Gguf;
using Basalt.Tokenizers;

namespace Basalt.Benchmarks;

/// <summary>
/// Encode throughput of the BPE (GPT-2) and SPM (Llama 2) tokenizers on about 300 KB of mixed text:
/// English prose, code, digits, Cyrillic, CJK and emoji, built from llama.cpp's tokenizer test inputs.
/// Every operation encodes the whole text once; the MB/s column is UTF-8 bytes per second (10^6).
/// The BPE word cache is warm after the first operation, so the figure is the steady state for
/// text whose words have been seen before.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class TokenizerEncodeBenchmark
{
    /// <summary>Approximate size of the benchmark text in UTF-8 bytes.</summary>
    public const int TargetBytes = 300_000;

    private Tokenizer _tokenizer = null!;
    private string _text = "";

    /// <summary>The vocabulary: shared/testdata/tokenizers/ggml-vocab-NAME.gguf.</summary>
    [Params("gpt-2", "llama-spm")]
    public string Vocab { get; set; } = "";

    /// <summary>Loads the vocabulary and builds the text.</summary>
    [GlobalSetup]
    public void Setup()
    {
        using var file = GgufFile.Open(SharedPaths.File($"testdata/tokenizers/ggml-vocab-{Vocab}.gguf"));
        _tokenizer = Tokenizer.FromGguf(file);
        _text = BenchmarkText.Value;
    }

    /// <summary>Encodes the whole text without special-token handling, as the llama.cpp vectors do.</summary>
    [Benchmark]
    public int Encode() => _tokenizer.Encode(_text, addSpecial: false, parseSpecial: false).Length;

    /// <summary>The text, the same in the host and the benchmark processes.</summary>
    internal static readonly Lazy<string> BenchmarkText = new(BuildText);

    /// <summary>UTF-8 size of <see cref="BenchmarkText"/>: the bytes processed per operation.</summary>
    internal static int TextBytes => Encoding.UTF8.GetByteCount(BenchmarkText.Value);

    private static string BuildText()
    {
        // All 46 cases of the llama.cpp test input; repeated until the target size is reached. Each
        // round is numbered so that the text is not one block repeated verbatim.
        string cases = File.ReadAllText(SharedPaths.File("testdata/tokenizers/ggml-vocab-gpt-2.gguf.inp"), Encoding.UTF8)
            .Replace("\n__ggml_vocab_test__\n", "\n", StringComparison.Ordinal);
        var sb = new StringBuilder(TargetBytes);
        for (int round = 0; Encoding.UTF8.GetByteCount(sb.ToString()) < TargetBytes; round++)
            sb.Append("Section ").Append(round).Append(":\n").Append(cases);
        return sb.ToString();
    }

    /// <summary>Adds the MB/s column.</summary>
    private sealed class ThroughputConfig : ManualConfig
    {
        public ThroughputConfig() => AddColumn(new RateColumn("MB/s",
            $"UTF-8 MB (10^6 bytes) encoded per second; {TextBytes:N0} bytes per operation", _ => TextBytes / 1e6));
    }
}
