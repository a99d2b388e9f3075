namespace Basalt.Inference.Sampling;

/// <summary>
/// Runs samplers in order over one set of candidates; the last one must pick a token. A chain is
/// itself an <see cref="ISampler"/>, so chains nest. It owns one <see cref="TokenCandidates"/>
/// buffer that <see cref="Sample"/> reuses on every step.
/// </summary>
/// <remarks>Not thread-safe: one chain per sequence.</remarks>
public sealed class SamplerChain : ISampler
{
    private readonly ISampler[] _samplers;
    private TokenCandidates? _buffer;

    /// <summary>Creates a chain that runs <paramref name="samplers"/> in the given order.</summary>
    public SamplerChain(IEnumerable<ISampler> samplers)
    {
        ArgumentNullException.ThrowIfNull(samplers);
        _samplers = [.. samplers];
        if (_samplers.Length == 0)
            throw new ArgumentException("A sampler chain needs at least one sampler, ending with a picker.", nameof(samplers));
        foreach (var s in _samplers)
            ArgumentNullException.ThrowIfNull(s, nameof(samplers));
    }

    /// <summary>The samplers, in the order they run.</summary>
    public IReadOnlyList<ISampler> Samplers => _samplers;

    /// <inheritdoc/>
    public string Name => "chain";

    /// <summary>
    /// Builds llama.cpp's default chain: logit bias → penalties → top-k → top-p → min-p →
    /// temperature → dist; or logit bias → penalties → greedy when the temperature is 0 or below.
    /// </summary>
    /// <param name="options">The settings.</param>
    /// <param name="vocabSize">The vocabulary size, for validating logit-bias ids.</param>
    public static SamplerChain Create(SamplerOptions options, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        var samplers = new List<ISampler>
        {
            new LogitBiasSampler(options.LogitBias ?? new Dictionary<int, float>(), vocabSize),
            new RepetitionPenaltySampler(options.PenaltyLastN, options.RepeatPenalty, options.FrequencyPenalty, options.PresencePenalty),
        };
        if (options.Temperature <= 0f)
        {
            samplers.Add(new GreedySampler());
        }
        else
        {
            samplers.Add(new TopKSampler(options.TopK));
            samplers.Add(new TopPSampler(options.TopP));
            samplers.Add(new MinPSampler(options.MinP));
            samplers.Add(new TemperatureSampler(options.Temperature));
            samplers.Add(new DistributionSampler(options.Seed));
        }
        return new SamplerChain(samplers);
    }

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        foreach (var s in _samplers)
            s.Apply(candidates);
    }

    /// <inheritdoc/>
    public void Accept(int token)
    {
        foreach (var s in _samplers)
            s.Accept(token);
    }

    /// <inheritdoc/>
    public void Reset()
    {
        foreach (var s in _samplers)
            s.Reset();
    }

    /// <summary>
    /// Picks the next token from raw logits and, like llama.cpp's <c>llama_sampler_sample</c>,
    /// accepts it so penalties see it on the next step. Prompt tokens go through <see cref="Accept"/>.
    /// </summary>
    /// <param name="logits">One logit per vocabulary entry; not modified.</param>
    /// <returns>The chosen token id.</returns>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (_buffer is null || _buffer.Capacity < logits.Length)
            _buffer = new TokenCandidates(Math.Max(1, logits.Length));
        _buffer.Load(logits);
        Apply(_buffer);
        int token = _buffer.SelectedId;
        Accept(token);
        return token;
    }
}
