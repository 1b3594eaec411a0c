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
/// parts added in a float32 tree) and are deterministic. Only --sync-bn runs them; unlike the other batch-norm reductions they are not split
/// over several groups per channel, so narrow layers start fewer than two groups per SM.
/// </summary>
internal static class SyncBatchNormIlgpu
{
    /// <summary>(Public only because ILGPU marshals kernel argument types by reflection.) Σgy and Σgy·xhat per channel into Sums [4C]: the two [2,C] sums one after the other.</summary>
    public struct BackwardReduction
    {
        public ArrayView<float> X, Gy, Mean, Invstd, Sums, GGamma, GBeta;
        public ChannelSlices Channel;
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

    // One group per channel (a channel walk of one slice).

    static void ChannelSumsKernel(ArrayView<float> x, ArrayView<float> sums, ChannelSlices channel)
    {
        int ch = Grid.IdxY;
        var sum = new CompensatedSum();
        for (var walk = new ChannelWalk(channel, x.IntLength / (channel.C * channel.Hw)); walk.Valid; walk.Advance())
            sum.Add(x[walk.Index]);
        WriteGroupSum(sum, sums, ch, channel.C);
    }

    static void CentredSquareSumsKernel(ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares, ChannelSlices channel)
    {
        int ch = Grid.IdxY;
        float mu = mean[ch];
        var sum = new CompensatedSum();
        for (var walk = new ChannelWalk(channel, x.IntLength / (channel.C * channel.Hw)); walk.Valid; walk.Advance())
        {
            float d = x[walk.Index] - mu;
            sum.Add(d * d);
        }
        WriteGroupSum(sum, squares, ch, channel.C);
    }

    static void BackwardSumsKernel(BackwardReduction a)
    {
        int ch = Grid.IdxY;
        float mu = a.Mean[ch], inv = a.Invstd[ch];
        var sumGy = new CompensatedSum();
        var sumGyXhat = new CompensatedSum();
        for (var walk = new ChannelWalk(a.Channel, a.X.IntLength / (a.C * a.Hw)); walk.Valid; walk.Advance())
        {
            int i = walk.Index;
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
        var at = Odometer.OfThread(p.Hw, p.C);
        for (int i = GridLoop.Start, end = a.X.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
        {
            int ch = at.D1;
            float inv = p.Invstd[ch];
            float xhat = (a.X[i] - p.Mean[ch]) * inv;
            a.Gx[i] = p.Gamma[ch] * inv * (a.Gy[i] - a.GradientMeans[ch] - xhat * a.GradientMeans[p.C + ch]);
        }
    }

    /// <summary>Each channel as one slice: one group walks it all.</summary>
    static ChannelSlices Whole(int c, int hw, ArrayView<float> x) => new(c, hw, 1, x.IntLength / c);

    internal static void ChannelSums(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> sums)
    {
        var channel = Whole(c, hw, x);
        k.Load<ArrayView<float>, ArrayView<float>, ChannelSlices>(ChannelSumsKernel)(channel.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, 4, 1, 0), x, sums, channel);
    }

    internal static void CentredSquareSums(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares)
    {
        var channel = Whole(c, hw, x);
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelSlices>(CentredSquareSumsKernel)(
            channel.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, 6, 1, 0), x, mean, squares, channel);
    }

    internal static void BackwardSums(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> sums, ArrayView<float> ggamma, ArrayView<float> gbeta)
    {
        var args = new BackwardReduction
        {
            X = x, Gy = gy, Mean = mean, Invstd = invstd, Sums = sums, GGamma = ggamma, GBeta = gbeta, Channel = Whole(c, hw, x), C = c, Hw = hw,
        };
        k.Load<BackwardReduction>(BackwardSumsKernel)(args.Channel.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, 11, 2, 0), args);
    }

    internal static void BackwardApply(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> gradientMeans, ArrayView<float> gx)
    {
        var args = new BackwardApplication
        {
            Affine = new BatchNormIlgpu.ChannelAffine { Mean = mean, Invstd = invstd, Gamma = gamma, C = c, Hw = hw },
            X = x, Gy = gy, GradientMeans = gradientMeans, Gx = gx,
        };
        k.Load<BackwardApplication>(BackwardApplyKernel)(k.GridStride(x.Length), LaunchCost.Elementwise(x.Length, 6, 2, 1), args);
    }
}
