using Basalt.Inference.Engine;
using Basalt.Inference.Model;
using Basalt.Tensors.Threading;

namespace Basalt.Server.Models;

/// <summary>A model in memory with the engine loop that serves it and the threads its forward pass uses.</summary>
internal sealed class LoadedModel(TransformerModel model, InferenceEngine engine, WorkerPool? pool, TimeSpan loadTime) : IDisposable
{
    public TransformerModel Model { get; } = model;
    public InferenceEngine Engine { get; } = engine;
    public TimeSpan LoadTime { get; } = loadTime;

    public void Dispose()
    {
        Engine.Dispose();
        pool?.Dispose();
        Model.Dispose();
    }
}
