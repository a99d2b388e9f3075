using System.Diagnostics;
using Basalt.Inference.Engine;
using Basalt.Inference.Model;
using Basalt.Server.Errors;
using Basalt.Tensors.Threading;

namespace Basalt.Server.Models;

/// <summary>
/// The models the server offers, by name (file name without <c>.gguf</c>). A model is loaded with its
/// engine on first use and unloaded once idle for <see cref="ServerOptions.IdleTimeout"/> with no request holding it.
/// </summary>
internal sealed class ModelRegistry : IDisposable
{
    private readonly Dictionary<string, ModelEntry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly ServerOptions _options;
    private readonly ILogger<ModelRegistry> _logger;
    private readonly Lock _gate = new();

    public ModelRegistry(ServerOptions options, ILogger<ModelRegistry> logger)
    {
        _options = options;
        _logger = logger;
        foreach (string path in options.ModelPaths)
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (!_entries.TryAdd(name, new ModelEntry(name, Path.GetFullPath(path))))
                throw new ArgumentException($"Two models are both named '{name}' ({_entries[name].Path} and {path}); rename one file.", nameof(options));
        }
    }

    /// <summary>Every model offered, in name order.</summary>
    public IReadOnlyList<ModelEntry> Entries => [.. _entries.Values.OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase)];

    /// <summary>The entry for <paramref name="name"/> (an Ollama-style <c>:latest</c> tag is ignored), or a 404.</summary>
    public ModelEntry Find(string name)
    {
        if (_entries.TryGetValue(name, out var entry)) return entry;
        if (name.EndsWith(":latest", StringComparison.OrdinalIgnoreCase) && _entries.TryGetValue(name[..^":latest".Length], out entry)) return entry;
        throw ApiException.ModelNotFound(name, _entries.Keys.Order());
    }

    /// <summary>The GGUF header facts of a model, read once.</summary>
    public ModelDescription Describe(ModelEntry entry)
    {
        lock (_gate)
            return entry.Description ??= ModelDescription.Read(entry.Path);
    }

    /// <summary>Holds <paramref name="name"/> loaded for one request, loading it first if need be.</summary>
    public ModelLease Acquire(string name)
    {
        var entry = Find(name);
        lock (_gate)
        {
            // Loading under the lock: a second request for a cold model waits for the first load instead of starting another.
            bool cold = entry.Loaded is null;
            entry.Loaded ??= Load(entry);
            entry.Leases++;
            entry.LastUsedUtc = DateTime.UtcNow;
            return new ModelLease(this, entry, entry.Loaded, cold);
        }
    }

    internal void Release(ModelEntry entry)
    {
        lock (_gate)
        {
            entry.Leases--;
            entry.LastUsedUtc = DateTime.UtcNow;
        }
    }

    /// <summary>Unloads every model idle longer than the timeout; returns how many.</summary>
    public int UnloadIdle(DateTime nowUtc)
    {
        var idle = new List<(ModelEntry, LoadedModel)>();
        lock (_gate)
        {
            foreach (var e in _entries.Values)
                if (e.Loaded is { } loaded && e.Leases == 0 && nowUtc - e.LastUsedUtc >= _options.IdleTimeout)
                {
                    idle.Add((e, loaded));
                    e.Loaded = null;
                }
        }
        foreach (var (e, loaded) in idle)
        {
            loaded.Dispose();
            _logger.LogInformation("Unloaded model {Model} after {Idle} idle", e.Name, _options.IdleTimeout);
        }
        return idle.Count;
    }

    /// <summary>Engines of the models in memory now, by model name.</summary>
    public IReadOnlyList<(string Name, InferenceEngine Engine)> LoadedEngines()
    {
        lock (_gate)
            return [.. _entries.Values.Where(e => e.Loaded is not null).Select(e => (e.Name, e.Loaded!.Engine))];
    }

    private LoadedModel Load(ModelEntry entry)
    {
        var clock = Stopwatch.StartNew();
        var model = TransformerModel.Load(entry.Path);
        int threads = _options.Threads ?? Environment.ProcessorCount;
        var pool = threads > 1 ? new WorkerPool(threads) : null;
        try
        {
            var engine = new InferenceEngine(model, new EngineOptions
            {
                MaxActiveSequences = _options.MaxActiveSequences,
                QueueCapacity = _options.QueueCapacity,
                StepTokens = _options.StepTokens,
                ContextLength = _options.ContextLength is int n ? Math.Min(n, model.Config.ContextLength) : null,
                Runtime = pool,
            });
            var loaded = new LoadedModel(model, engine, pool, clock.Elapsed);
            entry.LastLoadTime = clock.Elapsed;
            entry.LoadCount++;
            _logger.LogInformation("Loaded model {Model} from {Path} in {LoadMs:F1} ms (cold start)", entry.Name, entry.Path, clock.Elapsed.TotalMilliseconds);
            return loaded;
        }
        catch
        {
            pool?.Dispose();
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_gate)
            foreach (var e in _entries.Values)
            {
                e.Loaded?.Dispose();
                e.Loaded = null;
            }
    }
}
