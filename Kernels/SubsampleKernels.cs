using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Strided subsampling of NCHW planes: y [N,C,⌈H/s⌉,⌈W/s⌉] with y[n,c,i,j] = x[n,c,i·s,j·s] — what a 1x1 convolution with
/// stride s and no padding reads of its input, so a strided 1x1 projection can keep only this (s² times smaller) tensor for
/// its weight gradient. Backward scatters gy back and zeroes the positions the subsample skipped. Nothing is saved.
/// </summary>
public static class SubsampleKernels
{
    /// <summary>(Kernel argument types are public: ILGPU marshals them by reflection.) Plane sizes and the stride.</summary>
    public struct Planes
    {
        public int H, W, OutH, OutW, Stride;
    }

    /// <summary>Output height or width for input size <paramref name="size"/> and stride <paramref name="stride"/>: ⌈size/stride⌉.</summary>
    public static int OutputSize(int size, int stride) => (size - 1) / stride + 1;

    /// <summary>Index into x of output element <paramref name="i"/>.</summary>
    public static int Source(int i, Planes p)
    {
        int plane = i / (p.OutH * p.OutW), r = i % (p.OutH * p.OutW);
        return (plane * p.H + r / p.OutW * p.Stride) * p.W + r % p.OutW * p.Stride;
    }

    /// <summary>For input element <paramref name="i"/>: the output element it became, or -1 where the subsample skipped it.</summary>
    public static int Target(int i, Planes p)
    {
        int plane = i / (p.H * p.W), r = i % (p.H * p.W);
        int row = r / p.W, col = r % p.W;
        return row % p.Stride == 0 && col % p.Stride == 0 ? (plane * p.OutH + row / p.Stride) * p.OutW + col / p.Stride : -1;
    }

    static void ForwardKernel(Planes p, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
            y[i] = x[Source(i, p)];
    }

    static void BackwardKernel(Planes p, ArrayView<float> gy, ArrayView<float> gx)
    {
        for (int i = GridLoop.Start, end = gx.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int t = Target(i, p);
            gx[i] = t >= 0 ? gy[t] : 0f;
        }
    }

    /// <summary>y = x[:, :, ::stride, ::stride] for x of <paramref name="planes"/> planes (N·C) of h x w.</summary>
    public static void Forward(KernelContext k, int planes, int h, int w, int stride, ArrayView<float> x, ArrayView<float> y)
    {
        var p = Check("subsample", planes, h, w, stride, x, y, "y");
        if (k.DispatchToHost())
        {
            Host.SubsampleHost.Forward(p, x, y);
            return;
        }
        k.Load<Planes, ArrayView<float>, ArrayView<float>>(ForwardKernel)(k.GridStride(y.Length), p, x, y);
    }

    /// <summary>gx = gy scattered to every stride-th row and column, zero elsewhere (overwritten).</summary>
    public static void Backward(KernelContext k, int planes, int h, int w, int stride, ArrayView<float> gy, ArrayView<float> gx)
    {
        var p = Check("subsample backward", planes, h, w, stride, gx, gy, "gy");
        if (k.DispatchToHost())
        {
            Host.SubsampleHost.Backward(p, gy, gx);
            return;
        }
        k.Load<Planes, ArrayView<float>, ArrayView<float>>(BackwardKernel)(k.GridStride(gx.Length), p, gy, gx);
    }

    static Planes Check(string op, int planes, int h, int w, int stride, ArrayView<float> full, ArrayView<float> sub, string subName)
    {
        ShapeCheck.Positive(op, "planes", planes);
        ShapeCheck.Positive(op, "h", h);
        ShapeCheck.Positive(op, "w", w);
        ShapeCheck.Positive(op, "stride", stride);
        var p = new Planes { H = h, W = w, OutH = OutputSize(h, stride), OutW = OutputSize(w, stride), Stride = stride };
        ShapeCheck.Length(op, subName == "y" ? "x" : "gx", full.Length, (long)planes * h * w);
        ShapeCheck.Length(op, subName, sub.Length, (long)planes * p.OutH * p.OutW);
        return p;
    }
}
