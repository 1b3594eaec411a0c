using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="SubsampleKernels"/> (its <c>Source</c>/<c>Target</c> say which element goes where): the
/// forward one thread per output element, the backward one thread per input row (rows past a whole stride included and
/// skipped), positions stepped by an <see cref="Odometer"/> and counters, so no loop divides.
/// </summary>
internal static class SubsampleIlgpu
{
    static void ForwardKernel(SubsampleKernels.Planes p, ArrayView<float> x, ArrayView<float> y)
    {
        var at = Odometer.OfThread(p.OutW, p.OutH);
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
            y[i] = x[(at.D2 * p.H + at.D1 * p.Stride) * p.W + at.D0 * p.Stride];
    }

    /// <summary>Row r = q·S + rem of every plane, for q &lt; OutH and rem &lt; S: gx's row, with gy's row q spread over every S-th column when rem = 0, else zeros.</summary>
    static void BackwardKernel(SubsampleKernels.Planes p, ArrayView<float> gy, ArrayView<float> gx)
    {
        var at = Odometer.OfThread(p.Stride, p.OutH);
        for (int item = GridLoop.Start, end = gx.IntLength / (p.H * p.W) * p.OutH * p.Stride, step = GridLoop.Stride; item < end; item += step, at.Advance())
        {
            int row = at.D1 * p.Stride + at.D0;
            if (row >= p.H) continue;
            int gxRow = (at.D2 * p.H + row) * p.W, gyRow = (at.D2 * p.OutH + at.D1) * p.OutW;
            for (int col = 0, rem = 0, q = 0; col < p.W; col++)
            {
                gx[gxRow + col] = at.D0 == 0 && rem == 0 ? gy[gyRow + q] : 0f;
                if (++rem == p.Stride)
                {
                    rem = 0;
                    q++;
                }
            }
        }
    }

    internal static void Forward(KernelContext k, SubsampleKernels.Planes p, ArrayView<float> x, ArrayView<float> y) =>
        k.Load<SubsampleKernels.Planes, ArrayView<float>, ArrayView<float>>(ForwardKernel)(k.GridStride(y.Length), LaunchCost.Elementwise(y.Length, 0, 1, 1), p, x, y);

    internal static void Backward(KernelContext k, SubsampleKernels.Planes p, ArrayView<float> gy, ArrayView<float> gx) =>
        k.Load<SubsampleKernels.Planes, ArrayView<float>, ArrayView<float>>(BackwardKernel)(
            k.GridStride(gx.Length / (p.H * p.W) * p.OutH * p.Stride), new LaunchCost(0, (gx.Length + gy.Length) * sizeof(float)), p, gy, gx);
}
