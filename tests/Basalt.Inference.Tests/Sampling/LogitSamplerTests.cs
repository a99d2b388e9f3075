using Basalt.Inference.Sampling;

namespace Basalt.Inference.Tests.Sampling;

/// <summary>Logit bias, repetition penalties and greedy picking.</summary>
public class LogitSamplerTests
{
    [Fact]
    public void LogitBias_minus_infinity_bans_the_top_token()
    {
        var c = Candidates.Of(1, 2, 3, 4);
        new LogitBiasSampler(new Dictionary<int, float> { [3] = float.NegativeInfinity }, 4).Apply(c);
        var p = Candidates.Probabilities(c, 4);
        Assert.Equal(0.0, p[3]);
        new GreedySampler().Apply(c);
        Assert.Equal(2, c.SelectedId);
    }

    [Fact]
    public void LogitBias_adds_to_logits_in_id_order_and_after_reordering()
    {
        var biases = new Dictionary<int, float> { [0] = 10f, [2] = -1f };
        var inOrder = Candidates.Of(1, 2, 3, 4);
        new LogitBiasSampler(biases, 4).Apply(inOrder);
        Assert.Equal(new[] { 11f, 2f, 2f, 4f }, Logits(inOrder));

        var sorted = Candidates.Of(1, 2, 3, 4);
        sorted.Sort();
        new LogitBiasSampler(biases, 4).Apply(sorted);
        Assert.Equal(new[] { 11f, 2f, 2f, 4f }, Logits(sorted));
        Assert.False(sorted.IsSorted);
    }

    [Fact]
    public void LogitBias_rejects_ids_outside_the_vocabulary()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogitBiasSampler(new Dictionary<int, float> { [4] = 1f }, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogitBiasSampler(new Dictionary<int, float> { [-1] = 1f }, 4));
    }

    [Fact]
    public void RepeatPenalty_divides_positive_and_multiplies_negative_logits()
    {
        var penalties = new RepetitionPenaltySampler(64, repeatPenalty: 2f);
        penalties.Accept(0);
        penalties.Accept(1);
        penalties.Accept(4);
        var c = Candidates.Of(2, -2, 1, 0.5f, 0f);
        penalties.Apply(c);
        Assert.Equal(new[] { 1f, -4f, 1f, 0.5f, 0f }, Logits(c));
    }

    [Fact]
    public void Frequency_and_presence_subtract_count_times_freq_plus_presence()
    {
        var penalties = new RepetitionPenaltySampler(64, repeatPenalty: 2f, frequencyPenalty: 0.5f, presencePenalty: 1f);
        foreach (int t in new[] { 0, 1, 0 })
            penalties.Accept(t);
        var c = Candidates.Of(2, -2, 1, 0.5f);
        penalties.Apply(c);
        // id 0: 2/2 - (2·0.5 + 1) = -1; id 1: -2·2 - (0.5 + 1) = -5.5.
        Assert.Equal(new[] { -1f, -5.5f, 1f, 0.5f }, Logits(c));
    }

    [Fact]
    public void Penalties_only_look_at_the_last_n_tokens()
    {
        var penalties = new RepetitionPenaltySampler(2, frequencyPenalty: 1f);
        foreach (int t in new[] { 0, 1, 2, 2 })
            penalties.Accept(t);
        var c = Candidates.Of(0, 0, 0);
        penalties.Apply(c);
        Assert.Equal(new[] { 0f, 0f, -2f }, Logits(c));

        penalties.Reset();
        var fresh = Candidates.Of(0, 0, 0);
        penalties.Apply(fresh);
        Assert.Equal(new[] { 0f, 0f, 0f }, Logits(fresh));
    }

    [Fact]
    public void Penalties_apply_after_reordering_too()
    {
        var penalties = new RepetitionPenaltySampler(64, repeatPenalty: 2f);
        penalties.Accept(3);
        var c = Candidates.Of(1, 2, 3, 4);
        c.Sort();
        penalties.Apply(c);
        Assert.Equal(new[] { 1f, 2f, 3f, 2f }, Logits(c));
    }

    [Fact]
    public void Penalties_reject_a_negative_window()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepetitionPenaltySampler(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepetitionPenaltySampler(64, repeatPenalty: 0f));
    }

    [Fact]
    public void Greedy_picks_the_max_and_breaks_ties_by_lowest_id()
    {
        var c = Candidates.Of(1, 5, 2, 5);
        new GreedySampler().Apply(c);
        Assert.Equal(1, c.SelectedId);

        var shuffled = Candidates.Of(1, 5, 2, 5);
        shuffled.Sort();
        shuffled.Entries.Reverse();
        new GreedySampler().Apply(shuffled);
        Assert.Equal(1, shuffled.SelectedId);
    }

    [Fact]
    public void Greedy_with_every_token_banned_throws()
    {
        var c = Candidates.Of(float.NegativeInfinity, float.NegativeInfinity);
        Assert.Throws<InvalidOperationException>(() => new GreedySampler().Apply(c));
    }

    /// <summary>Current logits indexed by token id.</summary>
    private static float[] Logits(TokenCandidates c)
    {
        var logits = new float[c.Count];
        foreach (var e in c.Entries)
            logits[e.Id] = e.Logit;
        return logits;
    }
}
