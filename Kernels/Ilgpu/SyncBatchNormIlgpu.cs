using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="SyncBatchNormKernels"/>: the two halves of batch norm's per-channel work when the batch is split over several processes: each process
/// reduces its slice to per-channel sums, the sums are added across processes (on the host, in float64), and the result
/// is applied to the slice. x, gy, gx are [N,C,H,W] (this process's slice) with HW = H*W; mean, invstd, gamma are [C].
/// Forward: <see cref="ChannelSums"/> (Σx) and <see cref="CentredSquareSums"/> (Σ(x−mean)²). Backward:
/// <see cref="BackwardSums"/> (Σgy, Σgy·xhat), then <see cref="BackwardApply"/> with their means over the whole batch.
/// Sums are compensated (<see cref="CompensatedSum"/>; written as [2,C]: high parts, then low parts): batch-norm
/// gradients are small differences of large sums, and plain float32 sums taken per slice and then added would move them
/// by ~1e-4 relative against one process's. Reductions run one group per channel (each thread compensated, the group's
/// parts added in a float32 tree) and are deterministic.
/// </summary>
public static class SyncBatchNormIlgpu
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
        public BatchNormIlgpu.ChannelAffine Affine;
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
            sum.Add(x[ChannelIlgpu.ChannelElement(ch, j, c, hw)]);
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
            float d = x[ChannelIlgpu.ChannelElement(ch, j, c, hw)] - mu;
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
            int i = ChannelIlgpu.ChannelElement(ch, j, a.C, a.Hw);
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

    internal static void ChannelSums(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> sums) =>
        k.Load<ArrayView<float>, ArrayView<float>, Index2D>(ChannelSumsKernel)(k.GroupPerItem(c), x, sums, new Index2D(c, hw));

    internal static void CentredSquareSums(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares) =>
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, Index2D>(CentredSquareSumsKernel)(k.GroupPerItem(c), x, mean, squares, new Index2D(c, hw));

    internal static void BackwardSums(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> sums, ArrayView<float> ggamma, ArrayView<float> gbeta)
    {
        var args = new BackwardReduction { X = x, Gy = gy, Mean = mean, Invstd = invstd, Sums = sums, GGamma = ggamma, GBeta = gbeta, C = c, Hw = hw };
        k.Load<BackwardReduction>(BackwardSumsKernel)(k.GroupPerItem(c), args);
    }

    internal static void BackwardApply(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> gradientMeans, ArrayView<float> gx)
    {
        var args = new BackwardApplication
        {
            Affine = new BatchNormIlgpu.ChannelAffine { Mean = mean, Invstd = invstd, Gamma = gamma, C = c, Hw = hw },
            X = x, Gy = gy, GradientMeans = gradientMeans, Gx = gx,
        };
        k.Load<BackwardApplication>(BackwardApplyKernel)(k.GridStride(x.Length), args);
    }
}
