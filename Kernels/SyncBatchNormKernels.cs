using ILGPU;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// The two halves of batch norm's per-channel work when the batch is split over several processes: each process
/// reduces its slice to per-channel sums, the sums are added across processes, and the result is applied to the slice.
/// x, gy, gx are [N,C,H,W] (this process's slice) with HW = H*W; mean, invstd, gamma are [C]; M is the number of values
/// per channel in the whole batch, over all processes. Forward: <see cref="CentredSquareSums"/> gives Σ(x−mean)² for the
/// variance (the mean's Σx is <see cref="ChannelKernels.SumPerChannel"/>). Backward: <see cref="BackwardSums"/> then
/// <see cref="BackwardApply"/>, which together equal <see cref="BatchNormKernels.Backward"/> when M is the slice's own.
/// Reductions run one group per channel and are deterministic. Host versions: <see cref="SyncBatchNormHost"/>.
/// </summary>
public static class SyncBatchNormKernels
{
    /// <summary>(Public only because ILGPU marshals kernel argument types by reflection.) Σgy and Σgy·xhat per channel: [2C], the first C then the second C.</summary>
    public struct BackwardReduction
    {
        public ArrayView<float> X, Gy, Mean, Invstd, Sums, GGamma, GBeta;
        public int C, Hw;
    }

    /// <summary>(Public for ILGPU.) The apply half: the whole batch's sums and count, and the views it reads and writes.</summary>
    public struct BackwardApplication
    {
        public BatchNormKernels.ChannelAffine Affine;
        public ArrayView<float> X, Gy, Sums, Gx;
        /// <summary>M as a float, divided by as <see cref="BatchNormKernels.Backward"/> divides by its int M (the same rounding).</summary>
        public float Count;
    }

    static void CentredSquareSumsKernel(ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares, Index2D channelsAndHw)
    {
        int c = channelsAndHw.X, hw = channelsAndHw.Y;
        int ch = Grid.IdxX;
        int m = x.IntLength / c;
        float mu = mean[ch], partial = 0f;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            float d = x[ChannelKernels.ChannelElement(ch, j, c, hw)] - mu;
            partial += d * d;
        }
        float total = GroupReduction.Sum(partial);
        if (Group.IdxX == 0) squares[ch] = total;
    }

    static void BackwardSumsKernel(BackwardReduction a)
    {
        int ch = Grid.IdxX;
        int m = a.X.IntLength / a.C;
        float mu = a.Mean[ch], inv = a.Invstd[ch];
        float sumGy = 0f, sumGyXhat = 0f;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            int i = ChannelKernels.ChannelElement(ch, j, a.C, a.Hw);
            sumGy += a.Gy[i];
            sumGyXhat += a.Gy[i] * (a.X[i] - mu) * inv;
        }
        sumGy = GroupReduction.Sum(sumGy);
        sumGyXhat = GroupReduction.Sum(sumGyXhat);
        if (Group.IdxX == 0)
        {
            a.Sums[ch] = sumGy;
            a.Sums[a.C + ch] = sumGyXhat;
            // Each process adds its own slice's share; averaging the gradient buffer afterwards adds the shares up.
            a.GGamma[ch] += sumGyXhat;
            a.GBeta[ch] += sumGy;
        }
    }

    static void BackwardApplyKernel(BackwardApplication a)
    {
        var p = a.Affine;
        for (int i = GridLoop.Start, end = a.X.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int ch = i / p.Hw % p.C;
            float inv = p.Invstd[ch];
            float meanGy = a.Sums[ch] / a.Count, meanGyXhat = a.Sums[p.C + ch] / a.Count;
            float xhat = (a.X[i] - p.Mean[ch]) * inv;
            a.Gx[i] = p.Gamma[ch] * inv * (a.Gy[i] - meanGy - xhat * meanGyXhat);
        }
    }

    /// <summary>squares[c] = Σ over this slice of (x − mean[c])², with the whole batch's mean: the variance's numerator.</summary>
    public static void CentredSquareSums(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares)
    {
        const string op = "sync batch norm centred squares";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "squares", squares.Length, c);
        if (k.IsHost)
        {
            SyncBatchNormHost.CentredSquareSums(n, c, hw, HostMemory.Span(x), HostMemory.Span(mean), HostMemory.Span(squares));
            return;
        }
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, Index2D>(CentredSquareSumsKernel)(k.GroupPerItem(c), x, mean, squares, new Index2D(c, hw));
    }

    /// <summary>
    /// sums[0..C) = Σgy and sums[C..2C) = Σgy·xhat over this slice (xhat with the whole batch's mean and invstd);
    /// the same values are added to ggamma (Σgy·xhat) and gbeta (Σgy).
    /// </summary>
    public static void BackwardSums(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> sums, ArrayView<float> ggamma, ArrayView<float> gbeta)
    {
        const string op = "sync batch norm backward sums";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "sums", sums.Length, 2L * c);
        foreach (var (name, view) in new[] { ("mean", mean), ("invstd", invstd), ("ggamma", ggamma), ("gbeta", gbeta) })
            ShapeCheck.Length(op, name, view.Length, c);
        if (k.IsHost)
        {
            SyncBatchNormHost.BackwardSums(n, c, hw, HostMemory.Span(x), HostMemory.Span(gy), HostMemory.Span(mean), HostMemory.Span(invstd),
                HostMemory.Span(sums), HostMemory.Span(ggamma), HostMemory.Span(gbeta));
            return;
        }
        var args = new BackwardReduction { X = x, Gy = gy, Mean = mean, Invstd = invstd, Sums = sums, GGamma = ggamma, GBeta = gbeta, C = c, Hw = hw };
        k.Load<BackwardReduction>(BackwardSumsKernel)(k.GroupPerItem(c), args);
    }

    /// <summary>
    /// gx = gamma·invstd·(gy − Σgy/M − xhat·Σ(gy·xhat)/M) (overwritten), with the sums of <see cref="BackwardSums"/>
    /// added over every slice of the batch, and M (<paramref name="count"/>) the batch's values per channel.
    /// </summary>
    public static void BackwardApply(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> sums, long count, ArrayView<float> gx)
    {
        const string op = "sync batch norm backward apply";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "gx", gx.Length, x.Length);
        ShapeCheck.Length(op, "sums", sums.Length, 2L * c);
        foreach (var (name, view) in new[] { ("mean", mean), ("invstd", invstd), ("gamma", gamma) })
            ShapeCheck.Length(op, name, view.Length, c);
        if (count < (long)n * hw) throw new ArgumentException($"{op}: the batch's count per channel ({count}) cannot be below this slice's ({(long)n * hw})");
        if (k.IsHost)
        {
            SyncBatchNormHost.BackwardApply(n, c, hw, HostMemory.Span(x), HostMemory.Span(gy), HostMemory.Span(mean), HostMemory.Span(invstd),
                HostMemory.Span(gamma), HostMemory.Span(sums), count, HostMemory.Span(gx));
            return;
        }
        var args = new BackwardApplication
        {
            Affine = new BatchNormKernels.ChannelAffine { Mean = mean, Invstd = invstd, Gamma = gamma, C = c, Hw = hw },
            X = x, Gy = gy, Sums = sums, Gx = gx, Count = count,
        };
        k.Load<BackwardApplication>(BackwardApplyKernel)(k.GridStride(x.Length), args);
    }

    static void CheckImage(string op, int n, int c, int hw, ArrayView<float> x)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        ShapeCheck.Positive(op, "hw", hw);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
    }
}
