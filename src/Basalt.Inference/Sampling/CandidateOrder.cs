namespace Basalt.Inference.Sampling;

/// <summary>
/// Orders candidates by logit, highest first, and breaks ties by the lower id so that every sort
/// is a total order: an unstable sort then still gives the same result on every run.
/// </summary>
internal readonly struct CandidateOrder : IComparer<TokenCandidate>
{
    public int Compare(TokenCandidate x, TokenCandidate y)
    {
        int byLogit = y.Logit.CompareTo(x.Logit);
        return byLogit != 0 ? byLogit : x.Id.CompareTo(y.Id);
    }

    /// <summary>True when <paramref name="x"/> comes strictly before <paramref name="y"/>.</summary>
    public static bool Before(in TokenCandidate x, in TokenCandidate y) =>
        x.Logit > y.Logit || (x.Logit == y.Logit && x.Id < y.Id);
}
