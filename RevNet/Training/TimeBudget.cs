namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// Fits a run's step count to a wall-clock budget on whatever machine runs it, so that training and its evaluations
/// end in the last few percent of the budget. Fed the run's clock after every step (<see cref="AfterStep"/>), it:
/// <list type="number">
/// <item>times the warm-up from a third of the way in (after kernel compilation and allocator growth), estimates an
/// evaluation, and fits a first step count;</item>
/// <item>re-times the steps once the pace has settled (compiled code tiered up, caches warm), which is usually faster
/// than the warm-up, and re-fits the count once, at <see cref="RefitStep"/>;</item>
/// <item>from then on only guards: should the machine slow down, training stops early in time for the last evaluation
/// (timed once more as the end nears, under the machine's load then).</item>
/// </list>
/// Both fits fall inside the schedule's <see cref="LearningRateSchedule.LengthIndependentSteps"/>: every rate used
/// before a fit is the same under the new count, so the rates of a run are those of
/// <see cref="LearningRateSchedule.WithTotalSteps"/> of its final count, and `--max-steps N` with the same warm-up
/// repeats the run bit for bit (all but a run the guard cut short). Every decision is the ranks' smallest, so all
/// ranks of a data-parallel run take the same steps.
/// </summary>
public sealed class TimeBudget
{
    /// <summary>The fewest warm-up steps that leave enough steps to time after the first third.</summary>
    public const int MinimumWarmupSteps = 9;

    /// <summary>Share of the budget a fit leaves unplanned: for variation in step time and for checkpoints.</summary>
    public const double SafetyFraction = 0.025;

    /// <summary>
    /// The fewest steps a re-fit may choose, as a share of the first fit's: the higher, the later the re-fit can come
    /// (the held rates last longer) and the steadier the pace it times. After a warm-up steps only get faster on a
    /// machine that is not getting busier; one that is, is left to the guard.
    /// </summary>
    public const double LowestRefitShare = 0.75;

    readonly int batchesPerEpoch;
    readonly long maxSteps;
    readonly Func<long, long> agree;
    double calibrationStartSeconds, refitWindowStartSeconds, recentSecondsPerStep, evaluationSecondsPerStep;
    long fewestAtRefit, refitWindowStart;
    bool evaluationRetimed;

    /// <param name="seconds">The budget for training and every evaluation, from the run's first step.</param>
    /// <param name="warmupSteps">Steps whose learning rate ramps up; they are timed for the first fit.</param>
    /// <param name="schedule">The run's schedule over its most steps (all epochs, or --max-steps).</param>
    /// <param name="batchesPerEpoch">Steps per epoch: each epoch end costs an evaluation.</param>
    /// <param name="agree">Turns this rank's value into the one every rank uses (the smallest over the ranks); null for one process.</param>
    public TimeBudget(double seconds, int warmupSteps, LearningRateSchedule schedule, int batchesPerEpoch, Func<long, long>? agree = null)
    {
        Validate(seconds, warmupSteps);
        if (batchesPerEpoch < 1) throw new ArgumentException($"batches per epoch must be positive, got {batchesPerEpoch}");
        Seconds = seconds;
        WarmupSteps = warmupSteps;
        CalibrationStart = warmupSteps / 3;
        Schedule = schedule;
        TotalSteps = maxSteps = schedule.TotalSteps;
        this.batchesPerEpoch = batchesPerEpoch;
        this.agree = agree ?? (value => value);
    }

    /// <summary>Refuses a budget that is not a positive number of seconds, or a warm-up too short to time.</summary>
    public static void Validate(double seconds, int warmupSteps)
    {
        if (!(seconds > 0) || double.IsInfinity(seconds)) throw new ArgumentException($"--time-budget must be a positive number of seconds, got {seconds}");
        if (warmupSteps < MinimumWarmupSteps)
            throw new ArgumentException($"--time-budget times the warm-up steps to fix the step count; it needs --warmup-steps of at least {MinimumWarmupSteps}, got {warmupSteps}");
    }

    /// <summary>The budget for training and evaluation, in seconds from the run's first step.</summary>
    public double Seconds { get; }

    /// <summary>The warm-up steps, timed for the first fit of the step count.</summary>
    public int WarmupSteps { get; }

    /// <summary>The step after which the warm-up's timing starts.</summary>
    public int CalibrationStart { get; }

    /// <summary>The steps the run takes: its most until the first fit, then the fitted count, or fewer once the guard has stopped it.</summary>
    public long TotalSteps { get; private set; }

    /// <summary>The learning rates for the fitted count (the guard stops a run without changing them).</summary>
    public LearningRateSchedule Schedule { get; private set; }

    /// <summary>The step after which the count is re-fitted; null when no re-fit is planned (yet, or at all).</summary>
    public long? RefitStep { get; private set; }

    /// <summary>Wall time per step the latest fit planned with (0 before the first).</summary>
    public double CalibratedSecondsPerStep { get; private set; }

    /// <summary>Wall time of one evaluation: estimated at the first fit, then the latest measured.</summary>
    public double EvaluationSeconds { get; private set; }

    /// <summary>The fit and guard decisions, as lines for the user.</summary>
    public event Action<string>? Log;

    /// <summary>
    /// Takes the run's clock after step <paramref name="step"/> (counted from 1; the device has finished it) and fits
    /// or guards the step count; read <see cref="TotalSteps"/> and <see cref="Schedule"/> afterwards.
    /// </summary>
    /// <param name="step">The step just finished, counted from 1.</param>
    /// <param name="elapsedSeconds">Wall time of the run so far.</param>
    /// <param name="stepSeconds">Wall time of this step alone.</param>
    /// <param name="epochEndsNow">This step ended an epoch, so an evaluation comes next.</param>
    /// <param name="estimateEvaluationSeconds">
    /// Times an evaluation of the test set (every rank at the same step): at the first fit, and once more near the end.
    /// </param>
    public void AfterStep(long step, double elapsedSeconds, double stepSeconds, bool epochEndsNow, Func<double> estimateEvaluationSeconds)
    {
        recentSecondsPerStep = 0.9 * recentSecondsPerStep + 0.1 * stepSeconds;
        if (step == CalibrationStart) calibrationStartSeconds = elapsedSeconds;
        if (step == WarmupSteps) FirstFit(elapsedSeconds, estimateEvaluationSeconds());
        if (step == refitWindowStart && RefitStep is not null) refitWindowStartSeconds = elapsedSeconds;
        if (step == RefitStep) Refit(step, elapsedSeconds);
        if (step > WarmupSteps && step < TotalSteps) Guard(step, elapsedSeconds, epochEndsNow, estimateEvaluationSeconds);
    }

    /// <summary>An evaluation just took <paramref name="seconds"/>: the guard plans the next with that, at the pace of the steps now.</summary>
    public void EvaluationMeasured(double seconds)
    {
        EvaluationSeconds = seconds;
        evaluationSecondsPerStep = recentSecondsPerStep;
    }

    void FirstFit(double elapsedSeconds, double evaluationSeconds)
    {
        CalibratedSecondsPerStep = (elapsedSeconds - calibrationStartSeconds) / (WarmupSteps - CalibrationStart);
        EvaluationSeconds = evaluationSeconds;
        evaluationSecondsPerStep = recentSecondsPerStep;
        Fit(agree(ChooseTotalSteps(elapsedSeconds, WarmupSteps, CalibratedSecondsPerStep, EvaluationSeconds, WarmupSteps, maxSteps)));
        // The re-fit must come while the rates still ignore the count, under the first count and under the fewest it may choose.
        fewestAtRefit = Math.Max(WarmupSteps, (long)Math.Ceiling(TotalSteps * LowestRefitShare));
        long refitStep = Schedule.WithTotalSteps(fewestAtRefit).LengthIndependentSteps;
        string plan;
        // Enough steps between the fits to time the settled pace: at least as many as the warm-up's timed steps.
        if (refitStep - WarmupSteps >= WarmupSteps - CalibrationStart && refitStep < TotalSteps)
        {
            RefitStep = refitStep;
            // The later half: the steps keep getting faster for a while after the warm-up.
            refitWindowStart = WarmupSteps + (refitStep - WarmupSteps) / 2;
            plan = $"re-fitted after step {refitStep}, once the pace has settled";
        }
        else
        {
            plan = RepeatLine();
        }
        Report(FormattableString.Invariant($"time budget {Seconds:F0} s: {CalibratedSecondsPerStep * 1000:F0} ms per step, ~{EvaluationSeconds:F1} s per evaluation -> {Describe()}; {plan}"));
    }

    void Refit(long step, double elapsedSeconds)
    {
        CalibratedSecondsPerStep = (elapsedSeconds - refitWindowStartSeconds) / (step - refitWindowStart);
        Fit(agree(ChooseTotalSteps(elapsedSeconds, step, CalibratedSecondsPerStep, EvaluationSeconds, fewestAtRefit, maxSteps)));
        Report(FormattableString.Invariant($"time budget {Seconds:F0} s: steps {refitWindowStart + 1}-{step} took {CalibratedSecondsPerStep * 1000:F0} ms each -> {Describe()}; {RepeatLine()}"));
    }

    void Fit(long totalSteps)
    {
        TotalSteps = totalSteps;
        Schedule = Schedule.WithTotalSteps(totalSteps);
    }

    string Describe() => FormattableString.Invariant($"{TotalSteps} steps in all ({(double)TotalSteps / batchesPerEpoch:F2} epochs)");

    string RepeatLine() => $"--max-steps {TotalSteps} --warmup-steps {WarmupSteps} repeats this run";

    void Report(string message) => Log?.Invoke(message);

    /// <summary>
    /// The most steps in all, between <paramref name="fewest"/> and <paramref name="most"/>, whose training after
    /// <paramref name="stepsDone"/> plus the evaluations still ahead (one per epoch end reached, and the last) fit in
    /// what is left of the budget less its <see cref="SafetyFraction"/>.
    /// </summary>
    /// <param name="elapsedSeconds">Wall time of the run so far.</param>
    /// <param name="stepsDone">Steps already taken.</param>
    /// <param name="secondsPerStep">Wall time per training step.</param>
    /// <param name="evaluationSeconds">Wall time of one evaluation of the test set.</param>
    /// <param name="fewest">The least the count may be.</param>
    /// <param name="most">The most the count may be (raised to <paramref name="fewest"/> if below it).</param>
    public long ChooseTotalSteps(double elapsedSeconds, long stepsDone, double secondsPerStep, double evaluationSeconds, long fewest, long most)
    {
        if (!(secondsPerStep > 0)) throw new ArgumentException($"seconds per step must be positive, got {secondsPerStep}");
        most = Math.Max(most, fewest);
        double usable = Seconds * (1 - SafetyFraction) - elapsedSeconds;
        // Epoch ends in steps stepsDone..steps-1 each add an evaluation (an epoch end at stepsDone has not been evaluated yet); the last step adds one.
        long EvaluationsAhead(long steps) => Math.Max(0, (steps - 1) / batchesPerEpoch - (stepsDone - 1) / batchesPerEpoch) + 1;
        double Cost(long steps) => (steps - stepsDone) * secondsPerStep + EvaluationsAhead(steps) * evaluationSeconds;
        // Start from the count that would fit with a single evaluation, then give back steps until the epoch-end evaluations fit too.
        double fitting = Math.Floor((usable - evaluationSeconds) / secondsPerStep);
        long total = fitting >= most - stepsDone ? most : Math.Clamp(stepsDone + (long)Math.Max(fitting, 0), fewest, most);
        while (total > fewest && Cost(total) > usable) total--;
        return total;
    }

    /// <summary>What the guard decides after a step; every rank takes the smallest of the ranks' verdicts.</summary>
    enum GuardVerdict { Stop = 0, RetimeEvaluation = 1, Continue = 2 }

    /// <summary>
    /// Stops the run when the next step and the evaluations ahead would no longer fit. Before it first comes near that
    /// (it would stop if evaluations took twice as long), it times an evaluation again: on a machine that has become
    /// busier, evaluation's large batches slow down more than the steps do, and the estimate from the warm-up is stale.
    /// </summary>
    void Guard(long step, double elapsedSeconds, bool epochEndsNow, Func<double> estimateEvaluationSeconds)
    {
        var verdict = MustStopEarly(elapsedSeconds, recentSecondsPerStep, epochEndsNow) ? GuardVerdict.Stop : GuardVerdict.Continue;
        if (!evaluationRetimed && (verdict == GuardVerdict.Stop || MustStopEarly(elapsedSeconds, recentSecondsPerStep, epochEndsNow, evaluationFactor: 2)))
            verdict = GuardVerdict.RetimeEvaluation;
        switch ((GuardVerdict)agree((long)verdict))
        {
            case GuardVerdict.RetimeEvaluation:
                // The clock has moved on while timing; the next step's check sees where it stands.
                evaluationRetimed = true;
                EvaluationMeasured(estimateEvaluationSeconds());
                Report(FormattableString.Invariant($"time budget: evaluation re-timed after step {step}: ~{EvaluationSeconds:F1} s"));
                break;
            case GuardVerdict.Stop:
                Report(FormattableString.Invariant($"time budget: steps slowed to ~{recentSecondsPerStep * 1000:F0} ms (calibrated {CalibratedSecondsPerStep * 1000:F0} ms), an evaluation to ~{EvaluationSeconds:F1} s; stopping at step {step} of {TotalSteps} to leave time for the evaluation"));
                TotalSteps = step;
                break;
        }
    }

    /// <summary>
    /// True when one more step at <paramref name="recentSecondsPerStep"/> and the evaluations still ahead (the last,
    /// plus one if this step ended an epoch), slowed down alike and taken <paramref name="evaluationFactor"/> times,
    /// would no longer fit in the budget less half its <see cref="SafetyFraction"/>.
    /// </summary>
    public bool MustStopEarly(double elapsedSeconds, double recentSecondsPerStep, bool epochEndsNow, double evaluationFactor = 1)
    {
        double slowdown = evaluationSecondsPerStep > 0 ? Math.Max(1, recentSecondsPerStep / evaluationSecondsPerStep) : 1;
        int evaluationsAhead = epochEndsNow ? 2 : 1;
        return elapsedSeconds + recentSecondsPerStep + evaluationFactor * evaluationsAhead * slowdown * EvaluationSeconds > Seconds * (1 - SafetyFraction / 2);
    }
}
