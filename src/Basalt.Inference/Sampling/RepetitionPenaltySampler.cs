namespace Basalt.Inference.Sampling;

/// <summary>
/// Penalises tokens seen among the last <c>penaltyLastN</c> accepted tokens, with llama.cpp's
/// semantics: the repeat penalty divides a positive logit and multiplies a non-positive one (both
/// push it down), then <c>count × frequency + (count &gt; 0) × presence</c> is subtracted.
/// </summary>
public sealed class RepetitionPenaltySampler : ISampler
{
    private readonly int[] _history; // ring buffer of the last accepted tokens
    private readonly Dictionary<int, int> _counts = [];
    private int _next;
    private int _filled;

    /// <summary>Creates the sampler.</summary>
    /// <param name="penaltyLastN">How many recent tokens count; 0 disables the sampler.</param>
    /// <param name="repeatPenalty">Divides positive / multiplies negative logits of seen tokens; 1 = off.</param>
    /// <param name="frequencyPenalty">Subtracted once per occurrence; 0 = off.</param>
    /// <param name="presencePenalty">Subtracted once if the token occurred at all; 0 = off.</param>
    public RepetitionPenaltySampler(int penaltyLastN = 64, float repeatPenalty = 1f, float frequencyPenalty = 0f, float presencePenalty = 0f)
    {
        if (penaltyLastN < 0)
            throw new ArgumentOutOfRangeException(nameof(penaltyLastN), penaltyLastN, "penaltyLastN must be >= 0; resolve -1 (whole context) to the context length before building the sampler.");
        if (!(repeatPenalty > 0) || float.IsInfinity(repeatPenalty))
            throw new ArgumentOutOfRangeException(nameof(repeatPenalty), repeatPenalty, "Repeat penalty must be a positive finite number; 1 disables it.");
        if (!float.IsFinite(frequencyPenalty))
            throw new ArgumentOutOfRangeException(nameof(frequencyPenalty), frequencyPenalty, "Frequency penalty must be finite.");
        if (!float.IsFinite(presencePenalty))
            throw new ArgumentOutOfRangeException(nameof(presencePenalty), presencePenalty, "Presence penalty must be finite.");
        PenaltyLastN = penaltyLastN;
        RepeatPenalty = repeatPenalty;
        FrequencyPenalty = frequencyPenalty;
        PresencePenalty = presencePenalty;
        _history = new int[penaltyLastN];
    }

    /// <summary>How many recent tokens count.</summary>
    public int PenaltyLastN { get; }

    /// <summary>The multiplicative repeat penalty.</summary>
    public float RepeatPenalty { get; }

    /// <summary>The per-occurrence penalty.</summary>
    public float FrequencyPenalty { get; }

    /// <summary>The once-if-present penalty.</summary>
    public float PresencePenalty { get; }

    /// <inheritdoc/>
    public string Name => "penalties";

    private bool IsOff => PenaltyLastN == 0 || (RepeatPenalty == 1f && FrequencyPenalty == 0f && PresencePenalty == 0f);

    /// <inheritdoc/>
    public void Accept(int token)
    {
        if (IsOff)
            return;
        if (_filled == _history.Length)
        {
            int evicted = _history[_next];
            int left = _counts[evicted] - 1;
            if (left == 0)
                _counts.Remove(evicted);
            else
                _counts[evicted] = left;
        }
        else
        {
            _filled++;
        }
        _history[_next] = token;
        _next = (_next + 1) % _history.Length;
        _counts[token] = _counts.GetValueOrDefault(token) + 1;
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _counts.Clear();
        _next = 0;
        _filled = 0;
    }

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (IsOff || _counts.Count == 0)
            return;
        var entries = candidates.Entries;
        if (candidates.IsIdOrdered)
        {
            foreach (var (id, count) in _counts)
            {
                int i = candidates.IndexOf(id);
                if (i >= 0)
                    entries[i].Logit = Penalise(entries[i].Logit, count);
            }
        }
        else
        {
            foreach (ref var e in entries)
                if (_counts.TryGetValue(e.Id, out int count))
                    e.Logit = Penalise(e.Logit, count);
        }
        candidates.OnLogitsChanged(orderPreserved: false);
    }

    private float Penalise(float logit, int count)
    {
        logit = logit <= 0 ? logit * RepeatPenalty : logit / RepeatPenalty;
        return logit - (count * FrequencyPenalty + PresencePenalty);
    }
}
