using ILGPU;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Fully connected layer as nn.Linear: x [N, in], w [out, in], b [out], y [N, out]; y = x·wᵀ + b.
/// The backward needs x and w. All three products are the one GEMM (<see cref="GemmKernels"/>) with
/// transposes read in place. Activation gradients are written (=), parameter gradients accumulated (+=).
/// </summary>
public static class LinearKernels
{
    /// <summary>y = x·wᵀ + b; y is overwritten.</summary>
    public static void Forward(KernelContext k, int n, int inFeatures, int outFeatures,
        ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y)
    {
        const string op = "linear forward";
        CheckSizes(op, n, inFeatures, outFeatures);
        ShapeCheck.Length(op, "x", x.Length, (long)n * inFeatures);
        ShapeCheck.Length(op, "w", w.Length, (long)outFeatures * inFeatures);
        ShapeCheck.Length(op, "b", b.Length, outFeatures);
        ShapeCheck.Length(op, "y", y.Length, (long)n * outFeatures);
        if (k.DispatchToHost()) { LinearHost.Forward(n, inFeatures, outFeatures, HostMemory.Span(x), HostMemory.Span(w), HostMemory.Span(b), HostMemory.Span(y)); return; }
        GemmKernels.Multiply(k, n, outFeatures, inFeatures,
            new DenseOperand<RowMajor>(x, new RowMajor(inFeatures)),
            new TransposedOperand<DenseOperand<RowMajor>>(new DenseOperand<RowMajor>(w, new RowMajor(inFeatures))),
            new DenseOutput<RowMajor>(y, new RowMajor(outFeatures), OutputMode.Overwrite, b, BiasAxis.Column));
    }

    /// <summary>gx = gy·w; gx is overwritten.</summary>
    public static void BackwardInput(KernelContext k, int n, int inFeatures, int outFeatures,
        ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx)
    {
        const string op = "linear backward input";
        CheckSizes(op, n, inFeatures, outFeatures);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * outFeatures);
        ShapeCheck.Length(op, "w", w.Length, (long)outFeatures * inFeatures);
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * inFeatures);
        if (k.DispatchToHost()) { LinearHost.BackwardInput(n, inFeatures, outFeatures, HostMemory.Span(gy), HostMemory.Span(w), HostMemory.Span(gx)); return; }
        GemmKernels.Multiply(k, n, inFeatures, outFeatures,
            new DenseOperand<RowMajor>(gy, new RowMajor(outFeatures)),
            new DenseOperand<RowMajor>(w, new RowMajor(inFeatures)),
            new DenseOutput<RowMajor>(gx, new RowMajor(inFeatures), OutputMode.Overwrite));
    }

    /// <summary>gw += gyᵀ·x and gb += Σₙ gy[n, ·].</summary>
    public static void BackwardParams(KernelContext k, int n, int inFeatures, int outFeatures,
        ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, ArrayView<float> gb)
    {
        const string op = "linear backward params";
        CheckSizes(op, n, inFeatures, outFeatures);
        ShapeCheck.Length(op, "x", x.Length, (long)n * inFeatures);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * outFeatures);
        ShapeCheck.Length(op, "gw", gw.Length, (long)outFeatures * inFeatures);
        ShapeCheck.Length(op, "gb", gb.Length, outFeatures);
        if (k.DispatchToHost()) { LinearHost.BackwardParams(n, inFeatures, outFeatures, HostMemory.Span(x), HostMemory.Span(gy), HostMemory.Span(gw), HostMemory.Span(gb)); return; }
        GemmKernels.Multiply(k, outFeatures, inFeatures, n,
            new TransposedOperand<DenseOperand<RowMajor>>(new DenseOperand<RowMajor>(gy, new RowMajor(outFeatures))),
            new DenseOperand<RowMajor>(x, new RowMajor(inFeatures)),
            new DenseOutput<RowMajor>(gw, new RowMajor(inFeatures), OutputMode.Accumulate));
        ChannelKernels.AccumulatePerChannel(k, n, outFeatures, 1, gy, gb);
    }

    static void CheckSizes(string op, int n, int inFeatures, int outFeatures)
    {
        ShapeCheck.Positive(op, "N", n);
        ShapeCheck.Positive(op, "in features", inFeatures);
        ShapeCheck.Positive(op, "out features", outFeatures);
    }
}
