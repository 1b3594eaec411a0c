using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Strided subsampling of NCHW planes: y [N,C,⌈H/s⌉,⌈W/s⌉] with y[n,c,i,j] = x[n,c,i·s,j·s] — what a 1x1 convolution with
/// stride s and no padding reads of its input, so a strided 1x1 projection can keep only this (s² times smaller) tensor for
/// its weight gradient. Backward scatters gy back and zeroes the positions the subsample skipped. Nothing is saved. The
/// index arithmetic (<see cref="Source"/>, <see cref="Target"/>) is shared by both forms: Kernels/Ilgpu/SubsampleIlgpu.cs,
/// Kernels/Host/SubsampleHost.cs.
/// </summary>
public abstract class SubsampleKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>(Kernel argument types are public: ILGPU marshals them by reflection.) Plane sizes and the stride.</summary>
    public struct Planes
    {
        /// <summary>Input plane height.</summary>
        public int H;

        /// <summary>Input plane width.</summary>
        public int W;

        /// <summary>Output plane height, ⌈H/Stride⌉.</summary>
        public int OutH;

        /// <summary>Output plane width, ⌈W/Stride⌉.</summary>
        public int OutW;

        /// <summary>The step between kept rows and columns.</summary>
        public int Stride;
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

    /// <summary>y = x[:, :, ::stride, ::stride] for x of <paramref name="planes"/> planes (N·C) of h x w.</summary>
    public void Forward(int planes, int h, int w, int stride, ArrayView<float> x, ArrayView<float> y)
    {
        var p = Check("subsample", planes, h, w, stride, x, y, "y");
        Enter();
        ForwardCore(p, x, y);
    }

    /// <summary>gx = gy scattered to every stride-th row and column, zero elsewhere (overwritten).</summary>
    public void Backward(int planes, int h, int w, int stride, ArrayView<float> gy, ArrayView<float> gx)
    {
        var p = Check("subsample backward", planes, h, w, stride, gx, gy, "gy");
        Enter();
        BackwardCore(p, gy, gx);
    }

    /// <summary>The backend's form of <see cref="Forward"/>: arguments already checked.</summary>
    protected abstract void ForwardCore(Planes p, ArrayView<float> x, ArrayView<float> y);

    /// <summary>The backend's form of <see cref="Backward"/>: arguments already checked.</summary>
    protected abstract void BackwardCore(Planes p, ArrayView<float> gy, ArrayView<float> gx);

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
