using System.Threading.Channels;

namespace RevNetIlgpu.RevNet.Data;

/// <summary>Runs an enumeration ahead on a background task so batches are ready while the device computes.</summary>
public static class BatchPrefetch
{
    /// <summary>
    /// Yields <paramref name="source"/>'s items in order while a single producer task keeps up to
    /// <paramref name="depth"/> of them ready. Order is unchanged, so determinism is kept; the
    /// producer's exceptions surface here; stopping early stops the producer.
    /// </summary>
    public static IEnumerable<T> Prefetch<T>(this IEnumerable<T> source, int depth = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depth);
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(depth) { SingleReader = true, SingleWriter = true });
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var item in source)
                    await channel.Writer.WriteAsync(item, stop.Token);
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        });
        try
        {
            while (channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (channel.Reader.TryRead(out var item))
                    yield return item;
            }
        }
        finally
        {
            stop.Cancel();
            producer.GetAwaiter().GetResult();
        }
    }
}
