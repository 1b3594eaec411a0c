namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// The learning rate at each step: an optional linear warm-up over the first steps (the rate there does not depend on
/// the run's length, so a time-budgeted run can fix its length while warming up), then cosine decay to zero at the
/// last step, or step decay ×0.1 at milestones (fractions of all steps).
/// </summary>
public sealed class LearningRateSchedule
{
    readonly float baseRate;
    readonly long totalSteps, warmupSteps;
    readonly string kind;
    readonly long[] milestones;

    public LearningRateSchedule(string kind, float baseRate, long totalSteps, IEnumerable<double> milestoneFractions, long warmupSteps = 0)
    {
        if (kind is not ("cosine" or "step")) throw new ArgumentException($"unknown schedule '{kind}': expected cosine or step");
        if (!(baseRate > 0) || float.IsInfinity(baseRate)) throw new ArgumentException($"learning rate must be positive and finite, got {baseRate}");
        if (warmupSteps < 0) throw new ArgumentException($"warm-up steps must not be negative, got {warmupSteps}");
        this.kind = kind;
        this.baseRate = baseRate;
        this.totalSteps = Math.Max(totalSteps, 1);
        this.warmupSteps = warmupSteps;
        milestones = milestoneFractions.Select(f => (long)Math.Round(f * this.totalSteps)).Order().ToArray();
    }

    public float At(long step)
    {
        if (step < warmupSteps) return baseRate * (step + 1) / warmupSteps;
        if (kind == "step") return baseRate * MathF.Pow(0.1f, milestones.Count(m => step >= m));
        long span = Math.Max(totalSteps - warmupSteps, 1);
        return (float)(baseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step - warmupSteps, span) / span)));
    }
}
