using System.Diagnostics;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Calls and wall time per kernel entry point (e.g. "Conv2dKernels.Forward"), collected while
/// <see cref="KernelCalls.Profile"/> is set. Host kernels run synchronously, so each call is charged the time
/// from its start to the start of the next host call (or to <see cref="Stop"/>): the kernel itself plus the engine
/// work after it (tape, allocator, reads back) until the next kernel. Costs one timestamp per call; for profiling,
/// not training.
/// </summary>
public sealed class KernelCallProfile
{
    readonly Dictionary<string, (long Calls, TimeSpan Time)> entries = new();
    readonly object gate = new();
    string? open;
    long openedAt;

    /// <summary>Calls and charged time per entry point so far.</summary>
    public IReadOnlyDictionary<string, (long Calls, TimeSpan Time)> Entries
    {
        get { lock (gate) return new Dictionary<string, (long Calls, TimeSpan Time)>(entries); }
    }

    internal void Enter(string entryPoint)
    {
        long now = Stopwatch.GetTimestamp();
        lock (gate)
        {
            Charge(now);
            open = entryPoint;
            openedAt = now;
        }
    }

    /// <summary>Charges the last call up to now; call it when the profiled work has finished (synchronised). On a backend whose kernels run asynchronously (a GPU) the times are those of the launches, not of the kernels.</summary>
    public void Stop()
    {
        long now = Stopwatch.GetTimestamp();
        lock (gate) Charge(now);
    }

    void Charge(long now)
    {
        if (open is null) return;
        var (calls, time) = entries.GetValueOrDefault(open);
        entries[open] = (calls + 1, time + Stopwatch.GetElapsedTime(openedAt, now));
        open = null;
    }
}
