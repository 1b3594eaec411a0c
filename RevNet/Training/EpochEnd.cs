using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Distributed;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// The work at the end of an epoch (and after the run's last step): running statistics averaged over the ranks, the
/// test set evaluated, the epoch's row appended to metrics.csv, last.safetensors written, and best.safetensors when
/// the test accuracy is the best yet.
/// </summary>
public sealed class EpochEnd(TrainingSetup setup, DataParallel ranks, Evaluator evaluator, RunCheckpoints checkpoints, TimeProvider clock)
{
    readonly MetricsLog? metrics = ranks.IsWriter
        ? new MetricsLog(Path.Combine(setup.Options.OutputDirectory, "metrics.csv"), truncate: setup.Options.Resume is null)
        : null;

    /// <summary>The best test accuracy of the run so far (a resumed run's includes the epochs before it).</summary>
    public double BestTestAccuracy { get; private set; } = setup.Start.BestTestAccuracy;

    /// <summary>Wall time of the last evaluation of the test set (0 before the first).</summary>
    public double EvaluationSeconds { get; private set; }

    /// <summary>
    /// Ends the epoch of <paramref name="tally"/> after <paramref name="step"/> steps in all, with the data at
    /// <paramref name="next"/>; <paramref name="peakBytes"/> is the run's peak device memory so far.
    /// </summary>
    public EpochSummary Finish(EpochTally tally, long step, SamplerPosition next, long peakBytes)
    {
        ranks.AverageBuffers(setup.Store);
        var (trainLoss, trainAccuracy) = tally.OverAllRanks(ranks);
        long evaluationStart = clock.GetTimestamp();
        var (testLoss, testAccuracy) = evaluator.Evaluate(setup.Model, setup.TestLoader);
        EvaluationSeconds = clock.GetElapsedTime(evaluationStart).TotalSeconds;
        double seconds = tally.Seconds;
        var summary = new EpochSummary(tally.Epoch + 1, step, trainLoss, trainAccuracy, testLoss, testAccuracy, tally.ReconstructionDrift,
            seconds, tally.Images / Math.Max(seconds, 1e-9), peakBytes, setup.Optimizer.Settings.LearningRate);
        metrics?.Append(summary);
        var state = new TrainingState(step, next.Epoch, next.Batch, Math.Max(BestTestAccuracy, testAccuracy));
        checkpoints.SaveLast(state);
        if (testAccuracy > BestTestAccuracy)
        {
            BestTestAccuracy = testAccuracy;
            checkpoints.SaveBest(state);
        }
        return summary;
    }
}
