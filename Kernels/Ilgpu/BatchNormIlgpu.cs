using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="BatchNormKernels"/> (shapes and formulas there). The reductions (statistics, backward sums) run several groups per channel (<see cref="ChannelSlices"/>) and combine
/// the groups' partial sums in a fixed order, so they are deterministic. The statistics are one launch: each group takes
/// its slice's deviations from the slice mean (two walks over the slice, the second from cache), and the slices are
/// merged exactly (Chan et al.'s formula with the deviations' sum), which stays accurate when the mean is large against
/// the spread.
/// </summary>
internal static class BatchNormIlgpu
{
    /// <summary>(Kernel argument types are public: ILGPU marshals them by reflection.) Per-channel affine parameters and saved statistics, with the shape, as one kernel argument.</summary>
    public struct ChannelAffine
    {
        public ArrayView<float> Mean, Invstd, Gamma;
        public int C, Hw;
    }

    /// <summary>
    /// Backward arguments; <c>BatchStats</c> is 1 when mean and invstd are batch statistics that depend on x (training mode), else 0
    /// (an int: OpenCL kernels cannot take bool arguments).
    /// </summary>
    public struct BackwardArgs
    {
        public ChannelAffine Affine;
        public ArrayView<float> X, Gy, Gx, GGamma, GBeta;
        public int BatchStats;

        /// <summary>Σgy and Σgy·xhat of each (channel, slice): [C, Slices, 2].</summary>
        public ArrayView<float> Partials;
        public ChannelSlices Slices;
        public int N;
    }

    /// <summary>
    /// Statistics arguments: each slice's partials [C, Slices, <see cref="PartialsPerSlice"/>] and one arrival counter per channel; the running
    /// statistics are updated too when <c>RunningMean</c> is non-empty (<c>Unbias</c> = M/(M-1)).
    /// </summary>
    public struct StatsArgs
    {
        public ArrayView<float> X, Mean, Invstd, Partials, RunningMean, RunningVar;
        public ArrayView<int> Arrived;
        public ChannelSlices Slices;
        public int N;
        public float Eps, Momentum, Unbias;
    }

    /// <summary>
    /// Group (slice, channel) takes the sum of its slice, then (a second walk, which the first left in cache) the
    /// deviations from the slice's float mean c and their squares, and stores the three; the last group of a channel to
    /// finish (an atomic arrival count) merges the slices in slice order, Σ(x − μ)² = Σ over slices of
    /// Σ(x − c)² + 2(c − μ)·Σ(x − c) + n(c − μ)², and writes mean, invstd and, when asked, the running statistics.
    /// With one slice c = μ and this is exactly the two-pass mean and variance.
    /// </summary>
    static void BatchStatsKernel(StatsArgs a)
    {
        var s = a.Slices;
        int ch = Grid.IdxY, slice = Grid.IdxX;
        float sum = 0f;
        for (var walk = new ChannelWalk(s, a.N); walk.Valid; walk.Advance())
            sum += a.X[walk.Index];
        sum = GroupReduction.Sum(sum);
        float center = sum / s.Count(a.N, slice);
        float deviations = 0f, squares = 0f;
        for (var walk = new ChannelWalk(s, a.N); walk.Valid; walk.Advance())
        {
            float d = a.X[walk.Index] - center;
            deviations += d;
            squares += d * d;
        }
        deviations = GroupReduction.Sum(deviations);
        squares = GroupReduction.Sum(squares);
        var isLast = SharedMemory.Allocate<int>(1);
        if (Group.IdxX == 0)
        {
            int at = (ch * s.Slices + slice) * PartialsPerSlice;
            a.Partials[at] = sum;
            a.Partials[at + 1] = deviations;
            a.Partials[at + 2] = squares;
            // Publish the partials before counting this group as arrived.
            MemoryFence.DeviceLevel();
            isLast[0] = Atomic.Add(ref a.Arrived[ch], 1) == s.Slices - 1 ? 1 : 0;
        }
        Group.Barrier();
        if (Group.IdxX != 0 || isLast[0] == 0) return;
        MemoryFence.DeviceLevel();
        a.Arrived[ch] = 0;
        int m = s.M(a.N), first = ch * s.Slices * PartialsPerSlice;
        float total = 0f;
        for (int i = 0, at = first; i < s.Slices; i++, at += PartialsPerSlice)
            total += a.Partials[at];
        float mu = total / m;
        float spread = 0f;
        for (int i = 0, at = first; i < s.Slices; i++, at += PartialsPerSlice)
        {
            int count = s.Count(a.N, i);
            float offset = a.Partials[at] / count - mu;
            spread += a.Partials[at + 2] + 2f * offset * a.Partials[at + 1] + count * offset * offset;
        }
        float variance = spread / m;
        a.Mean[ch] = mu;
        a.Invstd[ch] = XMath.Rsqrt(variance + a.Eps);
        if (a.RunningMean.Length > 0)
        {
            a.RunningMean[ch] = (1f - a.Momentum) * a.RunningMean[ch] + a.Momentum * mu;
            a.RunningVar[ch] = (1f - a.Momentum) * a.RunningVar[ch] + a.Momentum * variance * a.Unbias;
        }
    }

    /// <summary>Per slice: its sum, Σ(x − c) and Σ(x − c)² about its mean c.</summary>
    const int PartialsPerSlice = 3;

    static void NormalizeKernel(ChannelAffine p, ArrayView<float> x, ArrayView<float> beta, ArrayView<float> y)
    {
        var at = Odometer.OfThread(p.Hw, p.C);
        for (int i = GridLoop.Start, end = x.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
        {
            int ch = at.D1;
            y[i] = p.Gamma[ch] * (x[i] - p.Mean[ch]) * p.Invstd[ch] + beta[ch];
        }
    }

    /// <summary>Constants of the running-statistics update; <c>Unbias</c> = M/(M-1).</summary>
    public struct RunningUpdate
    {
        public float Eps, Momentum, Unbias;
    }

    static void RunningStatsKernel(ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> runningMean, ArrayView<float> runningVar, RunningUpdate u)
    {
        for (int ch = GridLoop.Start, end = mean.IntLength, step = GridLoop.Stride; ch < end; ch += step)
        {
            float biased = 1f / (invstd[ch] * invstd[ch]) - u.Eps;
            runningMean[ch] = (1f - u.Momentum) * runningMean[ch] + u.Momentum * mean[ch];
            runningVar[ch] = (1f - u.Momentum) * runningVar[ch] + u.Momentum * biased * u.Unbias;
        }
    }

    static void EvalStatsKernel(ArrayView<float> runningMean, ArrayView<float> runningVar, ArrayView<float> mean, ArrayView<float> invstd, float eps)
    {
        for (int ch = GridLoop.Start, end = mean.IntLength, step = GridLoop.Stride; ch < end; ch += step)
        {
            mean[ch] = runningMean[ch];
            invstd[ch] = XMath.Rsqrt(runningVar[ch] + eps);
        }
    }

    /// <summary>Group (slice, channel): Σgy and Σgy·xhat over its slice.</summary>
    static (float Gy, float GyXhat) SliceSums(BackwardArgs a)
    {
        var p = a.Affine;
        int ch = Grid.IdxY;
        float mu = p.Mean[ch], inv = p.Invstd[ch];
        float sumGy = 0f, sumGyXhat = 0f;
        for (var walk = new ChannelWalk(a.Slices, a.N); walk.Valid; walk.Advance())
        {
            float gy = a.Gy[walk.Index];
            sumGy += gy;
            sumGyXhat += gy * (a.X[walk.Index] - mu) * inv;
        }
        return (GroupReduction.Sum(sumGy), GroupReduction.Sum(sumGyXhat));
    }

    /// <summary>Group (slice, channel) of a channel cut into several slices: its slice's sums, stored as the slice's partials.</summary>
    static void BackwardSumsKernel(BackwardArgs a)
    {
        var (sumGy, sumGyXhat) = SliceSums(a);
        a.Slices.StorePairPartials(a.Partials, sumGy, sumGyXhat);
    }

    /// <summary>
    /// Group (slice, channel): the channel's sums (its own when it holds the whole channel, else its partials added in
    /// slice order, by every group alike), then gx over the slice; slice 0 adds the sums to ggamma and gbeta.
    /// </summary>
    static void BackwardKernel(BackwardArgs a)
    {
        var p = a.Affine;
        int ch = Grid.IdxY;
        float sumGy, sumGyXhat;
        if (a.Slices.Slices == 1) (sumGy, sumGyXhat) = SliceSums(a);
        else (sumGy, sumGyXhat) = a.Slices.PairTotals(a.Partials);
        if (Group.IdxX == 0 && Grid.IdxX == 0)
        {
            a.GGamma[ch] += sumGyXhat;
            a.GBeta[ch] += sumGy;
        }
        int m = a.Slices.M(a.N);
        // With batch statistics, mean and invstd also move with x: that removes the gradient's mean and its projection on xhat.
        float meanGy = a.BatchStats != 0 ? sumGy / m : 0f;
        float meanGyXhat = a.BatchStats != 0 ? sumGyXhat / m : 0f;
        float mu = p.Mean[ch], inv = p.Invstd[ch];
        float scale = p.Gamma[ch] * inv;
        for (var walk = new ChannelWalk(a.Slices, a.N); walk.Valid; walk.Advance())
        {
            int i = walk.Index;
            float xhat = (a.X[i] - mu) * inv;
            a.Gx[i] = scale * (a.Gy[i] - meanGy - xhat * meanGyXhat);
        }
    }

    /// <summary>Batch statistics in one launch; with <paramref name="running"/>'s views set, the running statistics too.</summary>
    internal static void ComputeBatchStats(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, float eps,
        StatsArgs running = default)
    {
        var slices = ChannelSlices.For(k, n, c, hw);
        var args = running;
        args.X = x;
        args.Mean = mean;
        args.Invstd = invstd;
        args.Partials = k.Scratch((long)c * slices.Slices * PartialsPerSlice);
        args.Arrived = k.Counters(c);
        args.Slices = slices;
        args.N = n;
        args.Eps = eps;
        k.Load<StatsArgs>(BatchStatsKernel)(slices.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, 5, 2, 0), args);
    }

    /// <summary>The running-statistics arguments of <see cref="ComputeBatchStats"/> (<c>Unbias</c> = M/(M-1)).</summary>
    internal static StatsArgs Running(int m, float momentum, ArrayView<float> runningMean, ArrayView<float> runningVar) =>
        new() { RunningMean = runningMean, RunningVar = runningVar, Momentum = momentum, Unbias = (float)((double)m / (m - 1)) };

    internal static void Normalize(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y)
    {
        var p = new ChannelAffine { Mean = mean, Invstd = invstd, Gamma = gamma, C = c, Hw = hw };
        k.Load<ChannelAffine, ArrayView<float>, ArrayView<float>, ArrayView<float>>(NormalizeKernel)(k.GridStride(x.Length), LaunchCost.Elementwise(x.Length, 4, 1, 1), p, x, beta, y);
    }

    internal static void UpdateRunningStats(KernelContext k, int c, int m, ArrayView<float> mean, ArrayView<float> invstd, float eps, float momentum,
        ArrayView<float> runningMean, ArrayView<float> runningVar)
    {
        var u = new RunningUpdate { Eps = eps, Momentum = momentum, Unbias = (float)((double)m / (m - 1)) };
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RunningUpdate>(RunningStatsKernel)(
            k.GridStride(c), LaunchCost.Elementwise(c, 10, 4, 2), mean, invstd, runningMean, runningVar, u);
    }

    internal static void EvalStats(KernelContext k, int c, ArrayView<float> runningMean, ArrayView<float> runningVar, float eps,
        ArrayView<float> mean, ArrayView<float> invstd) =>
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(EvalStatsKernel)(
            k.GridStride(c), LaunchCost.Elementwise(c, 2, 2, 2), runningMean, runningVar, mean, invstd, eps);

    internal static void Backward(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics)
    {
        var slices = ChannelSlices.For(k, n, c, hw);
        var args = new BackwardArgs
        {
            Affine = new ChannelAffine { Mean = mean, Invstd = invstd, Gamma = gamma, C = c, Hw = hw },
            X = x, Gy = gy, Gx = gx, GGamma = ggamma, GBeta = gbeta, BatchStats = batchStatistics ? 1 : 0,
            Slices = slices, N = n,
        };
        if (slices.Slices > 1)
        {
            args.Partials = k.Scratch((long)c * slices.Slices * 2);
            k.Load<BackwardArgs>(BackwardSumsKernel)(slices.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, 4, 2, 0), args);
        }
        // One slice per channel: the kernel sums its channel itself, reading x and gy twice.
        k.Load<BackwardArgs>(BackwardKernel)(slices.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, slices.Slices > 1 ? 5 : 9, slices.Slices > 1 ? 2 : 4, 1), args);
    }
}
