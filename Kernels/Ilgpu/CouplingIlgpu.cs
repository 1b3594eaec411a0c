using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="CouplingKernels"/>: one grid-stride launch per op, each element through the shared scalar
/// arithmetic (<see cref="CouplingArithmetic"/>, <see cref="ExactScaleShift"/>). A thread that sees an element out of range
/// stores the code into the flag; every such store writes a nonzero code, so the race is harmless.
/// </summary>
internal static class CouplingIlgpu
{
    /// <summary>The views of a scale-shift op beside its input and output (more than a launcher's six arguments otherwise).</summary>
    public struct ScaleShiftViews
    {
        public ArrayView<float> S, T, Gy, Gs;
    }

    static void ScaleShiftKernel(ArrayView<float> x, ScaleShiftViews v, ArrayView<float> y)
    {
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
            y[i] = x[i] * CouplingArithmetic.Scale(v.S[i]) + v.T[i];
    }

    static void UnscaleShiftKernel(ArrayView<float> y, ScaleShiftViews v, ArrayView<float> x)
    {
        for (int i = GridLoop.Start, end = x.IntLength, step = GridLoop.Stride; i < end; i += step)
            x[i] = (y[i] - v.T[i]) / CouplingArithmetic.Scale(v.S[i]);
    }

    static void ScaleShiftBackwardKernel(ArrayView<float> x, ScaleShiftViews v, ArrayView<float> gx)
    {
        for (int i = GridLoop.Start, end = gx.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            float s = v.S[i], scale = CouplingArithmetic.Scale(s), gy = v.Gy[i];
            gx[i] = gy * scale;
            v.Gs[i] = gy * x[i] * (scale * CouplingArithmetic.ScaleComplement(s));
        }
    }

    static void RoundKernel(FixedPointFormat format, ArrayView<float> x, ArrayView<float> y, ArrayView<int> overflow)
    {
        bool outside = false;
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            float v = CouplingArithmetic.Round(format, x[i]);
            y[i] = v;
            outside |= !CouplingArithmetic.InRange(format, v);
        }
        if (outside) overflow[0] = ExactScaleShift.OutOfRange;
    }

    /// <summary>y = x + sign·round(f); checks the range when <paramref name="overflow"/> is not empty.</summary>
    static void AddRoundedKernel(FixedPointFormat format, ArrayView<float> x, ArrayView<float> f, ArrayView<float> y, float sign, ArrayView<int> overflow)
    {
        bool outside = false;
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            float v = x[i] + sign * CouplingArithmetic.Round(format, f[i]);
            y[i] = v;
            outside |= !CouplingArithmetic.InRange(format, v);
        }
        if (outside && overflow.Length > 0) overflow[0] = ExactScaleShift.OutOfRange;
    }

    static void ExactScaleShiftKernel(ExactScaleShiftArgs args, ArrayView<float> input, ArrayView<float> output)
    {
        for (int i = GridLoop.Start, end = output.IntLength, step = GridLoop.Stride; i < end; i += step)
            args.Apply(input, output, i);
    }

    internal static void ScaleShift(KernelContext k, ArrayView<float> x, ArrayView<float> s, ArrayView<float> t, ArrayView<float> y) =>
        k.Load<ArrayView<float>, ScaleShiftViews, ArrayView<float>>(ScaleShiftKernel)(k.GridStride(y.Length), LaunchCost.Elementwise(y.Length, 3, 3, 1), x, new ScaleShiftViews { S = s, T = t }, y);

    internal static void UnscaleShift(KernelContext k, ArrayView<float> y, ArrayView<float> s, ArrayView<float> t, ArrayView<float> x) =>
        k.Load<ArrayView<float>, ScaleShiftViews, ArrayView<float>>(UnscaleShiftKernel)(k.GridStride(x.Length), LaunchCost.Elementwise(x.Length, 3, 3, 1), y, new ScaleShiftViews { S = s, T = t }, x);

    internal static void ScaleShiftBackward(KernelContext k, ArrayView<float> x, ArrayView<float> s, ArrayView<float> gy, ArrayView<float> gx, ArrayView<float> gs) =>
        k.Load<ArrayView<float>, ScaleShiftViews, ArrayView<float>>(ScaleShiftBackwardKernel)(k.GridStride(gx.Length), LaunchCost.Elementwise(gx.Length, 4, 3, 2), x, new ScaleShiftViews { S = s, Gy = gy, Gs = gs }, gx);

    internal static void Round(KernelContext k, FixedPointFormat format, ArrayView<float> x, ArrayView<float> y, ArrayView<int> overflow) =>
        k.Load<FixedPointFormat, ArrayView<float>, ArrayView<float>, ArrayView<int>>(RoundKernel)(k.GridStride(y.Length), LaunchCost.Elementwise(y.Length, 2, 1, 1), format, x, y, overflow);

    internal static void AddRounded(KernelContext k, FixedPointFormat format, ArrayView<float> x, ArrayView<float> f, ArrayView<float> y, float sign, ArrayView<int> overflow) =>
        k.Load<FixedPointFormat, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, ArrayView<int>>(AddRoundedKernel)(k.GridStride(y.Length), LaunchCost.Elementwise(y.Length, 3, 2, 1), format, x, f, y, sign, overflow);

    internal static void ScaleShiftExact(KernelContext k, ExactScaleShiftArgs args, ArrayView<float> input, ArrayView<float> output) =>
        k.Load<ExactScaleShiftArgs, ArrayView<float>, ArrayView<float>>(ExactScaleShiftKernel)(k.GridStride(output.Length), LaunchCost.Elementwise(output.Length, 4, 3, 1), args, input, output);
}
