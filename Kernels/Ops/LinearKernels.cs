using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Fully connected layer as nn.Linear: x [N, in], w [out, in], b [out], y [N, out]; y = x·wᵀ + b. The backward needs x
/// and w. Activation gradients are written (=), parameter gradients accumulated (+=). Forms: Kernels/Ilgpu/LinearIlgpu.cs
/// (the one GEMM with transposes read in place), Kernels/Host/LinearHost.cs.
/// </summary>
public abstract class LinearKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>y = x·wᵀ + b; y is overwritten.</summary>
    public void Forward(int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y)
    {
        const string op = "linear forward";
        CheckSizes(op, n, inFeatures, outFeatures);
        ShapeCheck.Length(op, "x", x.Length, (long)n * inFeatures);
        ShapeCheck.Length(op, "w", w.Length, (long)outFeatures * inFeatures);
        ShapeCheck.Length(op, "b", b.Length, outFeatures);
        ShapeCheck.Length(op, "y", y.Length, (long)n * outFeatures);
        Enter();
        ForwardCore(n, inFeatures, outFeatures, x, w, b, y);
    }

    /// <summary>gx = gy·w; gx is overwritten.</summary>
    public void BackwardInput(int n, int inFeatures, int outFeatures, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx)
    {
        const string op = "linear backward input";
        CheckSizes(op, n, inFeatures, outFeatures);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * outFeatures);
        ShapeCheck.Length(op, "w", w.Length, (long)outFeatures * inFeatures);
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * inFeatures);
        Enter();
        BackwardInputCore(n, inFeatures, outFeatures, gy, w, gx);
    }

    /// <summary>gw += gyᵀ·x and gb += Σₙ gy[n, ·].</summary>
    public void BackwardParams(int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, ArrayView<float> gb)
    {
        const string op = "linear backward params";
        CheckSizes(op, n, inFeatures, outFeatures);
        ShapeCheck.Length(op, "x", x.Length, (long)n * inFeatures);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * outFeatures);
        ShapeCheck.Length(op, "gw", gw.Length, (long)outFeatures * inFeatures);
        ShapeCheck.Length(op, "gb", gb.Length, outFeatures);
        Enter();
        BackwardParamsCore(n, inFeatures, outFeatures, x, gy, gw, gb);
    }

    /// <summary>The backend's form of <see cref="Forward"/>: arguments already checked.</summary>
    protected abstract void ForwardCore(int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y);

    /// <summary>The backend's form of <see cref="BackwardInput"/>: arguments already checked.</summary>
    protected abstract void BackwardInputCore(int n, int inFeatures, int outFeatures, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx);

    /// <summary>The backend's form of <see cref="BackwardParams"/>: arguments already checked.</summary>
    protected abstract void BackwardParamsCore(int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, ArrayView<float> gb);

    static void CheckSizes(string op, int n, int inFeatures, int outFeatures)
    {
        ShapeCheck.Positive(op, "N", n);
        ShapeCheck.Positive(op, "in features", inFeatures);
        ShapeCheck.Positive(op, "out features", outFeatures);
    }
}
