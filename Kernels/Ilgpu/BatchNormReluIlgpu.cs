using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="BatchNormReluKernels"/>: a = max(0, gamma*(x-mean)*invstd + beta) over x [N,C,H,W] with
/// HW = H*W and per-channel gamma, beta, mean, invstd [C]; M = N*H*W values per channel. Backward reads only x and the statistics:
/// it recomputes the pre-activation z = gamma*xhat + beta to mask the incoming gradient (ga where z &gt; 0), so a caller
/// needs to keep neither the normalised nor the activated tensor, and never divides by gamma (no reconstruction of x
/// from the output, hence safe for any gamma including 0). The backward's sums run several groups per channel
/// (<see cref="ChannelSlices"/>, enough for two groups per SM) and combine in slice order, so they are deterministic;
/// when one group holds a whole channel (the CPU accelerator) sums and gradient are one launch, else two. gx may be the
/// same view as ga (each element is read before it is overwritten).
/// </summary>
internal static class BatchNormReluIlgpu
{
    /// <summary>(Kernel argument types are public: ILGPU marshals them by reflection.) Per-channel affine parameters and statistics.</summary>
    public struct Affine
    {
        public ArrayView<float> Mean, Invstd, Gamma, Beta;
        public int C, Hw;
    }

    /// <summary>
    /// Backward arguments; <c>BatchStats</c> is 1 in training mode (statistics depend on x), 0 with fixed statistics.
    /// <c>Partials</c>: Σgz and Σgz·xhat of each (channel, slice), [C, Slices, 2], when a channel has several slices.
    /// </summary>
    public struct BackwardArgs
    {
        public Affine Affine;
        public ArrayView<float> X, Ga, Gx, GGamma, GBeta, Partials;
        public ChannelSlices Slices;
        public int N, BatchStats;
    }

    /// <summary>
    /// The ReLU's gradient mask as a factor: 1 where the pre-activation is positive, else 0, with the pre-activation computed
    /// exactly as the forward does (same operations in the same order), so the mask is the forward's bit for bit.
    /// </summary>
    public static float Active(float x, float mean, float invstd, float gamma, float beta) => gamma * (x - mean) * invstd + beta > 0f ? 1f : 0f;

    static void ForwardKernel(Affine p, ArrayView<float> x, ArrayView<float> a)
    {
        var at = Odometer.OfThread(p.Hw, p.C);
        for (int i = GridLoop.Start, end = x.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
        {
            int ch = at.D1;
            a[i] = IntrinsicMath.Max(p.Gamma[ch] * (x[i] - p.Mean[ch]) * p.Invstd[ch] + p.Beta[ch], 0f);
        }
    }

    /// <summary>Group (slice, channel): Σgz and Σgz·xhat over its slice of the channel.</summary>
    static (float Gz, float GzXhat) SliceSums(BackwardArgs a)
    {
        var p = a.Affine;
        int ch = Grid.IdxY;
        float mu = p.Mean[ch], inv = p.Invstd[ch], gamma = p.Gamma[ch], beta = p.Beta[ch];
        float sumGz = 0f, sumGzXhat = 0f;
        for (var walk = new ChannelWalk(a.Slices, a.N); walk.Valid; walk.Advance())
        {
            int i = walk.Index;
            float gz = a.Ga[i] * Active(a.X[i], mu, inv, gamma, beta);
            sumGz += gz;
            sumGzXhat += gz * (a.X[i] - mu) * inv; // grouped as batch norm's own backward groups it: the same sums, bit for bit
        }
        return (GroupReduction.Sum(sumGz), GroupReduction.Sum(sumGzXhat));
    }

    /// <summary>Group (slice, channel) of a channel cut into several slices: its slice's sums, stored as the slice's partials.</summary>
    static void BackwardSumsKernel(BackwardArgs a)
    {
        var (gz, gzXhat) = SliceSums(a);
        a.Slices.StorePairPartials(a.Partials, gz, gzXhat);
    }

    /// <summary>
    /// Group (slice, channel): the channel's sums (its own, when it holds the whole channel; else the partials added in
    /// slice order, by every group alike), then gx over the slice; slice 0 adds the sums to ggamma and gbeta.
    /// </summary>
    static void BackwardKernel(BackwardArgs a)
    {
        var p = a.Affine;
        int ch = Grid.IdxY;
        float sumGz, sumGzXhat;
        if (a.Slices.Slices == 1) (sumGz, sumGzXhat) = SliceSums(a);
        else (sumGz, sumGzXhat) = a.Slices.PairTotals(a.Partials);
        if (Group.IdxX == 0 && Grid.IdxX == 0)
        {
            a.GGamma[ch] += sumGzXhat;
            a.GBeta[ch] += sumGz;
        }
        int m = a.Slices.M(a.N);
        float meanGz = a.BatchStats != 0 ? sumGz / m : 0f;
        float meanGzXhat = a.BatchStats != 0 ? sumGzXhat / m : 0f;
        float mu = p.Mean[ch], inv = p.Invstd[ch], gamma = p.Gamma[ch], beta = p.Beta[ch];
        float scale = gamma * inv;
        for (var walk = new ChannelWalk(a.Slices, a.N); walk.Valid; walk.Advance())
        {
            int i = walk.Index;
            float xhat = (a.X[i] - mu) * inv;
            float gz = a.Ga[i] * Active(a.X[i], mu, inv, gamma, beta);
            a.Gx[i] = scale * (gz - meanGz - xhat * meanGzXhat);
        }
    }

    internal static void Forward(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> a)
    {
        var p = new Affine { Mean = mean, Invstd = invstd, Gamma = gamma, Beta = beta, C = c, Hw = hw };
        k.Load<Affine, ArrayView<float>, ArrayView<float>>(ForwardKernel)(k.GridStride(x.Length), LaunchCost.Elementwise(x.Length, 5, 1, 1), p, x, a);
    }

    internal static void Backward(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> ga, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta,
        bool batchStatistics)
    {
        var slices = ChannelSlices.For(k, n, c, hw);
        var args = new BackwardArgs
        {
            Affine = new Affine { Mean = mean, Invstd = invstd, Gamma = gamma, Beta = beta, C = c, Hw = hw },
            X = x, Ga = ga, Gx = gx, GGamma = ggamma, GBeta = gbeta, BatchStats = batchStatistics ? 1 : 0,
            Slices = slices, N = n,
        };
        if (slices.Slices > 1)
        {
            args.Partials = k.Scratch((long)c * slices.Slices * 2);
            k.Load<BackwardArgs>(BackwardSumsKernel)(slices.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, 9, 2, 0), args);
        }
        // One slice per channel: the kernel sums its channel itself, reading x and ga twice.
        int reads = slices.Slices > 1 ? 2 : 4;
        k.Load<BackwardArgs>(BackwardKernel)(slices.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, slices.Slices > 1 ? 11 : 20, reads, 1), args);
    }
}
