using Basalt.Inference.Sampling;

namespace Basalt.Inference.Tests.Sampling;

/// <summary>Small helpers for building and reading candidate buffers in tests.</summary>
internal static class Candidates
{
    public static TokenCandidates Of(params float[] logits)
    {
        var c = new TokenCandidates(logits.Length);
        c.Load(logits);
        return c;
    }

    public static int[] Ids(TokenCandidates c)
    {
        var ids = new int[c.Count];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = c.Entries[i].Id;
        return ids;
    }

    public static int[] SortedIds(TokenCandidates c)
    {
        var ids = Ids(c);
        Array.Sort(ids);
        return ids;
    }

    /// <summary>Probability of each id after a softmax over what is left (0 for dropped ids).</summary>
    public static double[] Probabilities(TokenCandidates c, int vocab)
    {
        c.Softmax();
        var p = new double[vocab];
        foreach (var e in c.Entries)
            p[e.Id] = e.P;
        return p;
    }
}
