namespace Basalt.Tensors.Tests;

/// <summary>Finds the read-only shared data folder (models, references) by walking up from the test binaries.</summary>
internal static class SharedData
{
    private static readonly Lazy<string?> Root = new(Find);

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "..", "shared"), Path.Combine(dir.FullName, "shared") })
            {
                if (Directory.Exists(Path.Combine(candidate, "models"))) return Path.GetFullPath(candidate);
            }
        }
        return null;
    }

    /// <summary>Path of a file under the shared folder; fails the test with a clear message when it is missing.</summary>
    public static string GetPath(params string[] parts)
    {
        var root = Root.Value ?? throw new InvalidOperationException(
            $"Shared test data not found: no '<dir>/../shared/models' or '<dir>/shared/models' above {AppContext.BaseDirectory}.");
        var path = Path.Combine([root, .. parts]);
        if (!File.Exists(path)) throw new FileNotFoundException($"Shared test data file is missing: {path}", path);
        return path;
    }
}
