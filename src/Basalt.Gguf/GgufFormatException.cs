namespace Basalt.Gguf;

/// <summary>
/// The one exception a malformed GGUF file produces. The message names the file, the byte offset,
/// what the reader expected there and what it found.
/// </summary>
public sealed class GgufFormatException : Exception
{
    /// <summary>Creates the exception for a problem at <paramref name="offset"/> in <paramref name="file"/>.</summary>
    public GgufFormatException(string file, long offset, string expected, string found, Exception? inner = null)
        : base($"{file}: invalid GGUF at byte {offset}: expected {expected}, found {found}", inner)
    {
        File = file;
        Offset = offset;
        Expected = expected;
        Found = found;
    }

    /// <summary>The file (or name given to an in-memory buffer).</summary>
    public string File { get; }

    /// <summary>Byte offset from the start of the file where the problem was seen.</summary>
    public long Offset { get; }

    /// <summary>What a valid file has at that point.</summary>
    public string Expected { get; }

    /// <summary>What this file has instead.</summary>
    public string Found { get; }
}
