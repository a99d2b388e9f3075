namespace Basalt.Cli;

/// <summary>A prompt given inline or as a file (exactly one of the two).</summary>
internal static class PromptInput
{
    public static string Read(string? text, string? file)
    {
        if ((text is null) == (file is null)) throw new CliUsageException("give exactly one of --prompt TEXT or --file FILE.");
        return text ?? TextInput.ReadUtf8File(file!);
    }
}
