using ILGPU;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// The two halves of batch norm's per-channel work when the batch is split over several processes: each process
/// reduces its slice to per-channel sums, the sums are added across processes (on the host, in float64), and the result
/// is applied to the slice. x, gy, gx are [N,C,H,W] (this process's slice) with HW = H*W; mean, invstd, gamma are [C].
/// Forward: <see cref="ChannelSums"/> (Σx) and <see cref="CentredSquareSums"/> (Σ(x−mean)²). Backward:
/// <see cref="BackwardSums"/> (Σgy, Σgy·xhat), then <see cref="BackwardApply"/> with their means over the whole batch.
/// Sums are compensated (<see cref="CompensatedSum"/>; written as [2,C]: high parts, then low parts): batch-norm
/// gradients are small differences of large sums, and plain float32 sums taken per slice and then added would move them
/// by ~1e-4 relative against one process's. Reductions run one group per channel (each thread compensated, the group's
/// parts added in a float32 tree) and are deterministic. Host versions: <see cref="SyncBatchNormHost"/>.
/// </summary>
public static class SyncBatchNormKernels
{
    /// <summary>(Public only because ILGPU marshals kernel argument types by reflection.) Σgy and Σgy·xhat per channel into Sums [4C]: the two [2,C] sums one after the other.</summary>
    public struct BackwardReduction
    {
        public ArrayView<float> X, Gy, Mean, Invstd, Sums, GGamma, GBeta;
        public int C, Hw;
    }

    /// <summary>(Public for ILGPU.) The apply half: the whole batch's mean of gy and of gy·xhat ([2C]), and the views it reads and writes.</summary>
    public struct BackwardApplication
    {
        public BatchNormKernels.ChannelAffine Affine;
        public ArrayView<float> X, Gy, GradientMeans, Gx;
    }

    /// <summary>Adds the group's threads' sums; thread 0 writes high and low parts to sums[at] and sums[at + c].</summary>
    static void WriteGroupSum(CompensatedSum sum, ArrayView<float> sums, int at, int c)
    {
        float high = GroupReduction.Sum(sum.High);
        float low = GroupReduction.Sum(sum.Low);
        if (Group.IdxX == 0)
        {
            sums[at] = high;
            sums[at + c] = low;
        }
    }

    static void ChannelSumsKernel(ArrayView<float> x, ArrayView<float> sums, Index2D channelsAndHw)
    {
        int c = channelsAndHw.X, hw = channelsAndHw.Y;
        int ch = Grid.IdxX;
        int m = x.IntLength / c;
        var sum = new CompensatedSum();
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
            sum.Add(x[ChannelKernels.ChannelElement(ch, j, c, hw)]);
        WriteGroupSum(sum, sums, ch, c);
    }

    static void CentredSquareSumsKernel(ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares, Index2D channelsAndHw)
    {
        int c = channelsAndHw.X, hw = channelsAndHw.Y;
        int ch = Grid.IdxX;
        int m = x.IntLength / c;
        float mu = mean[ch];
        var sum = new CompensatedSum();
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            float d = x[ChannelKernels.ChannelElement(ch, j, c, hw)] - mu;
            sum.Add(d * d);
        }
        WriteGroupSum(sum, squares, ch, c);
    }

    static void BackwardSumsKernel(BackwardReduction a)
    {
        int ch = Grid.IdxX;
        int m = a.X.IntLength / a.C;
        float mu = a.Mean[ch], inv = a.Invstd[ch];
        var sumGy = new CompensatedSum();
        var sumGyXhat = new CompensatedSum();
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            int i = ChannelKernels.ChannelElement(ch, j, a.C, a.Hw);
            sumGy.Add(a.Gy[i]);
            sumGyXhat.Add(a.Gy[i] * ((a.X[i] - mu) * inv));
        }
        WriteGroupSum(sumGy, a.Sums, ch, a.C);
        WriteGroupSum(sumGyXhat, a.Sums, 2 * a.C + ch, a.C);
        if (Group.IdxX == 0)
        {
            // Each process adds its own slice's share; averaging the gradient buffer afterwards adds the shares up.
            a.GGamma[ch] += a.Sums[2 * a.C + ch] + a.Sums[3 * a.C + ch];
            a.GBeta[ch] += a.Sums[ch] + a.Sums[a.C + ch];
        }
    }

    static void BackwardApplyKernel(BackwardApplication a)
    {
        var p = a.Affine;
        for (int i = GridLoop.Start, end = a.X.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int ch = i / p.Hw % p.C;
            float inv = p.Invstd[ch];
            float xhat = (a.X[i] - p.Mean[ch]) * inv;
            a.Gx[i] = p.Gamma[ch] * inv * (a.Gy[i] - a.GradientMeans[ch] - xhat * a.GradientMeans[p.C + ch]);
        }
    }

    /// <summary>sums [2,C] = Σ over this slice of x[n,c,hw] (high, low parts): the mean's numerator.</summary>
    public static void ChannelSums(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> sums)
    {
        const string op = "sync batch norm channel sums";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "sums", sums.Length, 2L * c);
        if (k.DispatchToHost())
        {
            SyncBatchNormHost.ChannelSums(n, c, hw, HostMemory.Span(x), HostMemory.Span(sums));
            return;
        }
        k.Load<ArrayView<float>, ArrayView<float>, Index2D>(ChannelSumsKernel)(k.GroupPerItem(c), x, sums, new Index2D(c, hw));
    }

    /// <summary>squares [2,C] = Σ over this slice of (x − mean[c])² (high, low parts), with the whole batch's mean: the variance's numerator.</summary>
    public static void CentredSquareSums(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares)
    {
        const string op = "sync batch norm centred squares";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "squares", squares.Length, 2L * c);
        if (k.DispatchToHost())
        {
            SyncBatchNormHost.CentredSquareSums(n, c, hw, HostMemory.Span(x), HostMemory.Span(mean), HostMemory.Span(squares));
            return;
        }
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, Index2D>(CentredSquareSumsKernel)(k.GroupPerItem(c), x, mean, squares, new Index2D(c, hw));
    }

    /// <summary>
    /// sums [4C] = Σgy [2,C] then Σgy·xhat [2,C] over this slice (high, low parts; xhat with the whole batch's mean and
    /// invstd); the same sums, rounded to float, are added to gbeta (Σgy) and ggamma (Σgy·xhat).
    /// </summary>
    public static void BackwardSums(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> sums, ArrayView<float> ggamma, ArrayView<float> gbeta)
    {
        const string op = "sync batch norm backward sums";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "sums", sums.Length, 4L * c);
        foreach (var (name, view) in new[] { ("mean", mean), ("invstd", invstd), ("ggamma", ggamma), ("gbeta", gbeta) })
            ShapeCheck.Length(op, name, view.Length, c);
        if (k.DispatchToHost())
        {
            SyncBatchNormHost.BackwardSums(n, c, hw, HostMemory.Span(x), HostMemory.Span(gy), HostMemory.Span(mean), HostMemory.Span(invstd),
                HostMemory.Span(sums), HostMemory.Span(ggamma), HostMemory.Span(gbeta));
            return;
        }
        var args = new BackwardReduction { X = x, Gy = gy, Mean = mean, Invstd = invstd, Sums = sums, GGamma = ggamma, GBeta = gbeta, C = c, Hw = hw };
        k.Load<BackwardReduction>(BackwardSumsKernel)(k.GroupPerItem(c), args);
    }

    /// <summary>
    /// gx = gamma·invstd·(gy − mean(gy) − xhat·mean(gy·xhat)) (overwritten), with <paramref name="gradientMeans"/> [2C] the
    /// whole batch's Σgy/M then Σ(gy·xhat)/M, from <see cref="BackwardSums"/> added over every slice.
    /// </summary>
    public static void BackwardApply(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> gradientMeans, ArrayView<float> gx)
    {
        const string op = "sync batch norm backward apply";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "gx", gx.Length, x.Length);
        ShapeCheck.Length(op, "gradientMeans", gradientMeans.Length, 2L * c);
        foreach (var (name, view) in new[] { ("mean", mean), ("invstd", invstd), ("gamma", gamma) })
            ShapeCheck.Length(op, name, view.Length, c);
        if (k.DispatchToHost())
        {
            SyncBatchNormHost.BackwardApply(n, c, hw, HostMemory.Span(x), HostMemory.Span(gy), HostMemory.Span(mean), HostMemory.Span(invstd),
                HostMemory.Span(gamma), HostMemory.Span(gradientMeans), HostMemory.Span(gx));
            return;
        }
        var args = new BackwardApplication
        {
            Affine = new BatchNormKernels.ChannelAffine { Mean = mean, Invstd = invstd, Gamma = gamma, C = c, Hw = hw },
            X = x, Gy = gy, GradientMeans = gradientMeans, Gx = gx,
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
