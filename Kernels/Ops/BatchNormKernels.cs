using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// BatchNorm2d. x, y, gy, gx are [N,C,H,W] with HW = H*W; gamma, beta, mean, invstd and the running statistics are [C];
/// M = N*H*W values per channel. Forward: y = gamma*(x-mean)*invstd + beta, with invstd = 1/sqrt(var_biased + eps).
/// Saved for backward: x (or its recomputation), mean and invstd. Training uses batch statistics
/// (<see cref="ComputeBatchStats"/> then <see cref="Normalize"/>, <see cref="UpdateRunningStats"/>, <see cref="Backward"/>
/// with batch statistics); evaluation uses the running ones (<see cref="EvalStats"/> then <see cref="Normalize"/>, and
/// <see cref="Backward"/> with fixed statistics). Forms: Kernels/Ilgpu/BatchNormIlgpu.cs, Kernels/Host/BatchNormHost.cs;
/// both reduce in an order fixed by the shape, so each is deterministic, but they sum in different orders.
/// </summary>
public abstract class BatchNormKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>Batch mean and invstd = 1/sqrt(var_biased + eps) per channel of x.</summary>
    public void ComputeBatchStats(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, float eps)
    {
        const string op = "batch norm stats";
        CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "invstd", invstd.Length, c);
        Enter();
        ComputeBatchStatsCore(n, c, hw, x, mean, invstd, eps);
    }

    /// <summary>
    /// <see cref="ComputeBatchStats"/> and PyTorch's running-statistics update (as <see cref="UpdateRunningStats"/>) in one
    /// call: the training forward's statistics.
    /// </summary>
    public void ComputeBatchStatsAndUpdateRunning(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, float eps,
        float momentum, ArrayView<float> runningMean, ArrayView<float> runningVar)
    {
        const string op = "batch norm stats and running stats";
        CheckImage(op, n, c, hw, x, "x");
        CheckChannels(op, c, mean, invstd, runningMean);
        ShapeCheck.Length(op, "runningVar", runningVar.Length, c);
        long m = (long)n * hw;
        if (m < 2) throw new ArgumentException($"{op}: n*hw must be at least 2 for an unbiased variance, got {m}");
        Enter();
        ComputeBatchStatsAndUpdateRunningCore(n, c, hw, x, mean, invstd, eps, momentum, runningMean, runningVar);
    }

    /// <summary>y = gamma*(x-mean)*invstd + beta with the given statistics (batch, running, or saved for recomputation). y may be x.</summary>
    public void Normalize(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y)
    {
        const string op = "batch norm normalize";
        CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "y", y.Length, x.Length);
        CheckChannels(op, c, mean, invstd, gamma);
        ShapeCheck.Length(op, "beta", beta.Length, c);
        Enter();
        NormalizeCore(n, c, hw, x, mean, invstd, gamma, beta, y);
    }

    /// <summary>
    /// PyTorch's running-statistics update: rm = (1-momentum)*rm + momentum*mean; rv = (1-momentum)*rv + momentum*var_unbiased,
    /// where var_unbiased = var_biased*M/(M-1) and var_biased = 1/invstd² - eps is recovered from the saved invstd.
    /// </summary>
    public void UpdateRunningStats(int c, int m, ArrayView<float> mean, ArrayView<float> invstd, float eps, float momentum,
        ArrayView<float> runningMean, ArrayView<float> runningVar)
    {
        const string op = "batch norm running stats";
        ShapeCheck.Positive(op, "c", c);
        if (m < 2) throw new ArgumentException($"{op}: m must be at least 2 for an unbiased variance, got {m}");
        CheckChannels(op, c, mean, invstd, runningMean);
        ShapeCheck.Length(op, "runningVar", runningVar.Length, c);
        Enter();
        UpdateRunningStatsCore(c, m, mean, invstd, eps, momentum, runningMean, runningVar);
    }

    /// <summary>Evaluation statistics: mean = running mean, invstd = 1/sqrt(running var + eps).</summary>
    public void EvalStats(int c, ArrayView<float> runningMean, ArrayView<float> runningVar, float eps, ArrayView<float> mean, ArrayView<float> invstd)
    {
        const string op = "batch norm eval stats";
        ShapeCheck.Positive(op, "c", c);
        CheckChannels(op, c, mean, invstd, runningMean);
        ShapeCheck.Length(op, "runningVar", runningVar.Length, c);
        Enter();
        EvalStatsCore(c, runningMean, runningVar, eps, mean, invstd);
    }

    /// <summary>
    /// With <paramref name="batchStatistics"/> (training: mean and invstd are the batch statistics of x, so they move with x):
    /// gx = gamma*invstd/M * (M*gy - Σgy - xhat*Σ(gy*xhat)); without (fixed statistics): gx = gy*gamma*invstd. gx is
    /// overwritten; ggamma += Σ gy*xhat; gbeta += Σ gy.
    /// </summary>
    public void Backward(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics)
    {
        const string op = "batch norm backward";
        CheckImage(op, n, c, hw, x, "x");
        ShapeCheck.Length(op, "gy", gy.Length, x.Length);
        ShapeCheck.Length(op, "gx", gx.Length, x.Length);
        CheckChannels(op, c, mean, invstd, gamma);
        ShapeCheck.Length(op, "ggamma", ggamma.Length, c);
        ShapeCheck.Length(op, "gbeta", gbeta.Length, c);
        Enter();
        BackwardCore(n, c, hw, x, gy, mean, invstd, gamma, gx, ggamma, gbeta, batchStatistics);
    }

    /// <summary>The backend's form of <see cref="ComputeBatchStats"/>: arguments already checked.</summary>
    protected abstract void ComputeBatchStatsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, float eps);

    /// <summary>The backend's form of <see cref="ComputeBatchStatsAndUpdateRunning"/>: arguments already checked.</summary>
    protected abstract void ComputeBatchStatsAndUpdateRunningCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        float eps, float momentum, ArrayView<float> runningMean, ArrayView<float> runningVar);

    /// <summary>The backend's form of <see cref="Normalize"/>: arguments already checked.</summary>
    protected abstract void NormalizeCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y);

    /// <summary>The backend's form of <see cref="UpdateRunningStats"/>: arguments already checked.</summary>
    protected abstract void UpdateRunningStatsCore(int c, int m, ArrayView<float> mean, ArrayView<float> invstd, float eps, float momentum,
        ArrayView<float> runningMean, ArrayView<float> runningVar);

    /// <summary>The backend's form of <see cref="EvalStats"/>: arguments already checked.</summary>
    protected abstract void EvalStatsCore(int c, ArrayView<float> runningMean, ArrayView<float> runningVar, float eps, ArrayView<float> mean, ArrayView<float> invstd);

    /// <summary>The backend's form of <see cref="Backward"/>: arguments already checked.</summary>
    protected abstract void BackwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics);

    /// <summary>An [N,C,HW] image of positive sizes and the right length.</summary>
    internal static void CheckImage(string op, int n, int c, int hw, ArrayView<float> x, string name)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        ShapeCheck.Positive(op, "hw", hw);
        ShapeCheck.Length(op, name, x.Length, (long)n * c * hw);
    }

    /// <summary>The three per-channel views most ops here read; named as in the callers' signatures.</summary>
    internal static void CheckChannels(string op, int c, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> third,
        [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(third))] string thirdName = "")
    {
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "invstd", invstd.Length, c);
        ShapeCheck.Length(op, thirdName, third.Length, c);
    }
}
