using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// BatchNorm2d. x, y, gy, gx are [N,C,H,W] with HW = H*W; gamma, beta, mean, invstd and the running statistics are [C];
/// M = N*H*W values per channel. Forward: y = gamma*(x-mean)*invstd + beta, with invstd = 1/sqrt(var_biased + eps).
/// Saved for backward: x (or its recomputation), mean and invstd. Training uses batch statistics
/// (<see cref="ComputeBatchStats"/> then <see cref="Normalize"/>, <see cref="UpdateRunningStats"/>, <see cref="Backward"/>);
/// evaluation uses the running ones (<see cref="EvalStats"/> then <see cref="Normalize"/>, <see cref="BackwardEval"/>).
/// Reductions run one group per channel and are deterministic.
/// </summary>
public static class BatchNormKernels
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
    }

    static void BatchStatsKernel(ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, int c, int hw, float eps)
    {
        int ch = Grid.IdxX;
        int m = x.IntLength / c;
        float sum = 0f;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
            sum += x[ChannelKernels.ChannelElement(ch, j, c, hw)];
        float mu = GroupReduction.Sum(sum) / m;
        // Second pass over centred values: Σx² - M·mean² would cancel catastrophically when |mean| ≫ std.
        float squares = 0f;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            float d = x[ChannelKernels.ChannelElement(ch, j, c, hw)] - mu;
            squares += d * d;
        }
        float variance = GroupReduction.Sum(squares) / m;
        if (Group.IdxX == 0)
        {
            mean[ch] = mu;
            invstd[ch] = XMath.Rsqrt(variance + eps);
        }
    }

    static void NormalizeKernel(ChannelAffine p, ArrayView<float> x, ArrayView<float> beta, ArrayView<float> y)
    {
        for (int i = GridLoop.Start, end = x.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int ch = i / p.Hw % p.C;
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

    static void BackwardKernel(BackwardArgs a)
    {
        var p = a.Affine;
        int ch = Grid.IdxX;
        int m = a.X.IntLength / p.C;
        float mu = p.Mean[ch], inv = p.Invstd[ch];
        float sumGy = 0f, sumGyXhat = 0f;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            int i = ChannelKernels.ChannelElement(ch, j, p.C, p.Hw);
            sumGy += a.Gy[i];
            sumGyXhat += a.Gy[i] * (a.X[i] - mu) * inv;
        }
        sumGy = GroupReduction.Sum(sumGy);
        sumGyXhat = GroupReduction.Sum(sumGyXhat);
        // With batch statistics, mean and invstd also move with x: that removes the gradient's mean and its projection on xhat.
        float meanGy = a.BatchStats != 0 ? sumGy / m : 0f;
        float meanGyXhat = a.BatchStats != 0 ? sumGyXhat / m : 0f;
        float scale = p.Gamma[ch] * inv;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            int i = ChannelKernels.ChannelElement(ch, j, p.C, p.Hw);
            float xhat = (a.X[i] - mu) * inv;
            a.Gx[i] = scale * (a.Gy[i] - meanGy - xhat * meanGyXhat);
        }
        if (Group.IdxX == 0)
        {
            a.GGamma[ch] += sumGyXhat;
            a.GBeta[ch] += sumGy;
        }
    }

    /// <summary>Batch mean and invstd = 1/sqrt(var_biased + eps) per channel of x (two passes: mean, then Σ(x-mean)²).</summary>
    public static void ComputeBatchStats(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, float eps)
    {
        const string op = "batch norm stats";
        CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "invstd", invstd.Length, c);
        if (k.DispatchToHost()) { BatchNormHost.ComputeBatchStats(n, c, hw, HostMemory.Span(x), HostMemory.Span(mean), HostMemory.Span(invstd), eps); return; }
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(BatchStatsKernel)(
            k.GroupPerItem(c), x, mean, invstd, c, hw, eps);
    }

    /// <summary>y = gamma*(x-mean)*invstd + beta with the given statistics (batch, running, or saved for recomputation). y may be x.</summary>
    public static void Normalize(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y)
    {
        const string op = "batch norm normalize";
        CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "y", y.Length, x.Length);
        CheckChannels(op, c, mean, invstd, gamma);
        ShapeCheck.Length(op, "beta", beta.Length, c);
        if (k.DispatchToHost())
        {
            BatchNormHost.Normalize(n, c, hw, HostMemory.Span(x), HostMemory.Span(mean), HostMemory.Span(invstd), HostMemory.Span(gamma), HostMemory.Span(beta), HostMemory.Span(y));
            return;
        }
        var p = new ChannelAffine { Mean = mean, Invstd = invstd, Gamma = gamma, C = c, Hw = hw };
        k.Load<ChannelAffine, ArrayView<float>, ArrayView<float>, ArrayView<float>>(NormalizeKernel)(k.GridStride(x.Length), p, x, beta, y);
    }

    /// <summary>
    /// PyTorch's running-statistics update: rm = (1-momentum)*rm + momentum*mean; rv = (1-momentum)*rv + momentum*var_unbiased,
    /// where var_unbiased = var_biased*M/(M-1) and var_biased = 1/invstd² - eps is recovered from the saved invstd.
    /// </summary>
    public static void UpdateRunningStats(KernelContext k, int c, int m, ArrayView<float> mean, ArrayView<float> invstd, float eps, float momentum,
        ArrayView<float> runningMean, ArrayView<float> runningVar)
    {
        const string op = "batch norm running stats";
        ShapeCheck.Positive(op, "c", c);
        if (m < 2) throw new ArgumentException($"{op}: m must be at least 2 for an unbiased variance, got {m}");
        CheckChannels(op, c, mean, invstd, runningMean);
        ShapeCheck.Length(op, "runningVar", runningVar.Length, c);
        if (k.DispatchToHost())
        {
            BatchNormHost.UpdateRunningStats(c, m, HostMemory.Span(mean), HostMemory.Span(invstd), eps, momentum, HostMemory.Span(runningMean), HostMemory.Span(runningVar));
            return;
        }
        var u = new RunningUpdate { Eps = eps, Momentum = momentum, Unbias = (float)((double)m / (m - 1)) };
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RunningUpdate>(RunningStatsKernel)(
            k.GridStride(c), mean, invstd, runningMean, runningVar, u);
    }

    /// <summary>Evaluation statistics: mean = running mean, invstd = 1/sqrt(running var + eps).</summary>
    public static void EvalStats(KernelContext k, int c, ArrayView<float> runningMean, ArrayView<float> runningVar, float eps,
        ArrayView<float> mean, ArrayView<float> invstd)
    {
        const string op = "batch norm eval stats";
        ShapeCheck.Positive(op, "c", c);
        CheckChannels(op, c, mean, invstd, runningMean);
        ShapeCheck.Length(op, "runningVar", runningVar.Length, c);
        if (k.DispatchToHost()) { BatchNormHost.EvalStats(c, HostMemory.Span(runningMean), HostMemory.Span(runningVar), eps, HostMemory.Span(mean), HostMemory.Span(invstd)); return; }
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(EvalStatsKernel)(
            k.GridStride(c), runningMean, runningVar, mean, invstd, eps);
    }

    /// <summary>
    /// Training-mode backward (mean and invstd are the batch statistics of x):
    /// gx = gamma*invstd/M * (M*gy - Σgy - xhat*Σ(gy*xhat)) (overwritten); ggamma += Σ gy*xhat; gbeta += Σ gy.
    /// </summary>
    public static void Backward(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta) =>
        LaunchBackward(k, "batch norm backward", n, c, hw, x, gy, mean, invstd, gamma, gx, ggamma, gbeta, batchStats: true);

    /// <summary>Evaluation-mode backward (fixed statistics): gx = gy*gamma*invstd (overwritten); ggamma += Σ gy*xhat; gbeta += Σ gy.</summary>
    public static void BackwardEval(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta) =>
        LaunchBackward(k, "batch norm backward eval", n, c, hw, x, gy, mean, invstd, gamma, gx, ggamma, gbeta, batchStats: false);

    static void LaunchBackward(KernelContext k, string op, int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStats)
    {
        CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "gx", gx.Length, x.Length);
        CheckChannels(op, c, mean, invstd, gamma);
        ShapeCheck.Length(op, "ggamma", ggamma.Length, c);
        ShapeCheck.Length(op, "gbeta", gbeta.Length, c);
        if (k.DispatchToHost())
        {
            BatchNormHost.Backward(n, c, hw, HostMemory.Span(x), HostMemory.Span(gy), HostMemory.Span(mean), HostMemory.Span(invstd), HostMemory.Span(gamma),
                HostMemory.Span(gx), HostMemory.Span(ggamma), HostMemory.Span(gbeta), batchStats);
            return;
        }
        var args = new BackwardArgs
        {
            Affine = new ChannelAffine { Mean = mean, Invstd = invstd, Gamma = gamma, C = c, Hw = hw },
            X = x, Gy = gy, Gx = gx, GGamma = ggamma, GBeta = gbeta, BatchStats = batchStats ? 1 : 0,
        };
        k.Load<BackwardArgs>(BackwardKernel)(k.GroupPerItem(c), args);
    }

    static void CheckImage(string op, int n, int c, int hw, ArrayView<float> x, string name)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        ShapeCheck.Positive(op, "hw", hw);
        ShapeCheck.Length(op, name, x.Length, (long)n * c * hw);
    }

    /// <summary>The three per-channel views every op here reads; named as in the callers' signatures.</summary>
    static void CheckChannels(string op, int c, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> third,
        [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(third))] string thirdName = "")
    {
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "invstd", invstd.Length, c);
        ShapeCheck.Length(op, thirdName, third.Length, c);
    }
}
