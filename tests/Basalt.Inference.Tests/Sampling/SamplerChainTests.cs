using Basalt.Inference.Sampling;

namespace Basalt.Inference.Tests.Sampling;

public class SamplerChainTests
{
    [Fact]
    public void Default_chain_follows_llama_cpp_order()
    {
        var chain = SamplerChain.Create(new SamplerOptions { Seed = 1 }, 32);
        Assert.Equal(
            new[] { typeof(LogitBiasSampler), typeof(RepetitionPenaltySampler), typeof(TopKSampler), typeof(TopPSampler), typeof(MinPSampler), typeof(TemperatureSampler), typeof(DistributionSampler) },
            chain.Samplers.Select(s => s.GetType()).ToArray());
        var topK = Assert.IsType<TopKSampler>(chain.Samplers[2]);
        Assert.Equal(40, topK.K);
        Assert.Equal(1UL, Assert.IsType<DistributionSampler>(chain.Samplers[6]).Seed);
    }

    [Fact]
    public void Zero_temperature_chain_is_bias_penalties_greedy()
    {
        var chain = SamplerChain.Create(new SamplerOptions { Temperature = 0f }, 32);
        Assert.Equal(
            new[] { typeof(LogitBiasSampler), typeof(RepetitionPenaltySampler), typeof(GreedySampler) },
            chain.Samplers.Select(s => s.GetType()).ToArray());
    }

    [Fact]
    public void Options_defaults_match_llama_cpp()
    {
        var o = new SamplerOptions();
        Assert.Equal((0.8f, 40, 0.95f, 0.05f, 1.0f, 0f, 0f, 64), (o.Temperature, o.TopK, o.TopP, o.MinP, o.RepeatPenalty, o.FrequencyPenalty, o.PresencePenalty, o.PenaltyLastN));
        Assert.Null(o.Seed);
        Assert.Null(o.LogitBias);
    }

    [Fact]
    public void MinP_runs_before_temperature()
    {
        // ln 0.1 = -2.30: at logit gap 2 both survive min-p; had temperature 0.5 run first the gap would be 4 and one would go.
        var chain = SamplerChain.Create(new SamplerOptions { Temperature = 0.5f, TopK = 0, TopP = 1f, MinP = 0.1f, Seed = 3 }, 2);
        var c = Candidates.Of(0f, -2f);
        chain.Apply(c);
        Assert.Equal(2, c.Count);
        Assert.InRange(c.SelectedIndex, 0, 1);
    }

    [Fact]
    public void Penalties_run_before_top_k()
    {
        // Token 0 leads until penalised; if top-k 1 ran first it would be the only candidate left.
        var chain = SamplerChain.Create(new SamplerOptions { TopK = 1, RepeatPenalty = 4f, Seed = 3 }, 3);
        chain.Accept(0);
        Assert.Equal(1, chain.Sample([3f, 2f, 1f]));
    }

    [Fact]
    public void Logit_bias_runs_before_greedy()
    {
        var bias = new Dictionary<int, float> { [2] = float.NegativeInfinity };
        var chain = SamplerChain.Create(new SamplerOptions { Temperature = 0f, LogitBias = bias }, 3);
        Assert.Equal(1, chain.Sample([1f, 2f, 3f]));
    }

    [Fact]
    public void Sample_accepts_the_token_so_penalties_see_it()
    {
        var chain = SamplerChain.Create(new SamplerOptions { Temperature = 0f, RepeatPenalty = 2f }, 2);
        Assert.Equal(0, chain.Sample([5f, 4.9f]));
        Assert.Equal(1, chain.Sample([5f, 4.9f]));
        chain.Reset();
        Assert.Equal(0, chain.Sample([5f, 4.9f]));
    }

    [Fact]
    public void Greedy_chain_agrees_with_argmax_whatever_the_filters()
    {
        var logits = new float[500];
        for (int i = 0; i < logits.Length; i++)
            logits[i] = MathF.Cos(i * 1.3f) * 5f;
        int argmax = Array.IndexOf(logits, logits.Max());
        var chain = new SamplerChain([new TopKSampler(40), new TopPSampler(0.9f), new MinPSampler(0.05f), new TemperatureSampler(0f), new DistributionSampler(1)]);
        Assert.Equal(argmax, chain.Sample(logits));
    }

    [Fact]
    public void Chain_without_a_picker_fails_clearly()
    {
        var chain = new SamplerChain([new TopKSampler(2)]);
        Assert.Throws<InvalidOperationException>(() => chain.Sample([1f, 2f]));
    }

    [Fact]
    public void Chains_nest()
    {
        var inner = new SamplerChain([new TopKSampler(2)]);
        var outer = new SamplerChain([inner, new GreedySampler()]);
        Assert.Equal(1, outer.Sample([1f, 3f, 2f]));
    }
}
