using System.CommandLine;
using Basalt.Tensors.Threading;

namespace Basalt.Cli.Commands;

/// <summary>The <c>--threads</c> option and the worker pool it sizes.</summary>
internal static class ThreadsOption
{
    public static Option<int?> Create() => new("--threads", "-t") { Description = "Threads for the forward pass (default: all cores)." };

    public static WorkerPool CreateRuntime(int? threads)
    {
        int n = threads ?? Environment.ProcessorCount;
        if (n < 1 || n > 256) throw new CliUsageException($"--threads must be between 1 and 256; got {n}.");
        return new WorkerPool(n);
    }
}
