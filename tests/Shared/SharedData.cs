namespace Basalt.Testing;

/// <summary>
/// Finds the read-only test data folder, checked out as <c>shared</c> beside the repository. A missing
/// folder or file is a failure, never a skip: tests that silently pass without their data prove nothing.
/// Compiled into every test project (see tests/Directory.Build.props).
/// </summary>
internal static class SharedData
{
    private static readonly Lazy<string> Root = new(Locate);

    /// <summary>Absolute path of the shared folder (the one holding <c>models</c> and <c>testdata</c>).</summary>
    public static string Directory => Root.Value;

    /// <summary>Absolute path of <paramref name="parts"/> under the shared folder (which may not exist).</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    /// <summary>Absolute path of a file under the shared folder, which must exist.</summary>
    public static string File(string relative)
    {
        string path = System.IO.Path.Combine(Directory, relative);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"Shared test file missing: {path}", path);
        return path;
    }

    /// <summary>Every .gguf file under the shared folder, as paths relative to it, sorted.</summary>
    public static IReadOnlyList<string> AllGgufFiles() => Find("");

    /// <summary>Every .gguf file under <c>models</c> (weights, not vocab-only files), relative to the shared folder.</summary>
    public static IReadOnlyList<string> ModelFiles() => Find("models");

    private static List<string> Find(string under)
    {
        var files = System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(Directory, under), "*.gguf", SearchOption.AllDirectories)
            .Select(p => System.IO.Path.GetRelativePath(Directory, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new InvalidOperationException($"No .gguf files under {System.IO.Path.Combine(Directory, under)}.");
        return files;
    }

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            foreach (string candidate in new[] { System.IO.Path.Combine(dir.FullName, "shared"), System.IO.Path.Combine(dir.FullName, "..", "shared") })
                if (System.IO.Directory.Exists(System.IO.Path.Combine(candidate, "models")))
                    return System.IO.Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException(
            $"Shared test data not found: no 'shared/models' folder beside any parent of {AppContext.BaseDirectory}. " +
            "Check out the shared data folder next to the repository (../shared).");
    }
}
