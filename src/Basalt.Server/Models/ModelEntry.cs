namespace Basalt.Server.Models;

/// <summary>One model the server offers, loaded or not; its mutable state is guarded by the registry's lock.</summary>
internal sealed class ModelEntry(string name, string path)
{
    public string Name { get; } = name;
    public string Path { get; } = path;
    public FileInfo File { get; } = new(path);
    public LoadedModel? Loaded { get; set; }
    public int Leases { get; set; }
    public DateTime LastUsedUtc { get; set; }

    /// <summary>How long the most recent load took, for /api/show and /metrics.</summary>
    public TimeSpan? LastLoadTime { get; set; }
    public int LoadCount { get; set; }
    public ModelDescription? Description { get; set; }
}
