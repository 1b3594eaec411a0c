using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// The per-slice sums of batch norm synchronised over ranks (--sync-bn): each rank reduces its slice of the batch into
/// compensated float32 sums (<see cref="CompensatedSum"/>: high and low parts), the ranks add them in float64, and the
/// backward applies the whole batch's gradient means. x, gy, gx [N,C,HW] (this rank's slice); per-channel views [C].
/// Forms: Kernels/Ilgpu/SyncBatchNormIlgpu.cs, Kernels/Host/SyncBatchNormHost.cs.
/// </summary>
public abstract class SyncBatchNormKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>sums [2,C] = Σ over this slice of x[n,c,hw] (high, low parts): the mean's numerator.</summary>
    public void ChannelSums(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sums)
    {
        const string op = "sync batch norm channel sums";
        BatchNormKernels.CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "sums", sums.Length, 2L * c);
        Enter();
        ChannelSumsCore(n, c, hw, x, sums);
    }

    /// <summary>squares [2,C] = Σ over this slice of (x − mean[c])² (high, low parts), with the whole batch's mean: the variance's numerator.</summary>
    public void CentredSquareSums(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares)
    {
        const string op = "sync batch norm centred squares";
        BatchNormKernels.CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "squares", squares.Length, 2L * c);
        Enter();
        CentredSquareSumsCore(n, c, hw, x, mean, squares);
    }

    /// <summary>
    /// sums [4C] = Σgy [2,C] then Σgy·xhat [2,C] over this slice (high, low parts; xhat with the whole batch's mean and
    /// invstd); the same sums, rounded to float, are added to gbeta (Σgy) and ggamma (Σgy·xhat).
    /// </summary>
    public void BackwardSums(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> sums, ArrayView<float> ggamma, ArrayView<float> gbeta)
    {
        const string op = "sync batch norm backward sums";
        BatchNormKernels.CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "sums", sums.Length, 4L * c);
        foreach (var (name, view) in new[] { ("mean", mean), ("invstd", invstd), ("ggamma", ggamma), ("gbeta", gbeta) })
            ShapeCheck.Length(op, name, view.Length, c);
        Enter();
        BackwardSumsCore(n, c, hw, x, gy, mean, invstd, sums, ggamma, gbeta);
    }

    /// <summary>
    /// gx = gamma·invstd·(gy − mean(gy) − xhat·mean(gy·xhat)) (overwritten), with <paramref name="gradientMeans"/> [2C] the
    /// whole batch's Σgy/M then Σ(gy·xhat)/M, from <see cref="BackwardSums"/> added over every slice.
    /// </summary>
    public void BackwardApply(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> gradientMeans, ArrayView<float> gx)
    {
        const string op = "sync batch norm backward apply";
        BatchNormKernels.CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "gx", gx.Length, x.Length);
        ShapeCheck.Length(op, "gradientMeans", gradientMeans.Length, 2L * c);
        foreach (var (name, view) in new[] { ("mean", mean), ("invstd", invstd), ("gamma", gamma) })
            ShapeCheck.Length(op, name, view.Length, c);
        Enter();
        BackwardApplyCore(n, c, hw, x, gy, mean, invstd, gamma, gradientMeans, gx);
    }

    /// <summary>The backend's form of <see cref="ChannelSums"/>: arguments already checked.</summary>
    protected abstract void ChannelSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sums);

    /// <summary>The backend's form of <see cref="CentredSquareSums"/>: arguments already checked.</summary>
    protected abstract void CentredSquareSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares);

    /// <summary>The backend's form of <see cref="BackwardSums"/>: arguments already checked.</summary>
    protected abstract void BackwardSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> sums, ArrayView<float> ggamma, ArrayView<float> gbeta);

    /// <summary>The backend's form of <see cref="BackwardApply"/>: arguments already checked.</summary>
    protected abstract void BackwardApplyCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> gradientMeans, ArrayView<float> gx);
}
