namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// The learning rate at each step: an optional linear warm-up over the first steps (the rate there does not depend on
/// the run's length, so a time-budgeted run can fix its length while warming up), then cosine decay to zero at the
/// last step, or step decay ×0.1 at milestones (fractions of all steps).
/// </summary>
public sealed class LearningRateSchedule
{
    readonly float baseRate;
    readonly long warmupSteps;
    readonly string kind;
    readonly double[] milestoneFractions;
    readonly long[] milestones;

    public LearningRateSchedule(string kind, float baseRate, long totalSteps, IEnumerable<double> milestoneFractions, long warmupSteps = 0)
    {
        if (kind is not ("cosine" or "step")) throw new ArgumentException($"unknown schedule '{kind}': expected cosine or step");
        if (!(baseRate > 0) || float.IsInfinity(baseRate)) throw new ArgumentException($"learning rate must be positive and finite, got {baseRate}");
        if (warmupSteps < 0) throw new ArgumentException($"warm-up steps must not be negative, got {warmupSteps}");
        this.kind = kind;
        this.baseRate = baseRate;
        TotalSteps = Math.Max(totalSteps, 1);
        this.warmupSteps = warmupSteps;
        this.milestoneFractions = milestoneFractions.ToArray();
        milestones = this.milestoneFractions.Select(f => (long)Math.Round(f * TotalSteps)).Order().ToArray();
    }

    /// <summary>The step count the schedule ends at (cosine reaches zero there; milestones are fractions of it).</summary>
    public long TotalSteps { get; }

    /// <summary>The same schedule over <paramref name="totalSteps"/> steps.</summary>
    public LearningRateSchedule WithTotalSteps(long totalSteps) => new(kind, baseRate, totalSteps, milestoneFractions, warmupSteps);

    /// <summary>The rate for step <paramref name="step"/>, counted from 0.</summary>
    public float At(long step)
    {
        if (step < warmupSteps) return baseRate * (step + 1) / warmupSteps;
        if (kind == "step") return baseRate * MathF.Pow(0.1f, milestones.Count(m => step >= m));
        long span = Math.Max(TotalSteps - warmupSteps, 1);
        return (float)(baseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step - warmupSteps, span) / span)));
    }
}
