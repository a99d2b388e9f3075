using System.Diagnostics;
using System.Globalization;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;
using Basalt.Tensors.Diagnostics;
using Basalt.Tensors.Threading;

namespace Basalt.Benchmarks;

/// <summary>
/// How close decoding can come to the read bandwidth: runs of N decode steps (greedy, from an empty cache, as
/// <c>basalt bench</c>'s tgN) alternate with runs of N steps that do only a decode step's matrix products — the same
/// matrices in the same order, each on a prepared input, each naming the next for the read-ahead, with no norm,
/// rotary, cache store, attention or activation between them — and each run is measured against the plain read around
/// it as <c>basalt bench --bandwidth</c> measures it: the highest of the two reads just before and the two just
/// after, and bytes over time of every read of a window as long as the run. The products alone are the ceiling of a
/// decode step on these kernels; the full step's share of them is what the work between products costs.
/// With <c>--plain-read</c> every product reads its share of the weights with the plain read instead of multiplying
/// (same jobs, chunks and order; the answers are then meaningless): what a step would cost with kernels that only read.
/// <code>dotnet run -c Release --project bench/Basalt.Benchmarks -- decode-bound MODEL [THREADS] [PASSES] [TOKENS] [--plain-read]</code>
/// </summary>
internal static class DecodeBound
{
    public static void Run(string[] args)
    {
        bool plainRead = args.Contains("--plain-read");
        args = args.Where(a => a != "--plain-read").ToArray();
        if (args.Length < 1) throw new ArgumentException("usage: decode-bound MODEL [THREADS] [PASSES] [TOKENS] [--plain-read]");
        MatMulJob.ReadInsteadOfMultiply = plainRead;
        string path = args[0];
        int threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        int passes = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        int tokens = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 64;

        using var model = TransformerModel.Load(path);
        using var pool = new WorkerPool(threads);
        using var reads = new ReadBandwidth();
        var products = new ProductsOnly(model, pool);
        var sequence = new Sequence(model, tokens + 1, true, pool);
        long decodeBytes = model.DecodeWeightBytes, productBytes = products.Bytes;

        void Decode()
        {
            sequence.Truncate(0);
            int next = 1;
            for (int i = 0; i < tokens; i++) next = GreedySampler.ArgMax(sequence.Process([next]));
        }
        void Products()
        {
            for (int i = 0; i < tokens; i++) products.Step();
        }

        reads.Read(pool);
        var warm = Stopwatch.StartNew();
        Decode(); // warm-up: JIT, page faults, the cache's pages
        double lastSeconds = warm.Elapsed.TotalSeconds;
        Products();
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"{Path.GetFileName(path)}, {threads} thread(s), {passes} passes of {tokens} tokens{(plainRead ? ", plain reads in place of the kernels" : "")}; weight bytes a step: decode {decodeBytes / 1e6:F1} MB, products {productBytes / 1e6:F1} MB"));
        Console.WriteLine("pass | decode tok/s | products steps/s | decode ÷ products time | decode: of highest / sustained read | products: of highest / sustained read");
        var rows = new List<double[]>();
        for (int p = 0; p < passes; p++)
        {
            // Alternate which runs first, so that a slow stretch of the host does not always fall on the same one.
            var (d, dPeak, dSustained) = p % 2 == 0 ? Measured(Decode) : default;
            var (q, qPeak, qSustained) = Measured(Products);
            if (p % 2 == 1) (d, dPeak, dSustained) = Measured(Decode);
            double dGbs = decodeBytes * (tokens / d) / 1e9, qGbs = productBytes * (tokens / q) / 1e9;
            var row = new[] { tokens / d, tokens / q, d / q, dGbs / dPeak, dGbs / dSustained, qGbs / qPeak, qGbs / qSustained };
            rows.Add(row);
            Console.WriteLine(string.Create(inv, $"{p} | {row[0]:F1} | {row[1]:F1} | {row[2]:F3} | {row[3]:P1} / {row[4]:P1} | {row[5]:P1} / {row[6]:P1}"));
        }
        double M(int i) => Median(rows.Select(r => r[i]));
        Console.WriteLine(string.Create(inv, $"median | {M(0):F1} | {M(1):F1} | {M(2):F3} | {M(3):P1} / {M(4):P1} | {M(5):P1} / {M(6):P1}"));

        (double Seconds, double Peak, double Sustained) Measured(Action run)
        {
            var window = new ReadWindow(reads, pool);
            window.Before(lastSeconds / 2); // the reads before a run last half as long as the run before it, as in basalt bench
            var clock = Stopwatch.StartNew();
            run();
            double seconds = lastSeconds = clock.Elapsed.TotalSeconds;
            window.After(seconds / 2);
            return (seconds, window.Peak, window.Sustained);
        }
    }

    /// <summary>A decode step's matrix products and nothing else, in <see cref="BatchForward"/>'s order.</summary>
    private sealed class ProductsOnly
    {
        private readonly MatMulJob _job;
        private readonly WorkerPool _pool;
        private readonly (WeightTensor[] Weights, float[][] Outputs, float[] Input)[] _products;

        public ProductsOnly(TransformerModel model, WorkerPool pool)
        {
            var c = model.Config;
            _pool = pool;
            _job = new MatMulJob(1, Math.Max(Math.Max(c.EmbeddingLength, c.FeedForwardLength), c.QDim));
            var random = new Random(1);
            float[] Input(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            float[] embd = Input(c.EmbeddingLength), att = Input(c.QDim), ff = Input(c.FeedForwardLength);
            var list = new List<(WeightTensor[], float[][], float[])>();
            foreach (var l in model.Weights.Layers)
            {
                list.Add(Product(l.Wqkv is { } qkv ? [qkv] : [l.Wq!, l.Wk!, l.Wv!], embd));
                list.Add(Product([l.Wo], att));
                list.Add(Product(l.GateUp is { } gateUp ? [gateUp] : [l.Gate!, l.Up!], embd));
                list.Add(Product([l.Down], ff));
            }
            list.Add(Product([model.Weights.Output], embd));
            _products = [.. list];
            Bytes = _products.Sum(p => p.Weights.Sum(w => (long)w.RowBytes * w.Rows));
        }

        private static (WeightTensor[], float[][], float[]) Product(WeightTensor[] weights, float[] input) =>
            (weights, weights.Select(w => new float[w.Rows]).ToArray(), input);

        /// <summary>Weight bytes one step reads.</summary>
        public long Bytes { get; }

        public void Step()
        {
            for (int i = 0; i < _products.Length; i++)
            {
                var (weights, outputs, input) = _products[i];
                _job.Prepare(weights, outputs, 1);
                _job.PrepareRow(0, input);
                _job.Multiply(_pool, i + 1 < _products.Length ? _products[i + 1].Weights : []);
            }
            _pool.StopReadAhead();
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var a = values.Order().ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
