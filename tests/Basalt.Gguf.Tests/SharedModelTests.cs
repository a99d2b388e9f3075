namespace Basalt.Gguf.Tests;

/// <summary>Sanity checks over every shared model file, through the memory-mapped reader.</summary>
public sealed class SharedModelTests
{
    public static TheoryData<string> Models() => new(SharedData.ModelFiles());

    public static TheoryData<string> VocabFiles() =>
        new(SharedData.AllGgufFiles().Where(f => f.StartsWith("testdata/tokenizers/", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(Models))]
    public void TensorViewsLieInsideTheFile(string relative)
    {
        using var file = GgufFile.Open(SharedData.File(relative));
        Assert.NotEmpty(file.Tensors);
        Assert.Equal(0, file.DataOffset % file.Alignment);
        unsafe
        {
            fixed (byte* start = file.RawBytes)
            {
                byte* end = start + file.Length;
                foreach (var t in file.Tensors)
                {
                    var data = file.GetTensorData(t);
                    Assert.Equal(t.ByteSize, data.Length);
                    fixed (byte* p = data)
                    {
                        Assert.True(p >= start + file.DataOffset && p + data.Length <= end,
                            $"{relative}: tensor '{t.Name}' at offset {t.Offset} ({t.ByteSize} bytes) is outside the file");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void MetadataNamesTheArchitecture(string relative)
    {
        using var file = GgufFile.Open(SharedData.File(relative));
        string? arch = file.Metadata.GetString("general.architecture");
        Assert.False(string.IsNullOrEmpty(arch), $"{relative} has no general.architecture");
        Assert.Contains(file.Version, new uint[] { 2, 3 });
    }

    [Theory]
    [MemberData(nameof(VocabFiles))]
    public void VocabFilesHaveTokensAndNoTensors(string relative)
    {
        using var file = GgufFile.Open(SharedData.File(relative));
        Assert.Empty(file.Tensors);
        var tokens = file.Metadata.GetArray<string>("tokenizer.ggml.tokens");
        Assert.NotNull(tokens);
        Assert.NotEmpty(tokens);
    }

    [Fact]
    public void FindsTensorsByName()
    {
        using var file = GgufFile.Open(SharedData.File("models/stories260K.gguf"));
        var first = file.Tensors[0];
        Assert.Same(first, file.FindTensor(first.Name));
        Assert.Null(file.FindTensor("no.such.tensor"));
    }

    [Fact]
    public void DisposedFileRefusesViews()
    {
        var file = GgufFile.Open(SharedData.File("models/stories260K.gguf"));
        var t = file.Tensors[0];
        file.Dispose();
        file.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => file.GetTensorData(t).Length);
    }
}
