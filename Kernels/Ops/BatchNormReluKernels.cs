using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// relu(batchnorm(x)) fused: forward in one pass, backward from x alone (the ReLU's mask is recomputed from x, so neither
/// the normalised nor the activated tensor is kept, and no division by gamma is needed). Shapes as in
/// <see cref="BatchNormKernels"/>. Forms: Kernels/Ilgpu/BatchNormReluIlgpu.cs, Kernels/Host/BatchNormHost.cs
/// (NormalizeRelu, BackwardRelu).
/// </summary>
public abstract class BatchNormReluKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>a = max(0, gamma*(x-mean)*invstd + beta) with the given statistics. a may be x.</summary>
    public void Forward(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> a)
    {
        const string op = "batch norm relu";
        Check(op, n, c, hw, x, mean, invstd, gamma, beta);
        ShapeCheck.Length(op, "a", a.Length, x.Length);
        Enter();
        ForwardCore(n, c, hw, x, mean, invstd, gamma, beta, a);
    }

    /// <summary>
    /// From x and ga = dL/da: gz = ga where gamma*xhat+beta &gt; 0 else 0; then batch norm's backward on gz:
    /// gx = gamma*invstd*(gz - mean(gz) - xhat*mean(gz*xhat)) with batch statistics, gx = gamma*invstd*gz without (overwritten;
    /// may be ga itself); ggamma += Σ gz*xhat; gbeta += Σ gz.
    /// </summary>
    public void Backward(int n, int c, int hw, ArrayView<float> x, ArrayView<float> ga, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics)
    {
        const string op = "batch norm relu backward";
        Check(op, n, c, hw, x, mean, invstd, gamma, beta);
        ShapeCheck.Length(op, "ga", ga.Length, x.Length);
        ShapeCheck.Length(op, "gx", gx.Length, x.Length);
        ShapeCheck.Length(op, "ggamma", ggamma.Length, c);
        ShapeCheck.Length(op, "gbeta", gbeta.Length, c);
        Enter();
        BackwardCore(n, c, hw, x, ga, mean, invstd, gamma, beta, gx, ggamma, gbeta, batchStatistics);
    }

    /// <summary>The backend's form of <see cref="Forward"/>: arguments already checked.</summary>
    protected abstract void ForwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> a);

    /// <summary>The backend's form of <see cref="Backward"/>: arguments already checked.</summary>
    protected abstract void BackwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> ga, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics);

    static void Check(string op, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta)
    {
        BatchNormKernels.CheckImage(op, n, c, hw, x, "x");
        BatchNormKernels.CheckChannels(op, c, mean, invstd, gamma);
        ShapeCheck.Length(op, "beta", beta.Length, c);
    }
}
