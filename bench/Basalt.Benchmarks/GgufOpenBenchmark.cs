using BenchmarkDotNet.Attributes;
using Basalt.Gguf;

namespace Basalt.Benchmarks;

/// <summary>
/// Cost of opening a GGUF file: mapping it and parsing header, metadata and tensor infos, then
/// unmapping. Tensor data is never touched, so this measures start-up overhead, not I/O bandwidth.
/// </summary>
[MemoryDiagnoser]
public class GgufOpenBenchmark
{
    private string _path = "";

    /// <summary>Which file to open: the largest shared model, or a 100k-token vocab-only file.</summary>
    [Params("largest-model", "vocab-deepseek-llm")]
    public string File { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _path = File switch
        {
            "largest-model" => SharedPaths.LargestModel(),
            "vocab-deepseek-llm" => SharedPaths.File("testdata/tokenizers/ggml-vocab-deepseek-llm.gguf"),
            _ => throw new ArgumentException($"Unknown file parameter '{File}'."),
        };
        Console.WriteLine($"// GgufOpenBenchmark {File}: {_path} ({new FileInfo(_path).Length} bytes)");
    }

    /// <summary>Opens, parses and disposes the file; returns a count so the work cannot be dropped.</summary>
    [Benchmark]
    public int OpenAndDispose()
    {
        using var file = GgufFile.Open(_path);
        return file.Tensors.Count + file.Metadata.Count;
    }
}
