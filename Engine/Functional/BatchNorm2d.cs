using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>
    /// y = gamma·(x − mean)·invstd + beta over x [N,C,H,W] with per-channel mean and invstd [C] given by the caller
    /// (batch statistics from <see cref="BatchStatistics(Tensor, float, Tensor, Tensor)"/>, or running statistics from <see cref="EvalStatistics"/>).
    /// Saves x, mean and invstd. With <paramref name="batchStatistics"/> the backward differentiates through the
    /// statistics (training mode); otherwise they are constants (evaluation mode).
    /// </summary>
    public static Tensor BatchNorm2d(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor invstd, bool batchStatistics)
    {
        const string op = "batchnorm2d";
        var (n, c, hw) = BatchNormShape(op, x, gamma, beta, mean, invstd);
        var device = x.Device;
        var y = Tensor.Empty(device, x.Shape);
        Launch(device, k => k.BatchNorm.Normalize(n, c, hw, x.View, mean.View, invstd.View, gamma.View, beta.View, y.View));
        device.Tape.Record(op, y, [x], [x, mean, invstd], grads =>
        {
            var gy = grads[0]!;
            var gx = Tensor.Empty(device, x.Shape);
            var ggamma = gamma.Grad!;
            var gbeta = beta.Grad!;
            Launch(device, k => k.BatchNorm.Backward(n, c, hw, x.View, gy.View, mean.View, invstd.View, gamma.View, gx.View, ggamma.View, gbeta.View,
                batchStatistics));
            return [gx];
        }, hasParameters: gamma.Grad is not null);
        return y;
    }

    /// <summary>Batch mean and 1/sqrt(biased variance + eps) of x [N,C,H,W] into mean, invstd [C]; not recorded.</summary>
    public static void BatchStatistics(Tensor x, float eps, Tensor mean, Tensor invstd)
    {
        RequireRank("batch statistics", "input", x, 4);
        var (n, c, hw) = Nchw(x);
        Launch(x.Device, k => k.BatchNorm.ComputeBatchStats(n, c, hw, x.View, mean.View, invstd.View, eps));
    }

    /// <summary>
    /// <see cref="BatchStatistics(Tensor, float, Tensor, Tensor)"/> and PyTorch's running-statistics update (unbiased
    /// variance, momentum) in one launch: the training forward's statistics. Not recorded.
    /// </summary>
    public static void BatchStatistics(Tensor x, float eps, Tensor mean, Tensor invstd, float momentum, Tensor runningMean, Tensor runningVar)
    {
        RequireRank("batch statistics", "input", x, 4);
        var (n, c, hw) = Nchw(x);
        Launch(x.Device, k => k.BatchNorm.ComputeBatchStatsAndUpdateRunning(n, c, hw, x.View, mean.View, invstd.View, eps, momentum,
            runningMean.View, runningVar.View));
    }

    /// <summary>PyTorch's running-statistics update (unbiased variance, momentum) from batch statistics over m values per channel.</summary>
    public static void UpdateRunningStatistics(Tensor mean, Tensor invstd, int m, float eps, float momentum, Tensor runningMean, Tensor runningVar) =>
        Launch(mean.Device, k => k.BatchNorm.UpdateRunningStats((int)mean.Length, m, mean.View, invstd.View, eps, momentum, runningMean.View, runningVar.View));

    /// <summary>mean = running mean, invstd = 1/sqrt(running var + eps), for evaluation; not recorded.</summary>
    public static void EvalStatistics(Tensor runningMean, Tensor runningVar, float eps, Tensor mean, Tensor invstd) =>
        Launch(mean.Device, k => k.BatchNorm.EvalStats((int)mean.Length, runningMean.View, runningVar.View, eps, mean.View, invstd.View));

    /// <summary>(N, C, H*W) of x [N,C,H,W], checking that gamma, beta, mean and invstd are [C].</summary>
    static (int N, int C, int HW) BatchNormShape(string op, Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor invstd)
    {
        RequireRank(op, "input", x, 4);
        var (n, c, hw) = Nchw(x);
        foreach (var (name, t) in new[] { ("gamma", gamma), ("beta", beta), ("mean", mean), ("invstd", invstd) })
            if (t.Length != c) throw new ArgumentException($"{op}: {name} {t.ShapeString} must be [{c}] for input {x.ShapeString}");
        return (n, c, hw);
    }
}
