namespace RevNetIlgpu.RevNet.Training;

/// <summary>The learning rate at each step: cosine decay to zero, or step decay ×0.1 at milestones (fractions of all steps).</summary>
public sealed class LearningRateSchedule
{
    readonly float baseRate;
    readonly long totalSteps;
    readonly string kind;
    readonly long[] milestones;

    public LearningRateSchedule(string kind, float baseRate, long totalSteps, IEnumerable<double> milestoneFractions)
    {
        if (kind is not ("cosine" or "step")) throw new ArgumentException($"unknown schedule '{kind}': expected cosine or step");
        if (!(baseRate > 0) || float.IsInfinity(baseRate)) throw new ArgumentException($"learning rate must be positive and finite, got {baseRate}");
        this.kind = kind;
        this.baseRate = baseRate;
        this.totalSteps = Math.Max(totalSteps, 1);
        milestones = milestoneFractions.Select(f => (long)Math.Round(f * this.totalSteps)).Order().ToArray();
    }

    public float At(long step) => kind == "cosine"
        ? (float)(baseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, totalSteps) / totalSteps)))
        : baseRate * MathF.Pow(0.1f, milestones.Count(m => step >= m));
}
