using BenchmarkDotNet.Running;

namespace Basalt.Benchmarks;

/// <summary>
/// Entry point: pick benchmarks with <c>--filter</c>, e.g. <c>--filter '*GgufOpen*' --job short</c>; or
/// <c>decode-bound MODEL [THREADS] [PASSES] [TOKENS]</c> for <see cref="DecodeBound"/>.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "decode-bound") DecodeBound.Run(args[1..]);
        else BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
