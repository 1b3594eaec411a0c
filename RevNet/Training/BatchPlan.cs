using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>The largest batch that fits in a memory budget in one mode: 0 when not even a batch of 2 fits.</summary>
public sealed record BatchPlanEntry(ActivationMemory Mode, bool Exact, int MaxBatch, long PeakHeldBytes);

/// <summary>
/// "How big a batch fits": for each mode `revnet train` offers, with float32 and with exact couplings, the largest batch
/// whose peak held bytes (parameters, gradients, optimizer state and the batch included: what the device must really
/// hold) stay within a budget. Each candidate batch is profiled on the meta device (<see cref="MemoryProfile"/>, two steps,
/// so the second step's segments count too), which counts exactly as a real device does; a linear estimate from two
/// batches, then galloping and bisection, find the boundary in a few dozen profiles, seconds for paper-size models.
/// </summary>
public static class BatchPlan
{
    /// <summary>Training needs two samples per batch (batch norm).</summary>
    public const int SmallestBatch = 2;

    /// <summary>Profiles per candidate: the second step may take one more segment than the first.</summary>
    const int Steps = 2;

    /// <summary>One entry per mode of <see cref="ActivationMemorySwitches.ModesOf"/>, each without and then with exact couplings (a model without reversible blocks: stored only).</summary>
    public static IReadOnlyList<BatchPlanEntry> Plan(ModelBlueprint model, long budgetBytes, int largestBatch = 1 << 20)
    {
        if (budgetBytes <= 0) throw new ArgumentException($"the memory budget must be positive, got {budgetBytes}");
        var probe = model.Build();
        bool reversible = probe.HasReversibleBlocks();
        var entries = new List<BatchPlanEntry>();
        using var device = Device.Create("meta");
        foreach (var mode in ActivationMemorySwitches.ModesOf(probe))
            foreach (bool exact in reversible ? new[] { false, true } : [false])
            {
                var format = exact ? FixedPointFormat.Default : (FixedPointFormat?)null;
                long Peak(int batch) => MemoryProfile.Measure(device, model, mode, batch, Steps, format).PeakHeldBytes;
                var (batch, peak) = Largest(Peak, budgetBytes, largestBatch);
                entries.Add(new BatchPlanEntry(mode, exact, batch, peak));
            }
        return entries;
    }

    /// <summary>
    /// The largest batch in [<see cref="SmallestBatch"/>, <paramref name="largestBatch"/>] whose <paramref name="peak"/> fits
    /// <paramref name="budget"/>, and that peak; (0, 0) if none does. The peak grows with the batch.
    /// </summary>
    public static (int Batch, long Peak) Largest(Func<int, long> peak, long budget, int largestBatch)
    {
        var known = new Dictionary<int, long>();
        long At(int batch) => known.TryGetValue(batch, out long p) ? p : known[batch] = peak(batch);
        bool Fits(int batch) => At(batch) <= budget;

        int lo = SmallestBatch;
        if (!Fits(lo)) return (0, 0);
        // The peak is nearly affine in the batch: estimate the boundary from two batches, then bracket it.
        int second = Math.Min(largestBatch, 64);
        if (second <= lo) return (lo, At(lo));
        double perImage = Math.Max(1, (double)(At(second) - At(lo)) / (second - lo));
        int guess = (int)Math.Clamp(lo + (budget - At(lo)) / perImage, lo, largestBatch);
        int hi;
        if (Fits(guess))
        {
            lo = guess;
            for (int step = Math.Max(1, guess / 64); ; step *= 2)
            {
                if (lo == largestBatch) return (lo, At(lo));
                int next = (int)Math.Min((long)lo + step, largestBatch);
                if (!Fits(next)) { hi = next; break; }
                lo = next;
            }
        }
        else
        {
            hi = guess;
            for (int step = Math.Max(1, guess / 64); ; step *= 2)
            {
                int next = Math.Max(lo, hi - step);
                if (Fits(next)) { lo = next; break; }
                hi = next;
            }
        }
        while (hi - lo > 1)
        {
            int mid = lo + (hi - lo) / 2;
            if (Fits(mid)) lo = mid;
            else hi = mid;
        }
        return (lo, At(lo));
    }
}
