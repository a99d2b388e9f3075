using Basalt.Inference.Model;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Evaluation;

/// <summary>
/// Perplexity computed the way llama.cpp's <c>llama-perplexity</c> does: the text is tokenized once
/// (BOS added when the vocabulary asks), cut into non-overlapping chunks of <c>n_ctx</c> tokens whose
/// first token is replaced by BOS, and only the second half of each chunk is scored, so that every
/// scored token has at least n_ctx/2 tokens of context.
/// </summary>
public static class PerplexityEvaluator
{
    /// <summary>Evaluates <paramref name="text"/> with chunks of <paramref name="contextLength"/> tokens.</summary>
    /// <exception cref="ArgumentException">The text has fewer than 2 × n_ctx tokens (llama-perplexity refuses these too).</exception>
    public static PerplexityResult Evaluate(TransformerModel model, string text, int contextLength, WorkerPool? runtime = null,
        IProgress<double>? progress = null, bool f16Cache = true, CancellationToken cancellationToken = default)
    {
        if (contextLength < 4) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "The context must hold at least 4 tokens.");
        var vocab = model.Tokenizer.Vocabulary;
        int[] tokens = model.Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
        if (tokens.Length < 2 * contextLength)
            throw new ArgumentException($"Perplexity with a context of {contextLength} needs at least {2 * contextLength} tokens; the text has {tokens.Length}.", nameof(text));

        int chunks = tokens.Length / contextLength;
        int first = contextLength / 2;
        int nVocab = model.Config.VocabSize;
        var sequence = new Sequence(model, contextLength, f16Cache, runtime);
        var logits = new float[(long)contextLength * nVocab];
        var chunk = new int[contextLength];
        var running = new List<double>(chunks);
        double nll = 0;
        int count = 0;
        for (int c = 0; c < chunks; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            tokens.AsSpan(c * contextLength, contextLength).CopyTo(chunk);
            if (vocab.AddBos && vocab.Bos is int bos) chunk[0] = bos;
            sequence.Reset();
            sequence.Process(chunk, logits);
            for (int j = first; j < contextLength - 1; j++)
            {
                nll -= LogSoftmaxAt(logits.AsSpan(j * nVocab, nVocab), chunk[j + 1]);
                count++;
            }
            running.Add(Math.Exp(nll / count));
            progress?.Report(running[^1]);
        }
        return new PerplexityResult(Math.Exp(nll / count), tokens.Length, chunks, count, nll / count, running);
    }

    private static double LogSoftmaxAt(ReadOnlySpan<float> logits, int target)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        return logits[target] - max - Math.Log(sum);
    }
}
