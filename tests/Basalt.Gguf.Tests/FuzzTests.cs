using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;

namespace Basalt.Gguf.Tests;

/// <summary>
/// Feeds truncated and corrupted copies of real files to the reader. Whatever the damage, the only
/// acceptable failure is <see cref="GgufFormatException"/>; a successful parse must give tensor
/// views that lie inside the buffer. Seeds are fixed so any failure reproduces.
/// </summary>
public sealed class FuzzTests
{
    public static TheoryData<string, int, int> Files() => new()
    {
        // file, truncations sampled past the first 4 KiB, mutated copies
        { "models/stories260K.gguf", 1000, 10000 },
        { "models/quant/tiny-random-256.Q4_K.gguf", 1000, 10000 },
        { "testdata/tokenizers/ggml-vocab-llama-spm.gguf", 500, 2000 },
    };

    /// <summary>Slowest single parse allowed; a reader that loops on bad input trips it.</summary>
    private static readonly TimeSpan MaxParse = TimeSpan.FromSeconds(2);

    [Theory]
    [MemberData(nameof(Files))]
    public void TruncatedCopiesFailCleanly(string relative, int sampledTruncations, int mutations)
    {
        _ = mutations;
        byte[] original = File.ReadAllBytes(SharedData.File(relative));
        var (_, metadataEnd) = GgufFieldMap.Map(original);
        var failures = new List<string>();
        var rng = new Random(1234);

        // Every length through the header and metadata while that stays cheap; beyond, a sample
        // (vocab-only files are all metadata, and every prefix of a 700 KB file would take minutes).
        int exhaustive = Math.Min(metadataEnd + 64, 16 * 1024);
        var lengths = Enumerable.Range(0, exhaustive)
            .Concat(Enumerable.Range(0, sampledTruncations).Select(_ => rng.Next(exhaustive, original.Length)))
            .Append(original.Length - 1);
        foreach (int length in lengths)
            Check(original.AsSpan(0, length).ToArray(), $"{relative} truncated to {length} bytes", failures);
        AssertNoFailures(failures);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void MutatedCopiesFailCleanly(string relative, int sampledTruncations, int mutations)
    {
        _ = sampledTruncations;
        byte[] original = File.ReadAllBytes(SharedData.File(relative));
        var (u64Fields, metadataEnd) = GgufFieldMap.Map(original);
        byte[] work = (byte[])original.Clone();
        var failures = new List<string>();
        var rng = new Random(relative.Length * 7919 + 17);
        ulong[] lies = [ulong.MaxValue, 1UL << 63, long.MaxValue, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, 1UL << 40];

        for (int i = 0; i < mutations; i++)
        {
            var changed = new List<int>();
            string what;
            int kind = rng.Next(4);
            if (kind < 2)
            {
                // Flip a few bytes, mostly inside the structured part where they matter.
                int flips = rng.Next(1, 5);
                for (int f = 0; f < flips; f++)
                {
                    int at = rng.Next(8) == 0 ? rng.Next(original.Length) : rng.Next(Math.Min(metadataEnd + 32, original.Length));
                    work[at] ^= (byte)rng.Next(1, 256);
                    changed.Add(at);
                }
                what = "byte flips";
            }
            else
            {
                int at = u64Fields[rng.Next(u64Fields.Count)];
                ulong remaining = (ulong)(original.Length - at);
                ulong lie = kind == 2 ? lies[rng.Next(lies.Length)] : remaining + (ulong)rng.Next(-16, 64);
                BinaryPrimitives.WriteUInt64LittleEndian(work.AsSpan(at), lie);
                changed.AddRange(Enumerable.Range(at, 8));
                what = $"u64 at {at} set to {lie}";
            }
            Check(work, $"{relative} mutation #{i} ({what}; bytes {string.Join(",", changed)})", failures);
            foreach (int at in changed) work[at] = original[at];
            if (failures.Count >= 5) break;
        }
        AssertNoFailures(failures);
    }

    private static void Check(byte[] bytes, string description, List<string> failures)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var file = GgufFile.Parse(bytes, "fuzz.gguf");
            // What did parse must be safe to use: every view inside the buffer, every value printable.
            foreach (var t in file.Tensors)
            {
                long start = file.DataOffset + t.Offset;
                if (start < 0 || start + t.ByteSize > bytes.Length)
                    failures.Add($"{description}: tensor '{t.Name}' spans {start}..{start + t.ByteSize} outside {bytes.Length} bytes");
                _ = file.GetTensorData(t).Length;
            }
            foreach (var (_, v) in file.Metadata.Entries) _ = v.ToString();
        }
        catch (GgufFormatException e)
        {
            if (e.Offset < 0 || e.Offset > bytes.Length || !e.Message.StartsWith("fuzz.gguf: invalid GGUF at byte ", StringComparison.Ordinal))
                failures.Add($"{description}: bad error report: {e.Message}");
        }
        catch (Exception e)
        {
            failures.Add($"{description}: {e.GetType().Name}: {e.Message}");
        }
        if (clock.Elapsed > MaxParse) failures.Add($"{description}: took {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static void AssertNoFailures(List<string> failures)
    {
        if (failures.Count == 0) return;
        var text = new StringBuilder($"{failures.Count} case(s) failed:");
        foreach (var f in failures.Take(5)) text.Append('\n').Append(f);
        Assert.Fail(text.ToString());
    }
}
