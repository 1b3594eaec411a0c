namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// Fixes a run's step count so training and its evaluations end inside a wall-clock budget on whatever machine runs
/// it: the warm-up steps are timed (from a third of the way in, after kernel compilation and allocator growth), then
/// <see cref="ChooseTotalSteps"/> gives the steps that fit, once. A slower machine gets fewer steps, not an overrun; the
/// schedule is a function of the step count alone, so `--max-steps N` with the same warm-up reproduces the run. Should
/// the machine slow down later, <see cref="MustStopEarly"/> still ends training in time for the last evaluation.
/// </summary>
public sealed class TimeBudget
{
    /// <summary>The fewest warm-up steps that leave enough steps to time after the first third.</summary>
    public const int MinimumWarmupSteps = 9;

    /// <summary>Share of the budget held back for variation in step time and for checkpoints.</summary>
    public const double SafetyFraction = 0.04;

    public TimeBudget(double seconds, int warmupSteps)
    {
        if (!(seconds > 0) || double.IsInfinity(seconds)) throw new ArgumentException($"--time-budget must be a positive number of seconds, got {seconds}");
        if (warmupSteps < MinimumWarmupSteps)
            throw new ArgumentException($"--time-budget times the warm-up steps to fix the step count; it needs --warmup-steps of at least {MinimumWarmupSteps}, got {warmupSteps}");
        Seconds = seconds;
        WarmupSteps = warmupSteps;
        CalibrationStart = warmupSteps / 3;
    }

    public double Seconds { get; }

    public int WarmupSteps { get; }

    /// <summary>The step after which the calibration clock starts.</summary>
    public int CalibrationStart { get; }

    /// <summary>
    /// The total step count: the warm-up steps plus as many more as fit in what is left of the budget after the
    /// evaluations (one per epoch end reached, and the last), never fewer than the warm-up nor more than
    /// <paramref name="maxSteps"/>.
    /// </summary>
    /// <param name="elapsedSeconds">Wall time of the run so far (at the end of the warm-up).</param>
    /// <param name="secondsPerStep">Measured wall time per training step over the calibration steps.</param>
    /// <param name="evaluationSeconds">Estimated wall time of one evaluation of the test set.</param>
    /// <param name="batchesPerEpoch">Steps per epoch: an epoch end costs an evaluation.</param>
    /// <param name="maxSteps">The run's cap from its epochs and --max-steps.</param>
    public long ChooseTotalSteps(double elapsedSeconds, double secondsPerStep, double evaluationSeconds, int batchesPerEpoch, long maxSteps)
    {
        if (!(secondsPerStep > 0)) throw new ArgumentException($"seconds per step must be positive, got {secondsPerStep}");
        CalibratedSecondsPerStep = secondsPerStep;
        EvaluationSeconds = evaluationSeconds;
        double usable = Seconds * (1 - SafetyFraction) - elapsedSeconds;
        double Cost(long steps) => (steps - WarmupSteps) * secondsPerStep + (1 + (steps - 1) / batchesPerEpoch) * evaluationSeconds;
        // Start from the count that would fit with a single evaluation, then give back steps until the epoch-end evaluations fit too.
        long total = Math.Clamp(WarmupSteps + (long)Math.Floor((usable - evaluationSeconds) / secondsPerStep), WarmupSteps, Math.Max(maxSteps, WarmupSteps));
        while (total > WarmupSteps && Cost(total) > usable) total--;
        return total;
    }

    /// <summary>Step time measured over the calibration steps (0 until <see cref="ChooseTotalSteps"/>).</summary>
    public double CalibratedSecondsPerStep { get; private set; }

    /// <summary>The evaluation time <see cref="ChooseTotalSteps"/> planned with.</summary>
    public double EvaluationSeconds { get; private set; }

    /// <summary>
    /// The guard for a machine that slows down after calibration (a shared machine gets busier): true when one more
    /// step at <paramref name="recentSecondsPerStep"/> and the evaluations still ahead (the last, plus one if this step
    /// ended an epoch), slowed down alike, would no longer fit in the budget. The run then stops early, its schedule cut short.
    /// </summary>
    public bool MustStopEarly(double elapsedSeconds, double recentSecondsPerStep, bool epochEndsNow)
    {
        double slowdown = Math.Max(1, recentSecondsPerStep / CalibratedSecondsPerStep);
        int evaluationsAhead = epochEndsNow ? 2 : 1;
        return elapsedSeconds + recentSecondsPerStep + evaluationsAhead * slowdown * EvaluationSeconds > Seconds * (1 - SafetyFraction / 2);
    }
}
