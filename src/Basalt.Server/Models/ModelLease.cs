namespace Basalt.Server.Models;

/// <summary>A request's hold on a loaded model: while any lease is open the model is not unloaded.</summary>
internal sealed class ModelLease(ModelRegistry registry, ModelEntry entry, LoadedModel model, bool coldStart) : IDisposable
{
    private int _released;

    public string Name => entry.Name;
    public LoadedModel Model { get; } = model;

    /// <summary>Whether this request had to load the model (Ollama reports that as load_duration).</summary>
    public bool ColdStart { get; } = coldStart;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) registry.Release(entry);
    }
}
