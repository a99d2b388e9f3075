using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;
using Basalt.Tensors.Diagnostics;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt bench -m MODEL [-p 128] [-n 64] [-d 0] [-t THREADS] [-r REPS] [--bandwidth] [--json]</c>, measured the way
/// llama-bench does: ppN is N prompt tokens as one batch from an empty cache, tgN is N tokens
/// generated one at a time; each is repeated R times after one warm-up run and reported as mean ± standard deviation.
/// With a depth D both start after D tokens already in the cache (llama-bench's <c>-d</c>): the speed of a long
/// conversation, where attention reads D keys and values a token. The D tokens are processed once, untimed, and each
/// run starts from them.
/// With <c>--bandwidth</c> the memory read bandwidth is measured on the same threads just before and just after
/// each generation run, and each run's weight reads are divided by it two ways: by the highest of the two reads just
/// before and the two just after (<c>tg_read_share</c>, the run's ceiling), and by all the reads of a window about as long
/// as the run itself, half before and half after (<c>tg_read_share_sustained</c>: bytes over time, so the reads
/// average the host's swings over as long as the run does). On a shared host the bandwidth moves by a fifth within
/// minutes, so a figure taken at another time says little about this run.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new Option<string>("--model", "-m") { Description = "Path to a .gguf file, or a model name in the data directory.", Required = true };
        var pp = new Option<int>("--n-prompt", "-p") { Description = "Prompt tokens processed as one batch (0 = skip).", DefaultValueFactory = _ => 128 };
        var tg = new Option<int>("--n-gen", "-n") { Description = "Tokens generated one at a time (0 = skip).", DefaultValueFactory = _ => 64 };
        var depth = new Option<int>("--n-depth", "-d") { Description = "Tokens already in the cache when each test starts (processed once, untimed).", DefaultValueFactory = _ => 0 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "Measured repetitions after the warm-up.", DefaultValueFactory = _ => 5 };
        var threads = ThreadsOption.Create();
        var cacheType = CacheTypeOption.Create();
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var bandwidth = new Option<bool>("--bandwidth")
        {
            Description = "Also measure memory read bandwidth (512 MiB, same threads) just before and after each generation run, and report the share of it each run reads: of the highest read around it, and of the reads of a window about as long as the run (their means).",
        };
        var command = new Command("bench", "Prompt-processing and generation speed, measured like llama-bench.") { model, pp, tg, depth, reps, threads, json, cacheType, bandwidth };
        command.SetAction(parse =>
        {
            int nPrompt = parse.GetValue(pp), nGen = parse.GetValue(tg), r = parse.GetValue(reps), nDepth = parse.GetValue(depth);
            if (nPrompt < 0 || nGen < 0 || nPrompt + nGen == 0) throw new CliUsageException("-p and -n must be 0 or more, and not both 0.");
            if (nDepth < 0) throw new CliUsageException($"--n-depth must be 0 or more; got {nDepth}.");
            if (r < 1) throw new CliUsageException($"--repetitions must be at least 1; got {r}.");
            if (parse.GetValue(bandwidth) && nGen == 0) throw new CliUsageException("--bandwidth measures around the generation runs: it needs -n above 0.");
            string path = ModelLocator.Resolve(parse.GetRequiredValue(model));
            using var m = TransformerModel.Load(path);
            using var runtime = ThreadsOption.CreateRuntime(parse.GetValue(threads));
            long ctxLong = (long)nDepth + Math.Max(nPrompt, nGen) + 1;
            if (ctxLong > m.Config.ContextLength) throw new CliUsageException($"-d/-p/-n need a context of {ctxLong}; the model holds {m.Config.ContextLength}.");
            int ctx = (int)ctxLong;
            var sequence = new Sequence(m, ctx, CacheTypeOption.IsF16(parse.GetValue(cacheType)!), runtime);
            var random = new Random(42); // llama-bench feeds random tokens; the values do not affect speed
            int[] tokens = Enumerable.Range(0, Math.Max(nPrompt, 1)).Select(_ => random.Next(m.Config.VocabSize)).ToArray();
            if (nDepth > 0)
            {
                sequence.Process(Enumerable.Range(0, nDepth).Select(_ => random.Next(m.Config.VocabSize)).ToArray());
            }
            // Each run starts from the depth's tokens: the cache keeps them, only its length goes back.
            void Restart() => sequence.Truncate(nDepth);

            var ppRates = nPrompt > 0 ? Measure(r, () => { Restart(); sequence.Process(tokens.AsSpan(0, nPrompt)); }, nPrompt) : null;
            using var reads = parse.GetValue(bandwidth) ? new ReadBandwidth() : null; // -n > 0 checked above
            var probe = reads is null ? null : new Probe(reads, runtime, r);
            var tgRates = nGen > 0 ? Measure(r, () =>
            {
                Restart();
                int next = tokens[0];
                for (int i = 0; i < nGen; i++) next = GreedySampler.ArgMax(sequence.Process([next]));
            }, nGen, probe) : null;

            long weightBytes = m.DecodeWeightBytes;
            double? gbs = tgRates is null ? null : weightBytes * Mean(tgRates) / 1e9;
            // Each run against the bandwidth measured around it, then averaged.
            double? share = probe is null || tgRates is null ? null : tgRates.Select((rate, i) => weightBytes * rate / 1e9 / probe.Peak[i]).Average();
            double? sustainedShare = probe is null || tgRates is null ? null : tgRates.Select((rate, i) => weightBytes * rate / 1e9 / probe.Sustained[i]).Average();
            if (parse.GetValue(json))
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteString("model", path);
                    w.WriteNumber("threads", runtime.ThreadCount);
                    w.WriteNumber("n_prompt", nPrompt);
                    w.WriteNumber("n_gen", nGen);
                    w.WriteNumber("n_depth", nDepth);
                    w.WriteNumber("repetitions", r);
                    if (ppRates is not null) { w.WriteNumber("pp_tok_s", Mean(ppRates)); w.WriteNumber("pp_tok_s_stddev", StdDev(ppRates)); }
                    if (tgRates is not null) { w.WriteNumber("tg_tok_s", Mean(tgRates)); w.WriteNumber("tg_tok_s_stddev", StdDev(tgRates)); }
                    w.WriteNumber("weight_bytes_per_token", weightBytes);
                    if (gbs is double g) w.WriteNumber("tg_read_gb_s", g);
                    if (probe is not null && share is double f && sustainedShare is double fs)
                    {
                        w.WriteNumber("read_gb_s", Mean(probe.Peak));
                        w.WriteNumber("read_gb_s_stddev", StdDev(probe.Peak));
                        w.WriteNumber("tg_read_share", f);
                        w.WriteNumber("read_gb_s_sustained", Mean(probe.Sustained));
                        w.WriteNumber("read_gb_s_sustained_stddev", StdDev(probe.Sustained));
                        w.WriteNumber("tg_read_share_sustained", fs);
                    }
                });
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                stdout.WriteLine($"| model | size | threads | test | t/s |");
                stdout.WriteLine($"| --- | ---: | ---: | ---: | ---: |");
                string name = Path.GetFileName(path), size = $"{weightBytes / 1048576.0:F2} MiB", at = nDepth > 0 ? $" @ d{nDepth}" : "";
                if (ppRates is not null) stdout.WriteLine(string.Create(inv, $"| {name} | {size} | {runtime.ThreadCount} | pp{nPrompt}{at} | {Mean(ppRates):F2} ± {StdDev(ppRates):F2} |"));
                if (tgRates is not null) stdout.WriteLine(string.Create(inv, $"| {name} | {size} | {runtime.ThreadCount} | tg{nGen}{at} | {Mean(tgRates):F2} ± {StdDev(tgRates):F2} |"));
                if (gbs is double g) stdout.WriteLine(string.Create(inv, $"generation reads {weightBytes / 1e6:F1} MB of weights per token: {g:F2} GB/s"));
                if (probe is not null && share is double f && sustainedShare is double fs)
                {
                    stdout.WriteLine(string.Create(inv, $"memory read bandwidth around each generation run, highest read: {Mean(probe.Peak):F2} ± {StdDev(probe.Peak):F2} GB/s; each run read {100 * f:F1}% of its own on average"));
                    stdout.WriteLine(string.Create(inv, $"over a window as long as each run: {Mean(probe.Sustained):F2} ± {StdDev(probe.Sustained):F2} GB/s; each run read {100 * fs:F1}% of its own on average"));
                }
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Tokens per second of <paramref name="reps"/> runs after a warm-up. With a <paramref name="probe"/>, the memory
    /// read bandwidth is measured just before and just after each run (outside its timing): before it for half as long
    /// as the run before it took (the first: the warm-up), after it for half as long as it took.
    /// </summary>
    private static double[] Measure(int reps, Action run, int tokens, Probe? probe = null)
    {
        var clock = Stopwatch.StartNew();
        run(); // warm-up: JIT, page faults, caches
        double runSeconds = clock.Elapsed.TotalSeconds;
        var rates = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            probe?.Before(i, runSeconds / 2);
            clock.Restart();
            run();
            runSeconds = clock.Elapsed.TotalSeconds;
            rates[i] = tokens / runSeconds;
            probe?.After(i, runSeconds / 2);
        }
        return rates;
    }

    /// <summary>A <see cref="ReadWindow"/> around each measured run, and its two figures by run.</summary>
    private sealed class Probe
    {
        private readonly ReadBandwidth _reads;
        private readonly Basalt.Tensors.Threading.WorkerPool _pool;
        private ReadWindow? _window;

        public Probe(ReadBandwidth reads, Basalt.Tensors.Threading.WorkerPool pool, int runs)
        {
            (_reads, _pool) = (reads, pool);
            Peak = new double[runs];
            Sustained = new double[runs];
            reads.Read(pool); // untimed: the pool's threads and the buffer's pages warm
        }

        public double[] Peak { get; }

        public double[] Sustained { get; }

        public void Before(int run, double seconds) => (_window = new ReadWindow(_reads, _pool)).Before(seconds);

        public void After(int run, double seconds)
        {
            _window!.After(seconds);
            (Peak[run], Sustained[run]) = (_window.Peak, _window.Sustained);
        }
    }

    private static double Mean(double[] xs) => xs.Average();

    private static double StdDev(double[] xs)
    {
        if (xs.Length < 2) return 0;
        double mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1));
    }
}
