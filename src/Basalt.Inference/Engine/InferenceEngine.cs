using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Basalt.Inference.Generation;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;

namespace Basalt.Inference.Engine;

/// <summary>
/// Serves many generations over one model with continuous batching. One loop thread owns the model:
/// each iteration it admits waiting requests (processing their prompts), runs one
/// <see cref="BatchDecoder.Step"/> over every active sequence, and samples, streams and finishes each.
/// Callers never touch the model: they <see cref="Submit"/> a request and read its channel of updates.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly TransformerModel _model;
    private readonly BatchForward _forward; // shared by every sequence, so one step is one batched forward pass
    private readonly List<WorkItem> _work = [];
    private readonly List<WorkItem> _batchParts = [];
    private readonly BatchEntry[] _entries;
    private readonly EngineOptions _options;
    private readonly int _contextLength;
    private readonly Channel<EngineJob> _queue;
    private readonly List<EngineJob> _active = [];
    private readonly List<EngineJob> _sampling = [];        // the jobs sampling in this step
    private FinishReason?[] _finish = new FinishReason?[8];  // how each of them ended, if it did
    private readonly RowsJob _rows = new();
    private readonly Action<int> _sampleJob;
    private readonly List<IdleSequence> _idle = []; // sequences of finished requests, least recently used first; their tokens stay cached for reuse
    private readonly Stack<float[]> _freeLogits = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _loop;
    private int _queueDepth, _activeCount, _disposed;
    private int _sequences; // sequences made so far: running ones plus idle ones
    private long _submitted, _rejected, _completed, _cancelled, _failed, _promptTokens, _cachedPromptTokens, _generatedTokens, _steps;

    /// <summary>Starts the loop thread over <paramref name="model"/>, which the engine uses but does not own.</summary>
    public InferenceEngine(TransformerModel model, EngineOptions? options = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options ?? new EngineOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxActiveSequences, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.QueueCapacity, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.StepTokens, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MinPromptTokensPerStep, 1, nameof(options));
        int max = model.Config.ContextLength;
        _contextLength = _options.ContextLength is int n
            ? (n >= 1 && n <= max ? n : throw new ArgumentOutOfRangeException(nameof(options), n, $"Context length must be between 1 and the model's {max}."))
            : Math.Min(max, 4096);
        _queue = Channel.CreateBounded<EngineJob>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        // Batches hold a whole step where that is reasonable; bigger steps run as several batches.
        _forward = new BatchForward(model, _options.Runtime, Math.Max(Math.Max(64, _options.MaxActiveSequences), Math.Min(_options.StepTokens, 512)));
        _entries = new BatchEntry[_forward.MaxBatch];
        _sampleJob = SampleJob;
        _loop = new Thread(Run) { IsBackground = true, Name = "basalt-engine" };
        _loop.Start();
    }

    /// <summary>The model being served.</summary>
    public TransformerModel Model => _model;

    /// <summary>Tokens each sequence holds, prompt included.</summary>
    public int ContextLength => _contextLength;

    /// <summary>Sequences being decoded now.</summary>
    public int ActiveSequences => Volatile.Read(ref _activeCount);

    /// <summary>Requests waiting for a slot.</summary>
    public int QueueDepth => Volatile.Read(ref _queueDepth);

    /// <summary>Running totals since the engine started.</summary>
    public EngineCounters Counters => new(Interlocked.Read(ref _submitted), Interlocked.Read(ref _rejected),
        Interlocked.Read(ref _completed), Interlocked.Read(ref _cancelled), Interlocked.Read(ref _failed),
        Interlocked.Read(ref _promptTokens), Interlocked.Read(ref _generatedTokens), Interlocked.Read(ref _steps),
        Interlocked.Read(ref _cachedPromptTokens));

    /// <summary>
    /// Queues <paramref name="request"/> and returns the channel its updates arrive on; the last update
    /// has a finish reason, and errors found once the request runs (such as a
    /// <see cref="ContextOverflowException"/>) complete the channel with that exception. Cancelling
    /// <paramref name="cancellationToken"/> ends the request within one decode step.
    /// </summary>
    /// <exception cref="EngineBusyException">The queue is full.</exception>
    /// <exception cref="ArgumentException">The request is malformed (empty prompt, bad limits, bad logit-bias id).</exception>
    public ChannelReader<EngineUpdate> Submit(EngineRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (request.MaxTokens < 0) throw new ArgumentOutOfRangeException(nameof(request), request.MaxTokens, "MaxTokens must be 0 or more.");
        if (request.TopLogProbs < 0) throw new ArgumentOutOfRangeException(nameof(request), request.TopLogProbs, "TopLogProbs must be 0 or more.");
        // Tokenizing and building the sampler here keeps that work off the loop and reports bad input to the caller at once.
        int[] prompt = request.PromptTokens is { } ids ? [.. ids] : _model.Tokenizer.Encode(request.Prompt ?? "", request.AddSpecial, request.ParseSpecial);
        if (prompt.Length == 0) throw new ArgumentException("The prompt is empty and the vocabulary adds no BOS token; give at least one token of prompt.", nameof(request));
        foreach (int t in prompt)
            if ((uint)t >= (uint)_model.Config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(request), t, $"Prompt token ids must be in 0..{_model.Config.VocabSize - 1}.");
        var sampler = SamplerChain.Create(request.Sampling, _model.Config.VocabSize);
        var job = new EngineJob(request, prompt, sampler, cancellationToken);

        Interlocked.Increment(ref _queueDepth);
        if (!_queue.Writer.TryWrite(job))
        {
            Interlocked.Decrement(ref _queueDepth);
            Interlocked.Increment(ref _rejected);
            throw new EngineBusyException(_options.QueueCapacity);
        }
        Interlocked.Increment(ref _submitted);
        // A request cancelled while queued must not wait for a slot to hear about it.
        if (cancellationToken.CanBeCanceled)
            job.Registration = cancellationToken.UnsafeRegister(static state =>
            {
                var (engine, queued) = ((InferenceEngine, EngineJob))state!;
                queued.TryCancelQueued(engine.CountCancelledWhileQueued);
            }, (this, job));
        return job.Updates;
    }

    private void CountCancelledWhileQueued()
    {
        Interlocked.Decrement(ref _queueDepth);
        Interlocked.Increment(ref _cancelled);
    }

    /// <summary>Submits <paramref name="request"/> and streams its updates, the final one included.</summary>
    /// <exception cref="EngineBusyException">The queue is full.</exception>
    public async IAsyncEnumerable<EngineUpdate> GenerateAsync(EngineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var updates = Submit(request, cancellationToken);
        // Not cancelled by the token: the engine answers a cancellation with a final update within one step.
        await foreach (var update in updates.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            yield return update;
    }

    /// <summary>Stops the loop; requests still running or queued end with an <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _queue.Writer.TryComplete();
        _stop.Cancel();
        _loop.Join();
        _stop.Dispose();
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (_active.Count == 0 && !WaitForWork()) break;
            try
            {
                DropCancelled();
                Admit();
                Step();
            }
            catch (Exception e)
            {
                // A bug in one step must not take the server down: fail what was running and keep serving.
                foreach (var job in _active.ToArray()) End(job, e);
            }
        }
        var gone = new ObjectDisposedException(nameof(InferenceEngine), "The engine was shut down.");
        foreach (var job in _active.ToArray()) End(job, gone);
        while (_queue.Reader.TryRead(out var queued))
            if (queued.TryStart()) queued.Fail(gone);
    }

    private bool WaitForWork()
    {
        try
        {
            return _queue.Reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void DropCancelled()
    {
        foreach (var job in _active.ToArray())
            if (job.CancellationToken.IsCancellationRequested) End(job, FinishReason.Cancelled);
    }

    private void Admit()
    {
        while (_active.Count < _options.MaxActiveSequences && _queue.Reader.TryRead(out var job))
        {
            if (!job.TryStart()) continue; // cancelled while queued; already answered
            Interlocked.Decrement(ref _queueDepth);
            _active.Add(job);
            Volatile.Write(ref _activeCount, _active.Count);
            if (job.CancellationToken.IsCancellationRequested)
            {
                End(job, FinishReason.Cancelled);
                continue;
            }
            try
            {
                if (job.PromptTokens.Length + 1 > _contextLength)
                    throw new ContextOverflowException(job.PromptTokens.Length + 1, _contextLength);
                var (sequence, cached) = TakeSequence(job.PromptTokens, job.Request.CacheScope);
                job.Begin(sequence, cached, RentLogits(), _model.Tokenizer);
                Interlocked.Add(ref _promptTokens, job.PromptTokens.Length);
                Interlocked.Add(ref _cachedPromptTokens, cached);
                FindLeader(job);
            }
            catch (Exception e)
            {
                End(job, e);
            }
        }
    }

    /// <summary>
    /// One step: the pending token of every decoding sequence and the next chunk of waiting prompts go through the
    /// model together (in batches of at most the forward pass's size), then every job with fresh logits samples.
    /// </summary>
    private void Step()
    {
        _work.Clear();
        int decoding = 0;
        foreach (var job in _active)
        {
            if (!job.NeedsStep) continue;
            _work.Add(new WorkItem(job, 0, 1));
            decoding++;
        }
        int budget = Math.Max(_options.StepTokens - decoding, _options.MinPromptTokensPerStep);
        foreach (var job in _active)
        {
            if (budget == 0) break;
            if (!job.Prefilling || !CaughtUp(job)) continue;
            int take = Math.Min(budget, job.PromptTokens.Length - job.PromptDone);
            _work.Add(new WorkItem(job, job.PromptDone, take));
            budget -= take;
        }
        if (_work.Count > 0)
        {
            RunWork();
            Interlocked.Increment(ref _steps);
        }
        // Sampling, streaming and the stop checks touch only each job's own state: the jobs are split across the pool
        // (a sampler over a whole vocabulary is not free); ending a job changes the active list, so that comes after.
        _sampling.Clear();
        foreach (var job in _active)
            if (job.HasLogits) _sampling.Add(job);
        if (_finish.Length < _sampling.Count) _finish = new FinishReason?[Math.Max(_sampling.Count, 2 * _finish.Length)];
        _rows.Run(_options.Runtime, _sampling.Count, _sampleJob);
        for (int i = 0; i < _sampling.Count; i++)
            if (_finish[i] is { } reason) End(_sampling[i], reason);
        _sampling.Clear();
    }

    /// <summary>Samples the next token of the i-th job with fresh logits (any thread).</summary>
    private void SampleJob(int i)
    {
        var job = _sampling[i];
        int before = job.Generated;
        _finish[i] = job.SampleNext(_model.Tokenizer.Vocabulary, job.Request.MaxTokens ?? _contextLength);
        Interlocked.Add(ref _generatedTokens, job.Generated - before);
    }

    /// <summary>
    /// Makes <paramref name="job"/> wait for an earlier job whose prompt, still being processed, shares more of its
    /// start than any cache holds now (a burst of requests with one system prompt): the shared tokens are then
    /// computed once and copied, instead of once per request in the same steps.
    /// </summary>
    private void FindLeader(EngineJob job)
    {
        int limit = job.PromptTokens.Length - 1;
        // Waiting costs the follower at least a step: worth it for a few tokens more than it has, not for a BOS alone.
        int gain = Math.Min(MinFollowTokens, limit - job.PromptDone);
        if (gain <= 0) return;
        int best = job.PromptDone + gain - 1;
        foreach (var other in _active)
        {
            if (other == job || !other.Prefilling || other.Request.CacheScope != job.Request.CacheScope) continue;
            int shared = Math.Min(other.PromptTokens.AsSpan().CommonPrefixLength(job.PromptTokens), limit);
            if (shared > best) (job.Leader, job.FollowLength, best) = (other, shared, shared);
        }
    }

    /// <summary>Fewest more prompt tokens a request waits for another to compute (fewer when its whole prompt is shorter).</summary>
    private const int MinFollowTokens = 16;

    /// <summary>
    /// Whether <paramref name="job"/> can take prompt tokens this step: it follows no one, or its leader has computed
    /// the shared tokens or has stopped. Then it copies the longest prefix of its prompt that any sequence holds (the
    /// leader's, or, when the leader ended before or while computing them, whatever that one or another left) and
    /// goes on alone.
    /// </summary>
    private bool CaughtUp(EngineJob job)
    {
        if (job.Leader is not { } leader) return true;
        if (leader.Sequence is { } running && leader.Prefilling && running.Length < job.FollowLength) return false;
        job.Leader = null;
        var (source, shared, _) = LongestCachedPrefix(job.PromptTokens, except: job.Sequence, job.Request.CacheScope);
        if (source is null || shared <= job.PromptDone) return true;
        job.Sequence!.CopyPrefixFrom(source, shared);
        Interlocked.Add(ref _cachedPromptTokens, shared - job.PromptDone);
        job.PromptCopied(shared);
        return true;
    }

    /// <summary>A run of tokens of one job in a step: its pending token (decoding) or prompt tokens [start, start + count).</summary>
    private readonly record struct WorkItem(EngineJob Job, int Start, int Count);

    /// <summary>Puts the step's work through the model, splitting it into batches the forward pass takes.</summary>
    private void RunWork()
    {
        int vocab = _model.Config.VocabSize;
        var entries = _entries;
        int n = 0;
        _batchParts.Clear();
        foreach (var item in _work)
        {
            var job = item.Job;
            var cache = job.Sequence!.Cache;
            bool decode = job.NeedsStep;
            for (int done = 0; done < item.Count;)
            {
                int take = Math.Min(item.Count - done, entries.Length - n);
                int position = job.Sequence.Length + PendingIn(job);
                for (int i = 0; i < take; i++)
                {
                    int token = decode ? job.PendingToken : job.PromptTokens[item.Start + done + i];
                    bool last = decode || item.Start + done + i == job.PromptTokens.Length - 1;
                    entries[n + i] = new BatchEntry(cache, token, position + i, last);
                }
                _batchParts.Add(new WorkItem(job, item.Start + done, take));
                n += take;
                done += take;
                if (n == entries.Length) Flush(ref n, vocab);
            }
        }
        if (n > 0) Flush(ref n, vocab);
        Array.Clear(entries);
    }

    /// <summary>Tokens of <paramref name="job"/> already placed in the batch being filled, ahead of its cache length.</summary>
    private int PendingIn(EngineJob job)
    {
        int count = 0;
        foreach (var part in _batchParts)
            if (part.Job == job) count += part.Count;
        return count;
    }

    /// <summary>Runs the batch filled so far and hands each job its cache growth and logits.</summary>
    private void Flush(ref int n, int vocab)
    {
        var logits = _forward.Forward(_entries.AsSpan(0, n));
        int row = 0;
        foreach (var part in _batchParts)
        {
            var job = part.Job;
            if (job.NeedsStep)
            {
                job.Decoded(logits.Slice(row++ * vocab, vocab));
                continue;
            }
            bool completes = part.Start + part.Count == job.PromptTokens.Length;
            job.PromptProcessed(part.Count, completes ? logits.Slice(row++ * vocab, vocab) : default);
        }
        _batchParts.Clear();
        n = 0;
    }

    // The counts change before the final update goes out: a caller that has read it sees the engine without the job.
    private void End(EngineJob job, FinishReason reason)
    {
        Remove(job);
        Interlocked.Increment(ref reason == FinishReason.Cancelled ? ref _cancelled : ref _completed);
        job.Finish(reason);
    }

    private void End(EngineJob job, Exception error)
    {
        Remove(job);
        Interlocked.Increment(ref _failed);
        job.Fail(error);
    }

    private void Remove(EngineJob job)
    {
        _active.Remove(job);
        Volatile.Write(ref _activeCount, _active.Count);
        if (job.ReleaseSequence() is { } sequence)
        {
            _idle.Add(new IdleSequence(sequence, job.Request.CacheScope)); // most recently used last, kept for a later request that starts the same way
            _freeLogits.Push(job.Logits);
        }
    }

    /// <summary>
    /// A sequence for a new request, and how many of its prompt tokens are already in it. The longest cached run of
    /// tokens that starts the prompt is reused: a finished request's sequence is taken over as it is (a chat's next
    /// turn, which repeats the conversation so far); a running one's is copied (requests that share a system
    /// prompt). The last prompt token always goes through the model, for the logits of the first new token. Reuse
    /// changes no result: every token's keys and values are computed the same way whatever batch they were in.
    /// </summary>
    private (Sequence Sequence, int Cached) TakeSequence(int[] prompt, string? scope)
    {
        var (best, bestLength, idleAt) = LongestCachedPrefix(prompt, except: null, scope);
        if (idleAt >= 0)
        {
            _idle.RemoveAt(idleAt);
            best!.Truncate(bestLength);
            return (best, bestLength);
        }
        // Up to one sequence per slot is made, as a full engine would have anyway, before a cached one is given up
        // (the least recently used): so a request that shares nothing does not evict another client's conversation.
        Sequence target;
        if (_sequences < _options.MaxActiveSequences || _idle.Count == 0)
        {
            target = new Sequence(_forward, _contextLength, _options.F16Cache);
            _sequences++;
        }
        else
        {
            target = _idle[0].Sequence;
            _idle.RemoveAt(0);
        }
        target.Reset();
        if (best is not null) target.CopyPrefixFrom(best, bestLength);
        return (target, bestLength);
    }

    /// <summary>
    /// The cached sequence of <paramref name="scope"/> (finished or running, other than <paramref name="except"/>) holding
    /// the longest run of tokens that starts <paramref name="prompt"/>, at most all but its last token; a finished one
    /// wins a tie, the most recently used among finished ones. Its index in the idle list, or -1 for a running one. Null,
    /// 0 and -1 when none holds even one.
    /// </summary>
    private (Sequence? Source, int Length, int IdleAt) LongestCachedPrefix(int[] prompt, Sequence? except, string? scope)
    {
        int limit = prompt.Length - 1;
        Sequence? best = null;
        int bestLength = 0, idleAt = -1;
        for (int i = 0; i < _idle.Count; i++)
        {
            var (idle, idleScope) = _idle[i];
            if (idleScope != scope) continue;
            int length = Math.Min(idle.Tokens.CommonPrefixLength(prompt), limit);
            if (length > 0 && length >= bestLength) (best, bestLength, idleAt) = (idle, length, i);
        }
        foreach (var job in _active)
        {
            if (job.Sequence is not { } running || running == except || job.Request.CacheScope != scope) continue;
            int length = Math.Min(running.Tokens.CommonPrefixLength(prompt), limit);
            if (length > bestLength) (best, bestLength, idleAt) = (running, length, -1);
        }
        return (best, bestLength, idleAt);
    }

    /// <summary>A finished request's sequence, kept with the cache scope of the request that filled it.</summary>
    private readonly record struct IdleSequence(Sequence Sequence, string? Scope);

    private float[] RentLogits() => _freeLogits.TryPop(out var l) ? l : new float[_model.Config.VocabSize];
}
