using System.Diagnostics;
using System.Threading.Channels;
using Basalt.Inference.Generation;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;
using Basalt.Tokenizers;

namespace Basalt.Inference.Engine;

/// <summary>
/// One request inside the engine: its prompt, sampler, the sequence it decodes in once admitted, and
/// the channel its updates go to. Everything but <see cref="TryCancelQueued"/> runs on the loop thread.
/// </summary>
internal sealed class EngineJob
{
    private const int Queued = 0, Running = 1, Done = 2;

    private readonly Channel<EngineUpdate> _updates =
        Channel.CreateUnbounded<EngineUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly StopSequenceMatcher _stops;
    private readonly long _enqueuedAt = Stopwatch.GetTimestamp();
    private long _admittedAt, _promptDoneAt;
    private int _state;
    private StreamingDetokenizer? _detokenizer;

    public EngineJob(EngineRequest request, int[] promptTokens, SamplerChain sampler, CancellationToken cancellationToken)
    {
        Request = request;
        PromptTokens = promptTokens;
        Sampler = sampler;
        CancellationToken = cancellationToken;
        _stops = new StopSequenceMatcher(request.StopSequences);
    }

    public EngineRequest Request { get; }
    public int[] PromptTokens { get; }
    public SamplerChain Sampler { get; }
    public CancellationToken CancellationToken { get; }
    public ChannelReader<EngineUpdate> Updates => _updates.Reader;

    /// <summary>The sequence it decodes in, from admission to finish.</summary>
    public Sequence? Sequence { get; private set; }

    /// <summary>Logits to sample the next token from; [n_vocab].</summary>
    public float[] Logits { get; private set; } = [];

    /// <summary>The last sampled token, fed to the model in the next step.</summary>
    public int PendingToken { get; private set; }

    /// <summary>Whether the pending token still has to go through the model before sampling again.</summary>
    public bool NeedsStep { get; private set; }

    public int Generated { get; private set; }

    /// <summary>The hook that answers a cancellation while queued; dropped when the job ends.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>Moves a queued job to running; false when it was cancelled while waiting.</summary>
    public bool TryStart() => Interlocked.CompareExchange(ref _state, Running, Queued) == Queued;

    /// <summary>
    /// Ends a job that is still waiting in the queue (from the canceller's thread). <paramref name="beforeAnswer"/> runs
    /// between marking it done and sending its final update, so a caller that has read that update sees whatever the
    /// action counted (the engine's queue depth without it).
    /// </summary>
    public bool TryCancelQueued(Action beforeAnswer)
    {
        if (Interlocked.CompareExchange(ref _state, Done, Queued) != Queued) return false;
        beforeAnswer();
        WriteFinal(FinishReason.Cancelled, "");
        return true;
    }

    /// <summary>Prompt tokens found already computed when the job started.</summary>
    public int CachedPromptTokens { get; private set; }

    /// <summary>
    /// An earlier job still working through a prompt that starts like this one's: this job waits for it to have
    /// <see cref="FollowLength"/> tokens cached and copies them, rather than computing the same tokens alongside it.
    /// </summary>
    public EngineJob? Leader { get; set; }

    /// <summary>Prompt tokens this job expects to copy from its <see cref="Leader"/>.</summary>
    public int FollowLength { get; set; }

    /// <summary>Prompt tokens already in the sequence's cache.</summary>
    public int PromptDone { get; private set; }

    /// <summary>Whether prompt tokens are still waiting to go through the model.</summary>
    public bool Prefilling => Sequence is not null && PromptDone < PromptTokens.Length;

    /// <summary>Whether <see cref="Logits"/> hold fresh logits to sample from.</summary>
    public bool HasLogits { get; private set; }

    /// <summary>
    /// Takes <paramref name="sequence"/> for this job, which already holds the first <paramref name="cached"/> prompt
    /// tokens; the rest of the prompt then goes through the model in chunks (<see cref="PromptProcessed"/>).
    /// </summary>
    public void Begin(Sequence sequence, int cached, float[] logits, Tokenizer tokenizer)
    {
        if (PromptTokens.Length == 0) throw new ArgumentException("The prompt has no tokens.");
        if (cached < 0 || cached >= PromptTokens.Length || sequence.Length != cached)
            throw new ArgumentOutOfRangeException(nameof(cached), cached, "A sequence must hold fewer tokens than the prompt, and exactly those.");
        PromptDone = CachedPromptTokens = cached;
        _admittedAt = Stopwatch.GetTimestamp();
        Sequence = sequence;
        Logits = logits;
        _detokenizer = new StreamingDetokenizer(tokenizer);
        foreach (int t in PromptTokens) Sampler.Accept(t);
    }

    /// <summary>Records that the sequence now holds <paramref name="count"/> prompt tokens copied from another (more than before).</summary>
    public void PromptCopied(int count)
    {
        if (count <= PromptDone || count >= PromptTokens.Length || Sequence!.Length != count)
            throw new ArgumentOutOfRangeException(nameof(count), count, "A copied prefix must extend the cached prompt, stop before its last token and be what the sequence holds.");
        CachedPromptTokens += count - PromptDone;
        PromptDone = count;
    }

    /// <summary>Records that <paramref name="count"/> more prompt tokens went into the cache; with the last, their logits.</summary>
    public void PromptProcessed(int count, ReadOnlySpan<float> lastLogits)
    {
        PromptDone += count;
        Sequence!.Extend(PromptTokens.AsSpan(PromptDone - count, count), PromptDone == PromptTokens.Length ? lastLogits : default);
        if (PromptDone < PromptTokens.Length) return;
        lastLogits.CopyTo(Logits);
        HasLogits = true;
        _promptDoneAt = Stopwatch.GetTimestamp();
    }

    /// <summary>Records that the pending token went into the cache, with the logits after it.</summary>
    public void Decoded(ReadOnlySpan<float> logits)
    {
        Sequence!.Extend([PendingToken], logits);
        logits.CopyTo(Logits);
        NeedsStep = false;
        HasLogits = true;
    }

    /// <summary>
    /// Samples, streams and checks the stop conditions for one token (the per-token half of
    /// <see cref="Generator"/>); returns the finish reason when the job is over.
    /// </summary>
    public FinishReason? SampleNext(Vocabulary vocabulary, int maxTokens)
    {
        NeedsStep = false;
        HasLogits = false;
        if (Generated >= maxTokens) return FinishReason.Length;
        var top = Request.TopLogProbs > 0 ? LogProbs.TopK(Logits, Request.TopLogProbs) : null;
        int token = Sampler.Sample(Logits);
        if (vocabulary.IsEndOfGeneration(token)) return FinishReason.Eos;
        TokenLogProb? own = Request.LogProbs ? new TokenLogProb(token, LogProbs.LogProbOf(Logits, token)) : null;
        Generated++;
        string piece = _stops.Push(_detokenizer!.Push(token));
        _updates.Writer.TryWrite(new EngineUpdate(token, piece, own, top));
        if (_stops.Stopped) return FinishReason.Stop;
        if (Generated >= maxTokens || Sequence!.Length >= Sequence.Capacity) return FinishReason.Length;
        PendingToken = token;
        NeedsStep = true;
        return null;
    }

    /// <summary>Sends the final update (with any held-back text) and closes the channel.</summary>
    public void Finish(FinishReason reason)
    {
        Volatile.Write(ref _state, Done);
        string tail = reason == FinishReason.Stop || _detokenizer is null ? "" : _stops.Push(_detokenizer.Flush()) + _stops.Flush();
        WriteFinal(reason, tail);
    }

    /// <summary>Ends the job with an error its reader will see.</summary>
    public void Fail(Exception error)
    {
        Volatile.Write(ref _state, Done);
        _updates.Writer.TryComplete(error);
        Registration.Unregister();
    }

    private void WriteFinal(FinishReason reason, string tail)
    {
        long now = Stopwatch.GetTimestamp();
        long admitted = _admittedAt == 0 ? now : _admittedAt;
        long promptDone = _promptDoneAt == 0 ? now : _promptDoneAt;
        var usage = new EngineUsage(PromptTokens.Length, Generated,
            Stopwatch.GetElapsedTime(_enqueuedAt, admitted),
            Stopwatch.GetElapsedTime(admitted, promptDone),
            Stopwatch.GetElapsedTime(promptDone, now)) { CachedPromptTokens = CachedPromptTokens };
        _updates.Writer.TryWrite(new EngineUpdate(-1, tail) { FinishReason = reason, Usage = usage });
        _updates.Writer.TryComplete();
        Registration.Unregister();
    }

    /// <summary>Hands back the sequence for reuse.</summary>
    public Sequence? ReleaseSequence()
    {
        var s = Sequence;
        Sequence = null;
        return s;
    }
}
