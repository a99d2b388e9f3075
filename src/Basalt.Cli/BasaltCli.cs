using System.CommandLine;
using Basalt.Cli.Commands;
using Basalt.Gguf;
using Basalt.Inference.Model;
using Basalt.Tokenizers;

namespace Basalt.Cli;

/// <summary>The <c>basalt</c> command: wiring of subcommands and the one place errors become exit codes.</summary>
public static class BasaltCli
{
    /// <summary>Exit code for a failure the user can fix (bad file, bad argument).</summary>
    public const int UserError = 1;

    /// <summary>Runs the command line, writing results to <paramref name="stdout"/> and errors to <paramref name="stderr"/>.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, Console.In, stdout, stderr);

    /// <summary>Runs the command line with <paramref name="stdin"/> as the conversation input of <c>run</c> and <c>chat</c>.</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Basalt: run foundation models on machines you own.")
        {
            InspectCommand.Create(stdout),
            TokenizeCommand.Create(stdout),
            PerplexityCommand.Create(stdout, stderr),
            GenerateCommand.Create(stdout, stderr),
            BenchCommand.Create(stdout),
            RunCommand.Create(stdin, stdout, stderr),
            ChatCommand.Create(stdin, stdout, stderr),
            ServeCommand.Create(stderr),
            QuantizeCommand.Create(stdout, stderr),
            CreateModelCommand.Create(stdout, stderr),
            ServeBenchCommand.Create(stdout),
        };
        var parse = root.Parse(args);
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            return parse.Invoke(config);
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"error: {e.Message}");
            return UserError;
        }
    }

    private static bool IsUserError(Exception e) => e is GgufFormatException or TokenizerFormatException
        or FileNotFoundException or DirectoryNotFoundException or CliUsageException or UnauthorizedAccessException or IOException
        or ModelFormatException or ContextOverflowException or HttpRequestException;
}
