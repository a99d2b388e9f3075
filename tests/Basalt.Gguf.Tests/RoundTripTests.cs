namespace Basalt.Gguf.Tests;

/// <summary>Reading any shared GGUF file and writing it back must reproduce it byte for byte.</summary>
public sealed class RoundTripTests
{
    public static TheoryData<string> AllFiles() => new(SharedData.AllGgufFiles());

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void CopyIsByteIdentical(string relative)
    {
        using var file = GgufFile.Open(SharedData.File(relative));
        using var copy = new MemoryStream();
        GgufWriter.Copy(file, copy);
        AssertSameBytes(file.RawBytes, copy.GetBuffer().AsSpan(0, (int)copy.Length));
    }

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void RebuildingFromPartsIsByteIdentical(string relative)
    {
        // The packed-offset path (what a converter would use) must land on the same layout as llama.cpp.
        using var file = GgufFile.Open(SharedData.File(relative));
        var writer = new GgufWriter(file.Version);
        foreach (var (k, v) in file.Metadata.Entries) writer.Add(k, v);
        foreach (var t in file.Tensors) writer.AddTensor(t.Name, t.Dimensions, t.Type, file.GetTensorData(t).ToArray());
        using var rebuilt = new MemoryStream();
        writer.WriteTo(rebuilt);
        AssertSameBytes(file.RawBytes, rebuilt.GetBuffer().AsSpan(0, (int)rebuilt.Length));
    }

    [Fact]
    public void SharedDataIsPresent()
    {
        Assert.Contains("models/stories260K.gguf", SharedData.AllGgufFiles());
        Assert.Contains("testdata/tokenizers/ggml-vocab-deepseek-llm.gguf", SharedData.AllGgufFiles());
    }

    /// <summary>Reports the first differing offset instead of dumping megabytes of bytes.</summary>
    internal static void AssertSameBytes(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        if (expected.SequenceEqual(actual)) return;
        int common = Math.Min(expected.Length, actual.Length);
        int first = expected[..common].CommonPrefixLength(actual[..common]);
        string at = first < common
            ? $"first difference at byte {first}: expected 0x{expected[first]:X2}, got 0x{actual[first]:X2}"
            : "one is a prefix of the other";
        Assert.Fail($"Output differs: expected {expected.Length} bytes, got {actual.Length}; {at}.");
    }
}
