using ILGPU;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// ReLU over any shape. Forward: y = max(x, 0). Backward: gx = gy where x &gt; 0 else 0; it reads either the
/// input or the output (both are positive in the same places), so a caller may keep whichever it already holds.
/// </summary>
public static class ReluKernels
{
    static void ForwardKernel(ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = GridLoop.Start, end = x.IntLength, step = GridLoop.Stride; i < end; i += step)
            y[i] = IntrinsicMath.Max(x[i], 0f);
    }

    static void BackwardKernel(ArrayView<float> xOrY, ArrayView<float> gy, ArrayView<float> gx)
    {
        for (int i = GridLoop.Start, end = gy.IntLength, step = GridLoop.Stride; i < end; i += step)
            gx[i] = xOrY[i] > 0f ? gy[i] : 0f;
    }

    public static void Forward(KernelContext k, ArrayView<float> x, ArrayView<float> y)
    {
        ShapeCheck.Length("relu", "y", y.Length, x.Length);
        if (k.DispatchToHost()) { ReluHost.Forward(HostMemory.Span(x), HostMemory.Span(y)); return; }
        k.Load<ArrayView<float>, ArrayView<float>>(ForwardKernel)(k.GridStride(x.Length), x, y);
    }

    public static void Backward(KernelContext k, ArrayView<float> xOrY, ArrayView<float> gy, ArrayView<float> gx)
    {
        ShapeCheck.Length("relu backward", "x", xOrY.Length, gy.Length);
        ShapeCheck.Length("relu backward", "gx", gx.Length, gy.Length);
        if (k.DispatchToHost()) { ReluHost.Backward(HostMemory.Span(xOrY), HostMemory.Span(gy), HostMemory.Span(gx)); return; }
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel)(k.GridStride(gy.Length), xOrY, gy, gx);
    }
}
