using RevNetIlgpu.RevNet.Distributed;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>What the training steps of one epoch added up to on this rank, from the epoch's first step (or the resumed one) on.</summary>
public sealed class EpochTally(int epoch, TimeProvider clock)
{
    readonly long start = clock.GetTimestamp();

    /// <summary>The epoch, counted from 0.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>Sum over this rank's samples of their loss.</summary>
    public double LossSum { get; private set; }

    /// <summary>This rank's correct predictions.</summary>
    public long Correct { get; private set; }

    /// <summary>This rank's samples.</summary>
    public long Seen { get; private set; }

    /// <summary>Images trained on by all ranks together.</summary>
    public long Images { get; private set; }

    /// <summary>The reconstruction drift measured in the epoch's last step (0 until then).</summary>
    public double ReconstructionDrift { get; set; }

    /// <summary>Wall time since the tally started.</summary>
    public double Seconds => clock.GetElapsedTime(start).TotalSeconds;

    /// <summary>Adds one step's batch of <paramref name="count"/> samples on each of <paramref name="ranks"/> ranks.</summary>
    public void Add(StepStatistics stats, int count, int ranks)
    {
        LossSum += stats.Loss * count;
        Correct += stats.Correct;
        Seen += count;
        Images += count * ranks;
    }

    /// <summary>Mean loss so far on this rank.</summary>
    public double RunningLoss => LossSum / Seen;

    /// <summary>Top-1 accuracy so far on this rank.</summary>
    public double RunningAccuracy => (double)Correct / Seen;

    /// <summary>Mean loss and accuracy over every rank's samples (a collective: every rank must call it).</summary>
    public (double Loss, double Accuracy) OverAllRanks(DataParallel ranks)
    {
        var (lossSum, correct, seen) = ranks.Sum(LossSum, Correct, Seen);
        return (lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1));
    }
}
