using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt bench-serve --url URL --model NAME [--streams 1,4,8,16] [-n 64]</c>: drives any
/// OpenAI-compatible server (Basalt or llama-server) with N concurrent streaming completions and
/// reports aggregate generated tokens per second and time to first token (p50, p99) per level.
/// </summary>
internal static class ServeBenchCommand
{
    public static Command Create(TextWriter stdout)
    {
        var url = new Option<string>("--url") { Description = "Base URL of the server.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var model = new Option<string>("--model", "-m") { Description = "Model name to request.", Required = true };
        var streams = new Option<string>("--streams") { Description = "Comma-separated concurrency levels.", DefaultValueFactory = _ => "1,4,8,16" };
        var tokens = new Option<int>("--n-gen", "-n") { Description = "Tokens per stream.", DefaultValueFactory = _ => 64 };
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text.", DefaultValueFactory = _ => "Once upon a time" };
        var eos = new Option<int?>("--eos-id") { Description = "Token id to ban (logit_bias -100) so every stream generates exactly -n tokens." };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer key, if the server wants one." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("bench-serve", "Aggregate throughput and time to first token of an OpenAI-compatible server at several concurrency levels.")
            { url, model, streams, tokens, prompt, eos, apiKey, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var levels = parse.GetValue(streams)!.Split(',').Select(s => int.TryParse(s.Trim(), out int n) && n > 0 ? n
                : throw new CliUsageException($"--streams wants positive integers separated by commas; got '{s}'.")).ToArray();
            using var client = new HttpClient { BaseAddress = new Uri(parse.GetValue(url)!), Timeout = TimeSpan.FromMinutes(10) };
            if (parse.GetValue(apiKey) is { } key) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            string body = RequestBody(parse.GetRequiredValue(model), parse.GetValue(prompt)!, parse.GetValue(tokens), parse.GetValue(eos));
            await RunStreamAsync(client, body, cancellationToken); // warm-up: loads the model, JIT
            var results = new List<LevelResult>();
            foreach (int level in levels)
            {
                var clock = Stopwatch.StartNew();
                var runs = await Task.WhenAll(Enumerable.Range(0, level).Select(_ => RunStreamAsync(client, body, cancellationToken)));
                double seconds = clock.Elapsed.TotalSeconds;
                var ttft = runs.Select(r => r.FirstTokenMs).Order().ToArray();
                results.Add(new LevelResult(level, runs.Sum(r => r.Tokens), seconds, Percentile(ttft, 0.5), Percentile(ttft, 0.99)));
            }
            Write(stdout, results, parse.GetValue(json));
            return 0;
        });
        return command;
    }

    private sealed record LevelResult(int Streams, int Tokens, double Seconds, double TtftP50Ms, double TtftP99Ms)
    {
        public double TokensPerSecond => Tokens / Seconds;
    }

    private static string RequestBody(string model, string prompt, int tokens, int? eos)
    {
        var body = new Dictionary<string, object>
        {
            ["model"] = model, ["prompt"] = prompt, ["max_tokens"] = tokens, ["temperature"] = 0, ["stream"] = true,
        };
        if (eos is int id) body["logit_bias"] = new Dictionary<string, int> { [id.ToString(CultureInfo.InvariantCulture)] = -100 };
        return JsonSerializer.Serialize(body);
    }

    /// <summary>One streamed completion: milliseconds to the first text chunk, and how many text chunks (tokens) arrived.</summary>
    private static async Task<(double FirstTokenMs, int Tokens)> RunStreamAsync(HttpClient client, string body, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
            throw new CliUsageException($"the server answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        double first = -1;
        int tokens = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            string data = line[5..].Trim();
            if (data == "[DONE]") break;
            using var doc = JsonDocument.Parse(data);
            if (!doc.RootElement.TryGetProperty("choices", out var choices) || choices.GetArrayLength() == 0) continue;
            if (choices[0].TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 })
            {
                if (first < 0) first = clock.Elapsed.TotalMilliseconds;
                tokens++;
            }
        }
        return (Math.Max(first, 0), tokens);
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static void Write(TextWriter o, List<LevelResult> results, bool json)
    {
        if (json)
        {
            JsonOutput.Write(o, w =>
            {
                w.WriteStartArray("levels");
                foreach (var r in results)
                {
                    w.WriteStartObject();
                    w.WriteNumber("streams", r.Streams);
                    w.WriteNumber("tokens", r.Tokens);
                    w.WriteNumber("seconds", r.Seconds);
                    w.WriteNumber("tok_s", r.TokensPerSecond);
                    w.WriteNumber("ttft_p50_ms", r.TtftP50Ms);
                    w.WriteNumber("ttft_p99_ms", r.TtftP99Ms);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
            return;
        }
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine("| streams | tokens | aggregate tok/s | TTFT p50 ms | TTFT p99 ms |");
        o.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
            o.WriteLine(string.Create(inv, $"| {r.Streams} | {r.Tokens} | {r.TokensPerSecond:F1} | {r.TtftP50Ms:F0} | {r.TtftP99Ms:F0} |"));
    }
}
