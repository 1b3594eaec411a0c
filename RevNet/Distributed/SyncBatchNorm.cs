using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>
/// Batch norm over a batch split across ranks (--sync-bn): every per-channel sum is added over the ranks, so each rank
/// normalises its slice, and differentiates through the statistics, as one process would on the whole batch.
/// Forward: Σx, then Σ(x−mean)² (two passes, as <see cref="Functional.BatchStatistics(Tensor, float, Tensor, Tensor)"/>), each all-reduced. Backward:
/// Σgy and Σgy·xhat all-reduced, then applied (<see cref="SyncBatchNormKernels"/>). The kernels' sums are compensated
/// and are added across ranks in float64, so the result does not depend on how the batch is split. Every rank holds an
/// equal slice (the trainer checks), so the whole batch has ranks × the slice's values per channel. Sums travel through
/// host memory.
/// </summary>
public static class SyncBatchNorm
{
    /// <summary>The whole batch's mean and 1/sqrt(biased variance + eps) of x [N,C,H,W] (this rank's slice) into mean, invstd [C]; not recorded. Returns M.</summary>
    public static long BatchStatistics(Tensor x, float eps, Tensor mean, Tensor invstd, ICommunicator ranks)
    {
        var (device, n, c, hw) = Shape(x, "sync batch statistics");
        long count = (long)n * hw * ranks.Size;
        using var partial = Tensor.Empty(device, 2 * c);
        device.Run(k => k.SyncBatchNorm.ChannelSums(n, c, hw, x.View, partial.View));
        mean.CopyFrom(AllReduce(partial, c, ranks).Select(s => (float)(s / count)).ToArray());
        device.Run(k => k.SyncBatchNorm.CentredSquareSums(n, c, hw, x.View, mean.View, partial.View));
        invstd.CopyFrom(AllReduce(partial, c, ranks).Select(s => (float)(1 / Math.Sqrt(s / count + eps))).ToArray());
        return count;
    }

    /// <summary>
    /// y = gamma·(x − mean)·invstd + beta with the whole batch's statistics; the backward adds its reductions over the
    /// ranks. Saves x, mean and invstd, like <see cref="Functional.BatchNorm2d"/>.
    /// </summary>
    public static Tensor Normalize(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor invstd, ICommunicator ranks)
    {
        const string op = "sync batchnorm2d";
        var (device, n, c, hw) = Shape(x, op);
        foreach (var (name, t) in new[] { ("gamma", gamma), ("beta", beta), ("mean", mean), ("invstd", invstd) })
            if (t.Length != c) throw new ArgumentException($"{op}: {name} {t.ShapeString} must be [{c}] for input {x.ShapeString}");
        long count = (long)n * hw * ranks.Size;
        var y = Tensor.Empty(device, x.Shape);
        device.Run(k => k.BatchNorm.Normalize(n, c, hw, x.View, mean.View, invstd.View, gamma.View, beta.View, y.View));
        device.Tape.Record(op, y, [x], [x, mean, invstd], grads =>
        {
            var gy = grads[0]!;
            var gx = Tensor.Empty(device, x.Shape);
            using var sums = Tensor.Empty(device, 4 * c);
            device.Run(k => k.SyncBatchNorm.BackwardSums(n, c, hw, x.View, gy.View, mean.View, invstd.View, sums.View, gamma.Grad!.View, beta.Grad!.View));
            using var gradientMeans = Tensor.FromArray(device, AllReduce(sums, c, ranks).Select(s => (float)(s / count)).ToArray(), 2 * c);
            device.Run(k => k.SyncBatchNorm.BackwardApply(n, c, hw, x.View, gy.View, mean.View, invstd.View, gamma.View, gradientMeans.View, gx.View));
            return [gx];
        }, hasParameters: true);
        return y;
    }

    /// <summary>
    /// The compensated sums in <paramref name="partial"/> (per sum: C high parts, then C low parts) as float64 values, one
    /// per sum and channel, added over the ranks.
    /// </summary>
    static double[] AllReduce(Tensor partial, int c, ICommunicator ranks)
    {
        var parts = partial.ToArray();
        var values = new double[parts.Length / 2];
        for (int sum = 0; sum < values.Length / c; sum++)
            for (int ch = 0; ch < c; ch++)
                values[sum * c + ch] = new CompensatedSum { High = parts[2 * sum * c + ch], Low = parts[(2 * sum + 1) * c + ch] }.Value;
        ranks.AllReduce(values.AsSpan(), ReduceOperation.Sum);
        return values;
    }

    static (Device Device, int N, int C, int Hw) Shape(Tensor x, string op)
    {
        if (x.Rank != 4) throw new ArgumentException($"{op}: input must have rank 4, got shape {x.ShapeString}");
        x.Device.RequireValues($"{op} exchanges sums between ranks (plan memory without --sync-bn)");
        return (x.Device, x[0], x[1], x[2] * x[3]);
    }
}
