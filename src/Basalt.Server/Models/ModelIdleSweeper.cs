namespace Basalt.Server.Models;

/// <summary>Background check that unloads models left idle past the timeout.</summary>
internal sealed class ModelIdleSweeper(ModelRegistry registry, ServerOptions options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Checking a few times per timeout keeps the overshoot small without a busy timer.
        var period = TimeSpan.FromTicks(Math.Clamp(options.IdleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                registry.UnloadIdle(DateTime.UtcNow);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
