namespace RevNetIlgpu.RevNet.Layers;

/// <summary>
/// Which statistics a training-mode <see cref="BatchNorm2d"/> normalises with (in evaluation mode it always uses the running
/// statistics). Set for a whole subtree with <see cref="BatchNormStatisticsScope"/>, by the modules that drop and later
/// recompute activations (reversible sequences, recomputed units).
/// </summary>
public enum BatchNormStatistics
{
    /// <summary>The batch's own statistics, kept by the op for its backward; running statistics updated (a recorded forward).</summary>
    Batch,

    /// <summary>
    /// The batch's own statistics, also kept in the layer for a later recompute; running statistics updated (a forward whose
    /// activations are dropped and rebuilt in backward).
    /// </summary>
    BatchKeptForRecompute,

    /// <summary>
    /// The statistics kept by the last <see cref="BatchKeptForRecompute"/> forward, and no running-statistics update: the
    /// recompute in backward normalises exactly as the forward did, and counts the batch once.
    /// </summary>
    Kept,
}

/// <summary>
/// Sets <see cref="BatchNorm2d.Statistics"/> on every batch norm below a module for the scope's lifetime and restores what
/// each had when disposed, so scopes nest. A layer being recomputed (<see cref="BatchNormStatistics.Kept"/>) stays so
/// inside a <see cref="BatchNormStatistics.BatchKeptForRecompute"/> scope: a reversible sequence inside a recomputed
/// module reruns exactly the forward it ran the first time.
/// </summary>
public sealed class BatchNormStatisticsScope : IDisposable
{
    readonly List<(BatchNorm2d Layer, BatchNormStatistics Before)> layers;

    /// <summary>Sets <paramref name="statistics"/> on every <see cref="BatchNorm2d"/> below <paramref name="root"/> (itself included) until disposed.</summary>
    public BatchNormStatisticsScope(Module root, BatchNormStatistics statistics)
    {
        layers = root.Modules().OfType<BatchNorm2d>()
            .Where(bn => !(bn.Statistics == BatchNormStatistics.Kept && statistics == BatchNormStatistics.BatchKeptForRecompute))
            .Select(bn => (bn, bn.Statistics)).ToList();
        foreach (var (bn, _) in layers) bn.Statistics = statistics;
    }

    /// <summary>Restores each layer's statistics as they were when the scope began.</summary>
    public void Dispose()
    {
        foreach (var (bn, before) in layers) bn.Statistics = before;
    }
}
