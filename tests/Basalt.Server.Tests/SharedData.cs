namespace Basalt.Server.Tests;

/// <summary>Finds the read-only <c>shared/</c> folder that sits beside the repository.</summary>
internal static class SharedData
{
    private static readonly Lazy<string> Root = new(Locate);

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { System.IO.Path.Combine(dir.FullName, "shared"), System.IO.Path.Combine(dir.FullName, "..", "shared") })
                if (Directory.Exists(System.IO.Path.Combine(candidate, "testdata", "tokenizers")))
                    return System.IO.Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException($"No shared/ folder with testdata/tokenizers found above {AppContext.BaseDirectory}; the repository expects ../shared beside it.");
    }
}
