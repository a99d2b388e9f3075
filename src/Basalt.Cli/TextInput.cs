using System.Text;

namespace Basalt.Cli;

/// <summary>Reads text the commands take from files, insisting on valid UTF-8.</summary>
internal static class TextInput
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public static string ReadUtf8File(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new CliUsageException($"{path} is not valid UTF-8 (byte offset {e.Index}); expected UTF-8 text.");
        }
    }

    /// <summary>Decodes bytes strictly; null when they are not valid UTF-8.</summary>
    public static string? TryDecode(byte[] bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
