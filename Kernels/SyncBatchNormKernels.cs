using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// The two halves of batch norm's per-channel work when the batch is split over several processes: each process
/// reduces its slice to per-channel sums, the sums are added across processes, and the result is applied to the slice.
/// x, gy, gx are [N,C,H,W] (this process's slice) with HW = H*W; mean, invstd, gamma are [C]; M is the number of values
/// per channel in the whole batch, over all processes. Forward: <see cref="ChannelSums"/> (Σx) and
/// <see cref="CentredSquareSums"/> (Σ(x−mean)²). Backward: <see cref="BackwardSums"/> then <see cref="BackwardApply"/>.
/// Sums are accumulated and exchanged in float64: batch-norm gradients are small differences of large sums, and float32
/// sums taken in another order (per slice, then across processes) would move them by ~1e-4 relative; in float64 the
/// split does not show. Reductions run one group per channel and are deterministic. Host versions: <see cref="SyncBatchNormHost"/>.
/// </summary>
public static class SyncBatchNormKernels
{
    /// <summary>(Public only because ILGPU marshals kernel argument types by reflection.) Σgy and Σgy·xhat per channel into Sums [2C], the first C then the second C.</summary>
    public struct BackwardReduction
    {
        public ArrayView<float> X, Gy, Mean, Invstd, GGamma, GBeta;
        public ArrayView<double> Sums;
        public int C, Hw;
    }

    /// <summary>(Public for ILGPU.) The apply half: the whole batch's sums and count, and the views it reads and writes.</summary>
    public struct BackwardApplication
    {
        public BatchNormKernels.ChannelAffine Affine;
        public ArrayView<float> X, Gy, Gx;
        public ArrayView<double> Sums;
        public double Count;
    }

    /// <summary>Sum over the group's threads (a one-thread group, the CPU accelerator's choice, needs no exchange).</summary>
    static double GroupSum(double value) => Group.DimX == 1 ? value : GroupExtensions.Reduce<double, AddDouble>(value);

    static void ChannelSumsKernel(ArrayView<float> x, ArrayView<double> sums, Index2D channelsAndHw)
    {
        int c = channelsAndHw.X, hw = channelsAndHw.Y;
        int ch = Grid.IdxX;
        int m = x.IntLength / c;
        double partial = 0;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
            partial += x[ChannelKernels.ChannelElement(ch, j, c, hw)];
        double total = GroupSum(partial);
        if (Group.IdxX == 0) sums[ch] = total;
    }

    static void CentredSquareSumsKernel(ArrayView<float> x, ArrayView<float> mean, ArrayView<double> squares, Index2D channelsAndHw)
    {
        int c = channelsAndHw.X, hw = channelsAndHw.Y;
        int ch = Grid.IdxX;
        int m = x.IntLength / c;
        double mu = mean[ch], partial = 0;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            double d = x[ChannelKernels.ChannelElement(ch, j, c, hw)] - mu;
            partial += d * d;
        }
        double total = GroupSum(partial);
        if (Group.IdxX == 0) squares[ch] = total;
    }

    static void BackwardSumsKernel(BackwardReduction a)
    {
        int ch = Grid.IdxX;
        int m = a.X.IntLength / a.C;
        double mu = a.Mean[ch], inv = a.Invstd[ch];
        double sumGy = 0, sumGyXhat = 0;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            int i = ChannelKernels.ChannelElement(ch, j, a.C, a.Hw);
            sumGy += a.Gy[i];
            sumGyXhat += a.Gy[i] * ((a.X[i] - mu) * inv);
        }
        sumGy = GroupSum(sumGy);
        sumGyXhat = GroupSum(sumGyXhat);
        if (Group.IdxX == 0)
        {
            a.Sums[ch] = sumGy;
            a.Sums[a.C + ch] = sumGyXhat;
            // Each process adds its own slice's share; averaging the gradient buffer afterwards adds the shares up.
            a.GGamma[ch] += (float)sumGyXhat;
            a.GBeta[ch] += (float)sumGy;
        }
    }

    static void BackwardApplyKernel(BackwardApplication a)
    {
        var p = a.Affine;
        for (int i = GridLoop.Start, end = a.X.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int ch = i / p.Hw % p.C;
            float inv = p.Invstd[ch];
            float meanGy = (float)(a.Sums[ch] / a.Count), meanGyXhat = (float)(a.Sums[p.C + ch] / a.Count);
            float xhat = (a.X[i] - p.Mean[ch]) * inv;
            a.Gx[i] = p.Gamma[ch] * inv * (a.Gy[i] - meanGy - xhat * meanGyXhat);
        }
    }

    /// <summary>sums[c] = Σ over this slice of x[n,c,hw], in float64: the mean's numerator.</summary>
    public static void ChannelSums(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<double> sums)
    {
        const string op = "sync batch norm channel sums";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "sums", sums.Length, c);
        if (k.DispatchToHost())
        {
            SyncBatchNormHost.ChannelSums(n, c, hw, HostMemory.Span(x), HostMemory.Span(sums));
            return;
        }
        k.Load<ArrayView<float>, ArrayView<double>, Index2D>(ChannelSumsKernel)(GroupPerChannel(k, c), x, sums, new Index2D(c, hw));
    }

    /// <summary>squares[c] = Σ over this slice of (x − mean[c])², in float64, with the whole batch's mean: the variance's numerator.</summary>
    public static void CentredSquareSums(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<double> squares)
    {
        const string op = "sync batch norm centred squares";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "squares", squares.Length, c);
        if (k.DispatchToHost())
        {
            SyncBatchNormHost.CentredSquareSums(n, c, hw, HostMemory.Span(x), HostMemory.Span(mean), HostMemory.Span(squares));
            return;
        }
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<double>, Index2D>(CentredSquareSumsKernel)(GroupPerChannel(k, c), x, mean, squares, new Index2D(c, hw));
    }

    /// <summary>
    /// sums[0..C) = Σgy and sums[C..2C) = Σgy·xhat over this slice, in float64 (xhat with the whole batch's mean and
    /// invstd); the same values, rounded to float, are added to ggamma (Σgy·xhat) and gbeta (Σgy).
    /// </summary>
    public static void BackwardSums(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<double> sums, ArrayView<float> ggamma, ArrayView<float> gbeta)
    {
        const string op = "sync batch norm backward sums";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "sums", sums.Length, 2L * c);
        foreach (var (name, view) in new[] { ("mean", mean), ("invstd", invstd), ("ggamma", ggamma), ("gbeta", gbeta) })
            ShapeCheck.Length(op, name, view.Length, c);
        if (k.DispatchToHost())
        {
            SyncBatchNormHost.BackwardSums(n, c, hw, HostMemory.Span(x), HostMemory.Span(gy), HostMemory.Span(mean), HostMemory.Span(invstd),
                HostMemory.Span(sums), HostMemory.Span(ggamma), HostMemory.Span(gbeta));
            return;
        }
        var args = new BackwardReduction { X = x, Gy = gy, Mean = mean, Invstd = invstd, Sums = sums, GGamma = ggamma, GBeta = gbeta, C = c, Hw = hw };
        k.Load<BackwardReduction>(BackwardSumsKernel)(GroupPerChannel(k, c), args);
    }

    /// <summary>
    /// gx = gamma·invstd·(gy − Σgy/M − xhat·Σ(gy·xhat)/M) (overwritten), with the sums of <see cref="BackwardSums"/>
    /// added over every slice of the batch, and M (<paramref name="count"/>) the batch's values per channel.
    /// </summary>
    public static void BackwardApply(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<double> sums, long count, ArrayView<float> gx)
    {
        const string op = "sync batch norm backward apply";
        CheckImage(op, n, c, hw, x);
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "gx", gx.Length, x.Length);
        ShapeCheck.Length(op, "sums", sums.Length, 2L * c);
        foreach (var (name, view) in new[] { ("mean", mean), ("invstd", invstd), ("gamma", gamma) })
            ShapeCheck.Length(op, name, view.Length, c);
        if (count < (long)n * hw) throw new ArgumentException($"{op}: the batch's count per channel ({count}) cannot be below this slice's ({(long)n * hw})");
        if (k.DispatchToHost())
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

    /// <summary>One group per channel, as <see cref="KernelContext.GroupPerItem"/> but without its float scratch: the float64 group sum brings its own.</summary>
    static KernelConfig GroupPerChannel(KernelContext k, int c) => new(c, k.ReductionGroupSize);

    static void CheckImage(string op, int n, int c, int hw, ArrayView<float> x)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        ShapeCheck.Positive(op, "hw", hw);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
    }
}
