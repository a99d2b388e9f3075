namespace Basalt.Inference.Generation;

/// <summary>
/// Watches streamed text for stop sequences, which may arrive split across tokens. Text that could
/// still be the start of a stop sequence is held back; when a stop sequence completes, the text
/// before it is released and the stop text itself never is.
/// </summary>
public sealed class StopSequenceMatcher(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = stops.Where(s => s.Length > 0).ToArray();
    private string _held = "";

    /// <summary>Whether a stop sequence has been seen.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The stop sequence that matched, if any.</summary>
    public string? Matched { get; private set; }

    /// <summary>Adds newly decoded text; returns the text that is safe to emit now.</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        string buffer = _held + text;
        int cut = -1;
        foreach (var stop in _stops)
        {
            int at = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
            {
                cut = at;
                Matched = stop;
            }
        }
        if (cut >= 0)
        {
            Stopped = true;
            _held = "";
            return buffer[..cut];
        }
        int keep = LongestPendingPrefix(buffer);
        _held = buffer[(buffer.Length - keep)..];
        return buffer[..(buffer.Length - keep)];
    }

    /// <summary>Releases held-back text at the end of generation (no stop sequence completed).</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _held;
        _held = "";
        return rest;
    }

    // Length of the longest suffix of the buffer that is a proper prefix of some stop sequence.
    private int LongestPendingPrefix(string buffer)
    {
        int best = 0;
        foreach (var stop in _stops)
            for (int n = Math.Min(stop.Length - 1, buffer.Length); n > best; n--)
                if (buffer.AsSpan(buffer.Length - n).SequenceEqual(stop.AsSpan(0, n)))
                {
                    best = n;
                    break;
                }
        return best;
    }
}
