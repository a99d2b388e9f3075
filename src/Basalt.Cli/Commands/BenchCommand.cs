using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Basalt.Inference.Model;
using Basalt.Tensors.Diagnostics;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt bench -m MODEL [-p 128] [-n 64] [-d 0] [-t THREADS] [-r REPS] [--bandwidth] [--json]</c>, measured the way
/// llama-bench does: ppN is N prompt tokens as one batch from an empty cache, tgN is N tokens
/// generated one at a time; each is repeated R times after one warm-up run and reported as mean ± standard deviation.
/// With a depth D both start after D tokens already in the cache (llama-bench's <c>-d</c>): the speed of a long
/// conversation, where attention reads D keys and values a token. The D tokens are processed once, untimed, and each
/// run starts from them.
/// With <c>--bandwidth</c> the memory read bandwidth is measured with the same threads just before and just after
/// each generation run, and each run's weight reads are divided by the highest of those readings: on a shared host
/// the bandwidth moves by a fifth within minutes, so a figure taken at another time says little about this run.
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
            Description = "Also measure memory read bandwidth (512 MiB, same threads) just before and after each generation run, and report the share of it each run reads (their mean).",
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
            using var probe = parse.GetValue(bandwidth) ? new ReadBandwidth() : null; // -n > 0 checked above
            probe?.Read(runtime.ThreadCount); // untimed: starts the pool threads a first parallel read waits for
            double[]? around = probe is null ? null : new double[r];
            var tgRates = nGen > 0 ? Measure(r, () =>
            {
                Restart();
                int next = tokens[0];
                for (int i = 0; i < nGen; i++) next = ArgMax(sequence.Process([next]));
            }, nGen, probe is null ? null : () => probe.Measure(runtime.ThreadCount), around) : null;

            long weightBytes = WeightBytesPerToken(m);
            double? gbs = tgRates is null ? null : weightBytes * Mean(tgRates) / 1e9;
            // Each run against the bandwidth measured around it, then averaged.
            double? share = around is null || tgRates is null ? null : tgRates.Select((rate, i) => weightBytes * rate / 1e9 / around[i]).Average();
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
                    if (around is not null && share is double f)
                    {
                        w.WriteNumber("read_gb_s", Mean(around));
                        w.WriteNumber("read_gb_s_stddev", StdDev(around));
                        w.WriteNumber("tg_read_share", f);
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
                if (around is not null && share is double f)
                    stdout.WriteLine(string.Create(inv, $"memory read bandwidth around each generation run: {Mean(around):F2} ± {StdDev(around):F2} GB/s; each run read {100 * f:F1}% of its own on average"));
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Tokens per second of <paramref name="reps"/> runs after a warm-up. With a <paramref name="probe"/>, it is called
    /// twice just before and twice just after each measured run (outside its timing), and the highest of the four
    /// goes to <paramref name="around"/>: the run's ceiling. A single read of the buffer takes ~20 ms, and on a busy
    /// host one such sample can fall well below what the same core reads over the run's seconds.
    /// </summary>
    private static double[] Measure(int reps, Action run, int tokens, Func<double>? probe = null, double[]? around = null)
    {
        run(); // warm-up: JIT, page faults, caches
        var rates = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            double before = probe is null ? 0 : Math.Max(probe(), probe());
            var clock = Stopwatch.StartNew();
            run();
            rates[i] = tokens / clock.Elapsed.TotalSeconds;
            if (probe is not null) around![i] = Math.Max(before, Math.Max(probe(), probe()));
        }
        return rates;
    }

    /// <summary>Bytes of weights one decode step reads: every matrix once (the embedding only one row).</summary>
    private static long WeightBytesPerToken(TransformerModel m)
    {
        long total = m.File.Tensors.Sum(t => t.ByteSize);
        var embd = m.File.FindTensor("token_embd.weight");
        bool tied = m.File.FindTensor("output.weight") is null;
        return embd is null || tied ? total : total - embd.ByteSize + embd.ByteSize / m.Config.VocabSize;
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private static double Mean(double[] xs) => xs.Average();

    private static double StdDev(double[] xs)
    {
        if (xs.Length < 2) return 0;
        double mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1));
    }
}
