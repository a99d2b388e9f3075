namespace Basalt.Inference.Sampling;

/// <summary>
/// A reusable buffer of (id, logit, p) entries covering a whole vocabulary, the working set a
/// sampler chain narrows down on each step. Allocated once and refilled by <see cref="Load"/>, so a
/// decode loop samples without per-token allocation.
/// </summary>
public sealed class TokenCandidates
{
    private readonly TokenCandidate[] _entries;

    /// <summary>Creates a buffer for up to <paramref name="capacity"/> entries (the vocabulary size).</summary>
    public TokenCandidates(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _entries = GC.AllocateUninitializedArray<TokenCandidate>(capacity);
    }

    /// <summary>The most entries this buffer can hold.</summary>
    public int Capacity => _entries.Length;

    /// <summary>How many entries are still candidates.</summary>
    public int Count { get; private set; }

    /// <summary>True when the entries are ordered by logit, highest first (ties by lower id).</summary>
    public bool IsSorted { get; set; }

    /// <summary>True when every entry's <see cref="TokenCandidate.P"/> is the softmax of the current logits over the current entries.</summary>
    public bool HasProbabilities { get; set; }

    /// <summary>
    /// True while entry <c>i</c> holds token <c>i</c>, as right after <see cref="Load"/>; lets
    /// samplers that touch a few ids (bias, penalties) index directly instead of scanning.
    /// </summary>
    public bool IsIdOrdered { get; private set; }

    /// <summary>The index of the entry a picker chose, or -1 when none has been chosen yet.</summary>
    public int SelectedIndex { get; set; } = -1;

    /// <summary>The live entries, editable in place.</summary>
    public Span<TokenCandidate> Entries => _entries.AsSpan(0, Count);

    /// <summary>The token id a picker chose.</summary>
    /// <exception cref="InvalidOperationException">No picker has chosen a token.</exception>
    public int SelectedId => SelectedIndex >= 0 && SelectedIndex < Count
        ? _entries[SelectedIndex].Id
        : throw new InvalidOperationException("No token has been selected; a sampler chain must end with a picker (greedy or distribution).");

    /// <summary>Refills the buffer with one entry per logit, id = index, and clears all flags.</summary>
    public void Load(ReadOnlySpan<float> logits)
    {
        if (logits.Length > _entries.Length)
            throw new ArgumentException($"Expected at most {_entries.Length} logits (the vocabulary size) but got {logits.Length}.", nameof(logits));
        for (int i = 0; i < logits.Length; i++)
            _entries[i] = new TokenCandidate(i, logits[i], 0f);
        Count = logits.Length;
        IsSorted = false;
        HasProbabilities = false;
        IsIdOrdered = true;
        SelectedIndex = -1;
    }

    /// <summary>
    /// Keeps only the first <paramref name="count"/> entries. Probabilities are no longer
    /// normalised afterwards, so <see cref="HasProbabilities"/> is cleared.
    /// </summary>
    public void Truncate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count)
            return;
        Count = count;
        HasProbabilities = false;
    }

    /// <summary>Records that logits were edited; pass whether their relative order survived.</summary>
    public void OnLogitsChanged(bool orderPreserved)
    {
        HasProbabilities = false;
        if (!orderPreserved)
            IsSorted = false;
    }

    /// <summary>Records that entries were moved, so entry <c>i</c> may no longer be token <c>i</c>.</summary>
    public void OnEntriesMoved() => IsIdOrdered = false;

    /// <summary>Sorts the entries by logit, highest first, ties by lower id.</summary>
    public void Sort()
    {
        if (IsSorted)
            return;
        Entries.Sort(new CandidateOrder());
        IsSorted = true;
        IsIdOrdered = false;
    }

    /// <summary>
    /// Moves the best <paramref name="k"/> entries to the front in sorted order and drops the rest.
    /// Costs O(n log k) instead of a full sort, which matters for 100k+ vocabularies.
    /// </summary>
    public void KeepTop(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (k >= Count)
        {
            Sort();
            return;
        }
        if (!IsSorted)
        {
            SelectTop(Entries, k);
            _entries.AsSpan(0, k).Sort(new CandidateOrder());
            IsSorted = true;
            IsIdOrdered = false;
        }
        Truncate(k);
    }

    /// <summary>Sets every entry's probability to the softmax of the logits (exponentials summed in double).</summary>
    public void Softmax()
    {
        if (HasProbabilities)
            return;
        var entries = Entries;
        if (entries.Length == 0)
            return;
        float max = float.NegativeInfinity;
        foreach (ref readonly var e in entries)
            max = MathF.Max(max, e.Logit);
        if (float.IsNegativeInfinity(max))
            throw new InvalidOperationException("Every remaining candidate has logit -infinity (all tokens banned); there is nothing to sample.");

        double sum = 0;
        foreach (ref var e in entries)
        {
            float x = MathF.Exp(e.Logit - max);
            e.P = x;
            sum += x;
        }
        double inv = 1.0 / sum;
        foreach (ref var e in entries)
            e.P = (float)(e.P * inv);
        HasProbabilities = true;
    }

    /// <summary>Finds the index of token <paramref name="id"/>, or -1 when it is no longer a candidate.</summary>
    public int IndexOf(int id)
    {
        if (IsIdOrdered)
            return (uint)id < (uint)Count ? id : -1;
        var entries = Entries;
        for (int i = 0; i < entries.Length; i++)
            if (entries[i].Id == id)
                return i;
        return -1;
    }

    // Heap selection: a min-heap (worst entry at the root) over the first k slots; every later
    // entry that beats the root replaces it. Swaps keep the buffer a permutation of the vocabulary.
    private static void SelectTop(Span<TokenCandidate> entries, int k)
    {
        for (int i = k / 2 - 1; i >= 0; i--)
            SiftDown(entries, i, k);
        for (int i = k; i < entries.Length; i++)
        {
            if (CandidateOrder.Before(entries[i], entries[0]))
            {
                (entries[0], entries[i]) = (entries[i], entries[0]);
                SiftDown(entries, 0, k);
            }
        }
    }

    private static void SiftDown(Span<TokenCandidate> heap, int i, int size)
    {
        while (true)
        {
            int worst = i, left = 2 * i + 1, right = left + 1;
            if (left < size && CandidateOrder.Before(heap[worst], heap[left]))
                worst = left;
            if (right < size && CandidateOrder.Before(heap[worst], heap[right]))
                worst = right;
            if (worst == i)
                return;
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }
}
