using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;
using Basalt.Tokenizers;

namespace Basalt.Inference.Generation;

/// <summary>
/// The generation loop: the prompt is processed, then one token per step is picked, streamed and fed
/// back, until an end-of-generation token, a stop sequence, the token limit, the end of the context
/// or cancellation.
/// </summary>
public sealed class Generator(TransformerModel model)
{
    /// <summary>Generates synchronously, calling <paramref name="onUpdate"/> for each token as it is produced.</summary>
    /// <exception cref="ContextOverflowException">The prompt does not fit in the context with room for one token.</exception>
    public GenerationResult Generate(Sequence sequence, string prompt, SamplerChain sampler, GenerationOptions options,
        Action<GenerationUpdate>? onUpdate = null, CancellationToken cancellationToken = default)
    {
        int[] promptTokens = model.Tokenizer.Encode(prompt, options.AddSpecial, options.ParseSpecial);
        if (promptTokens.Length == 0) throw new ArgumentException("The prompt is empty and the vocabulary adds no BOS token; give at least one token of prompt.", nameof(prompt));
        // Reusing, the last prompt token goes through the model whatever the cache holds: its logits pick the first token.
        int cached = options.ReuseCachedPrefix ? Math.Min(sequence.Tokens.CommonPrefixLength(promptTokens), promptTokens.Length - 1) : 0;
        int needed = (options.ReuseCachedPrefix ? 0 : sequence.Length) + promptTokens.Length + 1;
        if (needed > sequence.Capacity) throw new ContextOverflowException(needed, sequence.Capacity); // the cache as it was
        if (options.ReuseCachedPrefix) sequence.Truncate(cached);

        var clock = Stopwatch.StartNew();
        foreach (int t in promptTokens) sampler.Accept(t);
        // The prompt goes through in the forward pass's batches, with a look at the cancellation before each: a long
        // prompt stops within one batch (the result then says it was cancelled), and the tokens it did process
        // stay in the sequence, their keys and values complete.
        ReadOnlySpan<float> logits = default;
        var rest = promptTokens.AsSpan(cached);
        int done = 0;
        for (int batch = sequence.Forward.MaxBatch; done < rest.Length && !cancellationToken.IsCancellationRequested; done += batch)
            logits = sequence.Process(rest.Slice(done, Math.Min(batch, rest.Length - done)));
        double promptMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();

        var detokenizer = new StreamingDetokenizer(model.Tokenizer);
        var stops = new StopSequenceMatcher(options.StopSequences);
        var generated = new List<int>();
        var text = new System.Text.StringBuilder();
        var logProbs = options.TopLogProbs > 0 ? new List<IReadOnlyList<TokenLogProb>>() : null;
        var finish = done < rest.Length ? FinishReason.Cancelled : FinishReason.Length;
        while (finish != FinishReason.Cancelled && generated.Count < options.MaxTokens)
        {
            if (cancellationToken.IsCancellationRequested) { finish = FinishReason.Cancelled; break; }
            var top = options.TopLogProbs > 0 ? LogProbs.TopK(logits, options.TopLogProbs) : null;
            int token = sampler.Sample(logits); // also records the token for penalties
            if (model.Tokenizer.Vocabulary.IsEndOfGeneration(token)) { finish = FinishReason.Eos; break; }
            generated.Add(token);
            logProbs?.Add(top!);
            string piece = stops.Push(detokenizer.Push(token));
            text.Append(piece);
            onUpdate?.Invoke(new GenerationUpdate(token, piece, top));
            if (stops.Stopped) { finish = FinishReason.Stop; break; }
            if (generated.Count == options.MaxTokens || sequence.Length == sequence.Capacity) break;
            logits = sequence.Process([token]);
        }
        if (finish != FinishReason.Stop)
        {
            string tail = stops.Push(detokenizer.Flush()) + stops.Flush();
            if (tail.Length > 0)
            {
                text.Append(tail);
                onUpdate?.Invoke(new GenerationUpdate(-1, tail, null));
            }
        }
        return new GenerationResult
        {
            PromptTokens = promptTokens,
            CachedPromptTokens = cached,
            Tokens = generated,
            Text = text.ToString(),
            FinishReason = finish,
            PromptMilliseconds = promptMs,
            GenerationMilliseconds = clock.Elapsed.TotalMilliseconds,
            LogProbs = logProbs,
        };
    }

    /// <summary>
    /// Streams the generation as it happens; the loop runs on a worker thread and honours cancellation within one step
    /// (one batch of the prompt, or one generated token).
    /// The stream ends only once the loop has: a caller that stops reading early or is cancelled stops it, and waits
    /// for it, so the sequence (and the worker pool it runs on) is free for the next use when the enumeration ends.
    /// </summary>
    /// <remarks><paramref name="onCompleted"/> receives the result (counts, finish reason, timings) before the stream ends.</remarks>
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(Sequence sequence, string prompt, SamplerChain sampler, GenerationOptions options,
        Action<GenerationResult>? onCompleted = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var worker = Task.Run(() =>
        {
            try
            {
                var result = Generate(sequence, prompt, sampler, options, u => channel.Writer.TryWrite(u), stop.Token);
                onCompleted?.Invoke(result);
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var update in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return update;
            await worker.ConfigureAwait(false);
        }
        finally
        {
            // Reached early when the reader stops or is cancelled: end the loop at its next step and wait for it (its
            // failure, if any, already went to the channel).
            await stop.CancelAsync().ConfigureAwait(false);
            await worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
