using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>The ILGPU form of <see cref="SubsampleKernels"/>: one thread per element, the index arithmetic shared with the host form.</summary>
public static class SubsampleIlgpu
{
    static void ForwardKernel(SubsampleKernels.Planes p, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
            y[i] = x[SubsampleKernels.Source(i, p)];
    }

    static void BackwardKernel(SubsampleKernels.Planes p, ArrayView<float> gy, ArrayView<float> gx)
    {
        for (int i = GridLoop.Start, end = gx.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int t = SubsampleKernels.Target(i, p);
            gx[i] = t >= 0 ? gy[t] : 0f;
        }
    }

    internal static void Forward(KernelContext k, SubsampleKernels.Planes p, ArrayView<float> x, ArrayView<float> y) =>
        k.Load<SubsampleKernels.Planes, ArrayView<float>, ArrayView<float>>(ForwardKernel)(k.GridStride(y.Length), p, x, y);

    internal static void Backward(KernelContext k, SubsampleKernels.Planes p, ArrayView<float> gy, ArrayView<float> gx) =>
        k.Load<SubsampleKernels.Planes, ArrayView<float>, ArrayView<float>>(BackwardKernel)(k.GridStride(gx.Length), p, gy, gx);
}
