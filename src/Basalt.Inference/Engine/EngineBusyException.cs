namespace Basalt.Inference.Engine;

/// <summary>The engine's queue is full: the request was not accepted and may be retried later.</summary>
public sealed class EngineBusyException(int queueCapacity)
    : Exception($"The engine is busy: {queueCapacity} requests are already waiting; retry shortly.")
{
    /// <summary>Requests the queue holds.</summary>
    public int QueueCapacity { get; } = queueCapacity;
}
