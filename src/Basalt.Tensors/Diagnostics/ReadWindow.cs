using System.Diagnostics;
using Basalt.Tensors.Threading;

namespace Basalt.Tensors.Diagnostics;

/// <summary>
/// The reads around one timed run, as <c>basalt bench --bandwidth</c> takes them: on each side at least two reads of
/// <see cref="ReadBandwidth"/> on the run's own threads, more until that side's time has passed.
/// <see cref="Peak"/> is the highest of the two reads nearest the run on either side, the run's ceiling (a single read
/// takes ~10-20 ms, and on a busy host one such sample can fall well below what the same cores read over the run's
/// seconds); <see cref="Sustained"/> is bytes over time of every read of the window, which averages the host's swings
/// as the run does.
/// </summary>
public sealed class ReadWindow(ReadBandwidth reads, WorkerPool pool)
{
    private double _seconds, _bytes;

    /// <summary>The highest of the two reads just before and the two just after the run, GB/s.</summary>
    public double Peak { get; private set; }

    /// <summary>Bytes over time of every read of the window, GB/s.</summary>
    public double Sustained => _bytes / _seconds / 1e9;

    /// <summary>Reads for <paramref name="seconds"/> (at least twice) just before the run.</summary>
    public void Before(double seconds)
    {
        var side = Side(seconds);
        Peak = Math.Max(Peak, Math.Max(side[^1], side[^2]));
    }

    /// <summary>Reads for <paramref name="seconds"/> (at least twice) just after the run.</summary>
    public void After(double seconds)
    {
        var side = Side(seconds);
        Peak = Math.Max(Peak, Math.Max(side[0], side[1]));
    }

    private List<double> Side(double seconds)
    {
        var results = new List<double>();
        var clock = Stopwatch.StartNew();
        while (results.Count < 2 || clock.Elapsed.TotalSeconds < seconds)
        {
            double gbs = reads.Measure(pool);
            _seconds += reads.Bytes / gbs / 1e9;
            _bytes += reads.Bytes;
            results.Add(gbs);
        }
        return results;
    }
}
