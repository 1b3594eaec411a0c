using ILGPU;
using ILGPU.Algorithms;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// The per-element arithmetic of reversible couplings, written once for both backends (scalar form for ILGPU, lanes form
/// for the host, as the operator structs in ElementwiseOps.cs): the bounded scale of affine couplings and rounding to a
/// <see cref="FixedPointFormat"/>'s grid. Same operations in the same order in both forms: `cpu` and `ilgpu-cpu` agree bit for bit.
/// </summary>
public static class CouplingArithmetic
{
    /// <summary>The affine scale is sigmoid(s + 2): in (0, 1), 0.88 where s = 0, as memcnn's AffineAdapterSigmoid and Glow.</summary>
    public const float ScaleOffset = 2f;

    /// <summary>sigmoid(s + <see cref="ScaleOffset"/>).</summary>
    public static float Scale(float s) => new SigmoidOp().Invoke(s + ScaleOffset);

    /// <summary><see cref="Scale(float)"/> over lanes.</summary>
    public static T Scale<T>(T s) where T : struct, IFloatLanes<T> => new SigmoidOp().Invoke(s + T.Broadcast(ScaleOffset));

    /// <summary>
    /// 1 − scale as sigmoid(−(s + 2)), computed on its own: 1 − sigmoid(s + 2) would cancel to a few correct bits where the
    /// scale nears 1, and the scale's derivative is scale·(1 − scale).
    /// </summary>
    public static float ScaleComplement(float s) => new SigmoidOp().Invoke(0f - (s + ScaleOffset));

    /// <summary><see cref="ScaleComplement(float)"/> over lanes.</summary>
    public static T ScaleComplement<T>(T s) where T : struct, IFloatLanes<T> => new SigmoidOp().Invoke(T.Zero - (s + T.Broadcast(ScaleOffset)));

    /// <summary>
    /// The integer nearest u, halves up: floor(u), plus one where u − floor(u) ≥ ½. Every step is exact, unlike floor(u + ½),
    /// whose sum rounds once u has no bits to spare. NaN stays NaN, ±∞ stays ±∞.
    /// </summary>
    public static float RoundHalfUp(float u)
    {
        float whole = XMath.Floor(u);
        return u - whole >= 0.5f ? whole + 1f : whole;
    }

    /// <summary><see cref="RoundHalfUp(float)"/> over lanes.</summary>
    public static T RoundHalfUp<T>(T u) where T : struct, IFloatLanes<T>
    {
        var whole = T.Floor(u);
        return whole + T.WhereLess(u - whole, T.Broadcast(0.5f), T.Zero, T.Broadcast(1f));
    }

    /// <summary>v rounded to the grid of <paramref name="format"/> (not range-checked): RoundHalfUp(v·2^k)·2^−k, the product exact.</summary>
    public static float Round(FixedPointFormat format, float v) => RoundHalfUp(v * format.Scale) * format.Step;

    /// <summary><see cref="Round(FixedPointFormat, float)"/> over lanes.</summary>
    public static T Round<T>(FixedPointFormat format, T v) where T : struct, IFloatLanes<T> =>
        RoundHalfUp(v * T.Broadcast(format.Scale)) * T.Broadcast(format.Step);

    /// <summary>Whether v is a value the format holds exactly by magnitude (|v| ≤ limit); false for NaN.</summary>
    public static bool InRange(FixedPointFormat format, float v) => IntrinsicMath.Abs(v) <= format.Limit;

    /// <summary>How many lanes of v are out of range or NaN (see <see cref="InRange"/>).</summary>
    public static int CountOutOfRange<T>(FixedPointFormat format, T v) where T : struct, IFloatLanes<T>
    {
        // |v| < the next float above the limit ⇔ |v| ≤ limit; NaN compares false and so counts.
        var magnitude = T.Max(v, T.Zero - v);
        var outside = T.WhereLess(magnitude, T.Broadcast(MathF.BitIncrement(format.Limit)), T.Zero, T.Broadcast(1f));
        return (int)T.Sum(outside);
    }
}
