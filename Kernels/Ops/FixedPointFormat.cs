namespace RevNetIlgpu.Kernels;

/// <summary>
/// Fixed-point numbers carried in float32 tensors, for exact reconstruction: a value is an integer X with |X| ≤ 2^24
/// standing for X·2^−<see cref="FractionBits"/>. Float32 holds every such integer exactly, so adding or subtracting two of
/// them in float32 is integer arithmetic whenever the result stays in range: exact, and undone exactly by the opposite
/// operation. The default, 16 fraction bits, gives steps of 2^−16 ≈ 1.5e−5 and a range of ±256; fewer bits widen the range
/// and coarsen the steps. Rounding to the grid (<see cref="CouplingArithmetic.Round(FixedPointFormat, float)"/>) takes only
/// exact steps, so every backend and compiler gives the same bits. Public fields: ILGPU marshals it as a kernel argument.
/// </summary>
public readonly record struct FixedPointFormat
{
    /// <summary>Significand bits of float32 (with the implicit one): every integer up to 2^24 in magnitude is exact.</summary>
    public const int SignificandBits = 24;

    /// <summary>Binary digits after the point: steps of 2^−FractionBits.</summary>
    public readonly int FractionBits;

    /// <summary>2^FractionBits: multiplies a value into integer units.</summary>
    public readonly float Scale;

    /// <summary>2^−FractionBits: the step between neighbouring values.</summary>
    public readonly float Step;

    /// <summary>2^(24 − FractionBits): the largest magnitude held exactly.</summary>
    public readonly float Limit;

    /// <param name="fractionBits">0 to 24</param>
    public FixedPointFormat(int fractionBits)
    {
        if (fractionBits is < 0 or > SignificandBits)
            throw new ArgumentException($"fixed point: fraction bits must be between 0 and {SignificandBits}, got {fractionBits}");
        FractionBits = fractionBits;
        Scale = MathF.ScaleB(1f, fractionBits);
        Step = MathF.ScaleB(1f, -fractionBits);
        Limit = MathF.ScaleB(1f, SignificandBits - fractionBits);
    }

    /// <summary>16 fraction bits: steps of 2^−16, range ±256.</summary>
    public static FixedPointFormat Default { get; } = new(16);

    /// <summary>"steps of 2^-16, range ±256", for messages and the README.</summary>
    public override string ToString() => $"steps of 2^-{FractionBits}, range ±{Limit:0.###}";
}
