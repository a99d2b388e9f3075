using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// The product that follows a job, as far as its threads need to know it: where each thread's share of its weights
/// starts (the split <see cref="StealingRanges"/> makes of the row groups of all its matrices), so that a thread with
/// nothing left to do can read the first bytes of its share while the others finish and, for a single token, while
/// the caller runs the per-token steps between the two (with more tokens those steps are a job of their own, which
/// ends the read-ahead). Two threads decoding stream the weights at about twice one thread's rate only while both
/// read; the read-ahead keeps a waiting thread reading.
/// </summary>
internal sealed class NextProduct
{
    /// <summary>Bytes a thread reads ahead at most: a fifth of a 1 MiB L2, so the next product finds them there.</summary>
    public const long MaxBytes = 192 << 10;

    private readonly WeightTensor?[] _w = new WeightTensor?[MatMulJob.MaxParts];
    private int _parts, _groups;

    /// <summary>Takes the matrices of the next product (none: nothing to read ahead). Matrices that are not packed are not read ahead.</summary>
    public void Set(ReadOnlySpan<WeightTensor> next)
    {
        Array.Clear(_w);
        _parts = _groups = 0;
        if (next.Length > _w.Length) throw new ArgumentException($"A product has at most {_w.Length} matrices.", nameof(next));
        foreach (var w in next)
        {
            if (w.Packed is not { } packed)
            {
                _parts = _groups = 0; // the product runs row by row: no group split to follow
                return;
            }
            _w[_parts++] = w;
            _groups += packed.Groups;
        }
    }

    /// <summary>The first bytes of <paramref name="thread"/>'s share of the next product (not past the share, nor past the matrix it starts in).</summary>
    public ReadAhead ReadAhead(int thread, int threadCount)
    {
        if (_groups == 0) return default; // nothing named, or a matrix not packed
        var (start, end) = WorkerPool.Share(_groups, thread, threadCount);
        for (int j = 0; j < _parts; j++)
        {
            var packed = _w[j]!.Packed!;
            if (start < packed.Groups) return packed.ReadAheadOf(start, end, MaxBytes);
            start -= packed.Groups;
            end -= packed.Groups;
        }
        return default;
    }
}
