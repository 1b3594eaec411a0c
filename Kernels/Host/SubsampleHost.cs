using ILGPU;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>Host (plain C#) versions of <see cref="SubsampleKernels"/> over the CPU accelerator's memory: pure copies, the same values.</summary>
public static class SubsampleHost
{
    /// <summary>y = x[:, :, ::stride, ::stride].</summary>
    public static void Forward(SubsampleKernels.Planes p, ArrayView<float> x, ArrayView<float> y)
    {
        int planes = (int)(y.Length / ((long)p.OutH * p.OutW));
        HostThreads.For(planes, plane =>
        {
            var xs = HostMemory.Span(x);
            var ys = HostMemory.Span(y);
            for (int i = plane * p.OutH * p.OutW, end = i + p.OutH * p.OutW; i < end; i++) ys[i] = xs[SubsampleKernels.Source(i, p)];
        });
    }

    /// <summary>gx = gy at every stride-th row and column, zero elsewhere.</summary>
    public static void Backward(SubsampleKernels.Planes p, ArrayView<float> gy, ArrayView<float> gx)
    {
        int planes = (int)(gx.Length / ((long)p.H * p.W));
        HostThreads.For(planes, plane =>
        {
            var gys = HostMemory.Span(gy);
            var gxs = HostMemory.Span(gx);
            for (int i = plane * p.H * p.W, end = i + p.H * p.W; i < end; i++)
            {
                int t = SubsampleKernels.Target(i, p);
                gxs[i] = t >= 0 ? gys[t] : 0f;
            }
        });
    }
}
