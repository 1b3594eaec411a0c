namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// The learning rate at each step, a function of the run's total step count and nothing else that changes: an
/// optional linear warm-up over the first steps, then either cosine decay to zero at the last step, its first
/// <see cref="CosineHoldFraction"/> held at the base rate, or step decay ×0.1 at milestones (fractions of all steps).
/// The leading <see cref="LengthIndependentSteps"/> rates are the same for every total past them, which is what lets a
/// time-budgeted run fix its length after it has started.
/// </summary>
public sealed class LearningRateSchedule
{
    /// <summary>
    /// Share of the steps after the warm-up for which cosine holds the base rate before it decays: a time budget re-fits
    /// the step count inside that stretch, once the pace has settled, without touching a rate already used.
    /// </summary>
    public const double CosineHoldFraction = 0.1;

    readonly float baseRate;
    readonly long warmupSteps, decayStart;
    readonly string kind;
    readonly double[] milestoneFractions;
    readonly long[] milestones;

    /// <summary>A schedule of <paramref name="totalSteps"/> steps (at least 1).</summary>
    /// <param name="kind">"cosine" or "step".</param>
    /// <param name="baseRate">The rate after the warm-up (and before any decay).</param>
    /// <param name="totalSteps">The run's steps in all.</param>
    /// <param name="milestoneFractions">For "step": where the rate drops ×0.1, as fractions of <paramref name="totalSteps"/>.</param>
    /// <param name="warmupSteps">Steps of linear warm-up to the base rate (0: none).</param>
    /// <exception cref="ArgumentException">An unknown kind, a rate that is not positive and finite, or negative warm-up steps.</exception>
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
        decayStart = warmupSteps + (long)Math.Floor(CosineHoldFraction * Math.Max(TotalSteps - warmupSteps, 0));
        LengthIndependentSteps = kind == "cosine" ? decayStart
            : milestones.Length == 0 ? long.MaxValue
            : Math.Max(warmupSteps, milestones[0]);
    }

    /// <summary>The step count the schedule ends at (cosine reaches zero there; milestones are fractions of it).</summary>
    public long TotalSteps { get; }

    /// <summary>
    /// How many leading steps have rates that do not depend on <see cref="TotalSteps"/>: the warm-up and the cosine's
    /// held stretch, or the steps before the first milestone. It never decreases as the total grows.
    /// </summary>
    public long LengthIndependentSteps { get; }

    /// <summary>The same schedule over <paramref name="totalSteps"/> steps.</summary>
    public LearningRateSchedule WithTotalSteps(long totalSteps) => new(kind, baseRate, totalSteps, milestoneFractions, warmupSteps);

    /// <summary>The rate for step <paramref name="step"/>, counted from 0.</summary>
    public float At(long step)
    {
        if (step < warmupSteps) return baseRate * (step + 1) / warmupSteps;
        if (kind == "step") return baseRate * MathF.Pow(0.1f, milestones.Count(m => step >= m));
        if (step < decayStart) return baseRate;
        long span = Math.Max(TotalSteps - decayStart, 1);
        return (float)(baseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step - decayStart, span) / span)));
    }
}
