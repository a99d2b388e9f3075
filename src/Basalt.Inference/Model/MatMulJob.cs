using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Basalt.Tensors.Diagnostics;
using Basalt.Tensors.Packed;
using Basalt.Tensors.Quants;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// Y = X·Wᵀ for a batch of input rows, for one weight matrix or several that share the input (Q, K and V; gate and
/// up): each input row is converted once into the weights' activation format (once for all matrices that take the
/// same format), then the weight rows of all the matrices are split across the worker pool in one dispatch, and each
/// weight row is read once and multiplied with every input row while it is hot in cache. Every output is computed
/// the same way whatever the thread count, batch size or grouping of matrices, so results depend on none of them.
/// </summary>
internal sealed class MatMulJob : IParallelJob
{
    /// <summary>Most matrices one <see cref="Run(WorkerPool?, ReadOnlySpan{WeightTensor}, ReadOnlySpan{float[]}, float[], int, int)"/> takes.</summary>
    public const int MaxParts = 3;

    // Weight rows handled together, so that a tile of weights stays in L1 while the inputs stream past.
    private const int RowTile = 16;

    private readonly WeightTensor?[] _w = new WeightTensor?[MaxParts];
    private readonly float[][] _y = new float[MaxParts][];
    private readonly int[] _inputAt = new int[MaxParts];     // where each part's prepared inputs start in Prepared
    private readonly int[] _inputStride = new int[MaxParts]; // a multiple of InputAlignment
    private byte[] _preparedArray = [];                      // pinned, so that Prepared's alignment holds
    private int _preparedStart;                              // the first InputAlignment-aligned index of _preparedArray
    private readonly int[] _owner = new int[MaxParts];       // an earlier part whose prepared input a part shares, or -1
    private int _parts, _n;
    private long _rowsTimesN;
    private readonly StealingRanges _split = new();
    private int _totalGroups; // row groups of all the parts when every part is packed, else 0
    private readonly NextProduct _next = new();

    public MatMulJob(int maxBatch, int maxCols)
    {
        // F32 activations are the widest format: 4 bytes per element.
        Allocate(checked(maxBatch * AlignUp(maxCols * sizeof(float))));
    }

    /// <summary>
    /// Where each prepared input starts, in bytes. The kernels read an input's elements by broadcasting a few bytes at a
    /// time while they stream the weights; with the input a few bytes past a cache line boundary a one-input F16 product
    /// was measured streaming ~12% slower (24 against 27.5 GB/s, the same weights), so every input starts on a line.
    /// </summary>
    private const int InputAlignment = 64;

    private static int AlignUp(int bytes) => (bytes + InputAlignment - 1) & -InputAlignment;

    /// <summary>The prepared inputs: <see cref="_preparedArray"/> from its first aligned byte.</summary>
    private Span<byte> Prepared => _preparedArray.AsSpan(_preparedStart);

    private unsafe void Allocate(int bytes)
    {
        _preparedArray = GC.AllocateUninitializedArray<byte>(bytes + InputAlignment - 1, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_preparedArray));
        _preparedStart = (int)(-address & (InputAlignment - 1));
    }

    /// <summary>Y[n, r] = W.row(r) · X[n] for n &lt; <paramref name="n"/>; X rows are <paramref name="xStride"/> apart, Y rows W.Rows apart.</summary>
    public void Run(WorkerPool? pool, WeightTensor w, float[] x, int xStride, int n, float[] y) => Run(pool, [w], [y], x, xStride, n);

    /// <summary>
    /// The same for several matrices of the same width that multiply the same input: Y_j[n, r] = W_j.row(r) · X[n],
    /// in one dispatch to the pool.
    /// </summary>
    public void Run(WorkerPool? pool, ReadOnlySpan<WeightTensor> ws, ReadOnlySpan<float[]> ys, float[] x, int xStride, int n)
    {
        Prepare(ws, ys, n);
        for (int i = 0; i < n; i++) PrepareRow(i, x.AsSpan(i * xStride, ws[0].Cols));
        Multiply(pool);
    }

    /// <summary>
    /// First of the three stages of <see cref="Run(WorkerPool?, ReadOnlySpan{WeightTensor}, ReadOnlySpan{float[]}, float[], int, int)"/>,
    /// for callers that prepare the input rows themselves (on several threads): takes the matrices and outputs and lays
    /// out room for <paramref name="n"/> prepared inputs. Then <see cref="PrepareRow"/> for every row (any order, any
    /// thread, each row once), then <see cref="Multiply"/>.
    /// </summary>
    public void Prepare(ReadOnlySpan<WeightTensor> ws, ReadOnlySpan<float[]> ys, int n)
    {
        if (ws.Length is 0 or > MaxParts || ys.Length != ws.Length)
            throw new ArgumentException($"1..{MaxParts} matrices with one output each; got {ws.Length} and {ys.Length}.", nameof(ws));
        _parts = ws.Length;
        _n = n;
        _totalGroups = 0;
        bool allPacked = true;
        _rowsTimesN = 0;
        int at = 0;
        for (int j = 0; j < _parts; j++)
        {
            var w = ws[j];
            _w[j] = w;
            _y[j] = ys[j];
            allPacked &= w.Packed is not null;
            _totalGroups += w.Packed?.Groups ?? 0;
            _rowsTimesN += (long)w.Rows * n;
            _owner[j] = SameInputAs(ws, j);
            if (_owner[j] >= 0)
            {
                (_inputAt[j], _inputStride[j]) = (_inputAt[_owner[j]], _inputStride[_owner[j]]);
                continue;
            }
            int stride = AlignUp(w.QuantizedInputBytes);
            if (Prepared.Length < at + (long)n * stride) Allocate(checked(at + n * stride)); // nothing prepared yet to keep
            (_inputAt[j], _inputStride[j]) = (at, stride);
            at += n * stride;
        }
        if (!allPacked) _totalGroups = 0;
    }

    /// <summary>Converts input row <paramref name="i"/> (the matrices' width of floats) into every activation format the prepared matrices take.</summary>
    public void PrepareRow(int i, ReadOnlySpan<float> x)
    {
        for (int j = 0; j < _parts; j++)
            if (_owner[j] < 0)
                _w[j]!.QuantizeInput(x, Prepared.Slice(_inputAt[j] + i * _inputStride[j], _inputStride[j]));
    }

    /// <summary>
    /// Multiplies the prepared inputs with the prepared matrices, on <paramref name="pool"/> when given. Threads that
    /// finish early read ahead the first bytes of their share of <paramref name="next"/>, the product that follows.
    /// </summary>
    public void Multiply(WorkerPool? pool, ReadOnlySpan<WeightTensor> next = default)
    {
        _next.Set(next);
        try
        {
            // Below this much work, waking the workers costs more than it saves.
            bool alone = pool is null || pool.ThreadCount == 1 || _rowsTimesN < 64;
            _split.Reset(_totalGroups, alone ? 1 : pool!.ThreadCount);
            if (alone) Execute(0, 1);
            else pool!.Run(this);
        }
        finally
        {
            Array.Clear(_w);
            Array.Clear(_y);
            _next.Set([]);
        }
    }

    public ReadAhead ReadAhead(int thread, int threadCount) => _next.ReadAhead(thread, threadCount);

    /// <summary>An earlier part whose prepared input part <paramref name="j"/> can reuse, or -1.</summary>
    private static int SameInputAs(ReadOnlySpan<WeightTensor> ws, int j)
    {
        for (int e = 0; e < j; e++)
        {
            if (ws[e].Cols != ws[j].Cols) throw new ArgumentException("Matrices that share an input must have the same width.", nameof(ws));
            if (ws[e].Packed is { } a && ws[j].Packed is { } b ? a.SharesInputWith(b) : ws[e].Packed is null && ws[j].Packed is null && ws[e].Type == ws[j].Type)
                return e;
        }
        return -1;
    }

    /// <summary>Where prepared input <paramref name="i"/> of part <paramref name="part"/> lies in memory (for tests of its alignment).</summary>
    internal unsafe nint InputAddress(int part, int i) =>
        (nint)Unsafe.AsPointer(ref Prepared[_inputAt[part] + i * _inputStride[part]]);

    private ReadOnlySpan<byte> Input(int part, int i) => Prepared.Slice(_inputAt[part] + i * _inputStride[part], _w[part]!.QuantizedInputBytes);

    /// <summary>
    /// For diagnostics only (the benchmarks' <c>decode-bound --plain-read</c>): threads read their share of the packed
    /// weights with <see cref="ReadBandwidth"/>'s plain read instead of multiplying, in the same jobs, chunks and order,
    /// so that a decode step costs what its structure costs with kernels that only read. The outputs are left as they
    /// were. Read once per chunk, outside the kernels.
    /// </summary>
    internal static bool ReadInsteadOfMultiply { get; set; }

    private int _readFold; // keeps the diagnostic reads

    private unsafe void ReadGroups(PackedMatrix packed, int groupStart, int groupEnd)
    {
        var range = packed.ReadAheadOf(groupStart, groupEnd, long.MaxValue);
        Interlocked.Add(ref _readFold, ReadBandwidth.ReadRange((byte*)range.Start, range.Bytes));
    }

    public void Execute(int thread, int threadCount)
    {
        if (_totalGroups > 0)
        {
            // Sixteen-row groups over the groups of all the parts in turn: each thread its own run first, then
            // whatever another has left (see StealingRanges).
            int chunk = Math.Clamp(_totalGroups / (8 * threadCount), 1, 16);
            while (_split.TryTake(thread, chunk, out int g0, out int g1))
            {
                for (int j = 0, first = 0; j < _parts && first < g1; j++)
                {
                    var w = _w[j]!;
                    int groups = w.Packed!.Groups, s = Math.Max(g0, first) - first, e = Math.Min(g1, first + groups) - first;
                    if (s < e)
                    {
                        if (ReadInsteadOfMultiply) ReadGroups(w.Packed, s, e);
                        else w.MultiplyPacked(Prepared[_inputAt[j]..], _inputStride[j], _n, s, e, _y[j], w.Rows);
                    }
                    first += groups;
                }
            }
            return;
        }
        for (int j = 0; j < _parts; j++) ExecuteRows(j, thread, threadCount);
    }

    private void ExecuteRows(int part, int thread, int threadCount)
    {
        var w = _w[part]!;
        var y = _y[part];
        if (w.Packed is { } packed)
        {
            var (g0, g1) = WorkerPool.Share(packed.Groups, thread, threadCount);
            w.MultiplyPacked(Prepared[_inputAt[part]..], _inputStride[part], _n, g0, g1, y, w.Rows);
            return;
        }
        var (start, end) = WorkerPool.Share(w.Rows, thread, threadCount);
        int rows = w.Rows;
        Span<float> four = stackalloc float[4];
        bool fourWay = FastKernels.HasDot4(w.Type);
        for (int tile = start; tile < end; tile += RowTile)
        {
            int tileEnd = Math.Min(end, tile + RowTile);
            int i = 0;
            // Four inputs at a time where the weight type has a four-way kernel: each weight block is
            // unpacked once for all four, with bit-identical results to one input at a time.
            for (; fourWay && i + 4 <= _n; i += 4)
            {
                for (int r = tile; r < tileEnd; r++)
                {
                    FastKernels.TryDotQuantized4(w.Type, w.Row(r), Input(part, i), Input(part, i + 1), Input(part, i + 2), Input(part, i + 3), four);
                    for (int k = 0; k < 4; k++) y[(i + k) * rows + r] = four[k];
                }
            }
            for (; i < _n; i++)
                w.MatVec(Input(part, i), y.AsSpan(i * rows + tile, tileEnd - tile), tile, tileEnd);
        }
    }
}
