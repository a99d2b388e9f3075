namespace Basalt.Gguf.Tests;

/// <summary>
/// Finds the read-only test data folder, which is checked out as <c>shared</c> beside the
/// repository. A missing folder is a failure, never a skip: tests that silently pass without their
/// data prove nothing.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> Root = new(Locate);

    /// <summary>Absolute path of the shared folder (the one holding <c>models</c> and <c>testdata</c>).</summary>
    public static string Directory => Root.Value;

    /// <summary>Absolute path of a file under the shared folder, which must exist.</summary>
    public static string File(string relative)
    {
        string path = Path.Combine(Directory, relative);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"Shared test file missing: {path}", path);
        return path;
    }

    /// <summary>Every .gguf file under the shared folder, as paths relative to it, sorted.</summary>
    public static IReadOnlyList<string> AllGgufFiles() => Find("");

    /// <summary>Every .gguf file under <c>models</c> (weights, not vocab-only files), relative to the shared folder.</summary>
    public static IReadOnlyList<string> ModelFiles() => Find("models");

    private static List<string> Find(string under)
    {
        var files = System.IO.Directory.EnumerateFiles(Path.Combine(Directory, under), "*.gguf", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Directory, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new InvalidOperationException($"No .gguf files under {Path.Combine(Directory, under)}.");
        return files;
    }

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            foreach (string candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
                if (System.IO.Directory.Exists(Path.Combine(candidate, "models")))
                    return Path.GetFullPath(candidate);
        }
        throw new InvalidOperationException(
            $"Shared test data not found: no 'shared/models' folder beside any parent of {AppContext.BaseDirectory}. " +
            "Check out the shared data folder next to the repository (../shared).");
    }
}
