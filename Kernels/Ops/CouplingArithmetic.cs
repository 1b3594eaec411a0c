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

    /// <summary>v rounded to the grid of <paramref name="format"/> (not range-checked): floor(v·2^k + ½)·2^−k.</summary>
    public static float Round(FixedPointFormat format, float v) => XMath.Floor(v * format.Scale + 0.5f) * format.Step;

    /// <summary><see cref="Round(FixedPointFormat, float)"/> over lanes.</summary>
    public static T Round<T>(FixedPointFormat format, T v) where T : struct, IFloatLanes<T> =>
        T.Floor(v * T.Broadcast(format.Scale) + T.Broadcast(0.5f)) * T.Broadcast(format.Step);

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
