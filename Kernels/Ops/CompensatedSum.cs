using ILGPU.Algorithms;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// A float32 running sum that keeps the rounding error of every addition (Neumaier's variant of Kahan summation): the
/// value is <see cref="High"/> + <see cref="Low"/>. A plain float32 sum of m terms drifts by up to m ulps of the sum and
/// depends on the order of the terms; here each addition's error is carried in <see cref="Low"/> (itself a plain sum of
/// those much smaller errors), so sums of the same data taken over different splits agree to about float32 precision.
/// Used by sync-BN, in float32 because many OpenCL devices have no float64.
/// </summary>
public struct CompensatedSum
{
    /// <summary>The float32 sum of the terms so far.</summary>
    public float High;

    /// <summary>The rounding errors of those additions, summed: the part of the true sum <see cref="High"/> lost.</summary>
    public float Low;

    /// <summary>Adds <paramref name="value"/>, carrying the addition's rounding error into <see cref="Low"/>.</summary>
    public void Add(float value)
    {
        float total = High + value;
        // Whichever operand is larger in magnitude was added exactly but for the low bits of the smaller one.
        Low += XMath.Abs(High) >= XMath.Abs(value) ? (High - total) + value : (value - total) + High;
        High = total;
    }

    /// <summary>High + Low in float64, for adding across processes on the host.</summary>
    public readonly double Value => (double)High + Low;
}
