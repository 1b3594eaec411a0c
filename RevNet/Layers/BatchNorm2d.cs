using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Distributed;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>
/// nn.BatchNorm2d (eps 1e-5, momentum 0.1). Training: batch statistics, running statistics updated once per
/// forward; evaluation: running statistics. <see cref="Statistics"/> says which batch statistics a training forward
/// uses: its own, its own kept in a small per-layer buffer for a later recompute (the forward of reversible blocks), or the
/// kept ones (that recompute in backward, which so normalises exactly as the forward did and does not update the running
/// statistics a second time). With <see cref="SyncAcross"/> set, batch statistics and their gradients cover the whole
/// batch over all ranks.
/// </summary>
public sealed class BatchNorm2d : Module
{
    readonly Parameter weight, bias, runningMean, runningVar, savedMean, savedInvStd;

    /// <summary>A batch norm over <paramref name="channels"/> channels of [N,C,H,W] inputs: gamma 1, beta 0, running mean 0 and variance 1.</summary>
    /// <param name="channels">C, the channels normalised separately.</param>
    /// <param name="eps">Added to the variance before its square root.</param>
    /// <param name="momentum">Weight of each batch in the running statistics (PyTorch's convention).</param>
    /// <exception cref="ArgumentException"><paramref name="channels"/> is not positive.</exception>
    public BatchNorm2d(int channels, float eps = 1e-5f, float momentum = 0.1f)
    {
        if (channels <= 0) throw new ArgumentException($"BatchNorm2d: channels must be positive, got {channels}");
        Channels = channels;
        Eps = eps;
        Momentum = momentum;
        weight = AddParameter("weight", [channels], Parameter.Constant(1f), weightDecay: false);
        bias = AddParameter("bias", [channels], Parameter.Constant(0f), weightDecay: false);
        runningMean = AddBuffer("running_mean", [channels], 0f);
        runningVar = AddBuffer("running_var", [channels], 1f);
        savedMean = AddBuffer("saved_mean", [channels], 0f, persistent: false);
        savedInvStd = AddBuffer("saved_invstd", [channels], 1f, persistent: false);
    }

    /// <summary>gamma [C] (1 by default; 0 makes the layer's output start at beta, e.g. the last norm of a residual branch).</summary>
    public Parameter Weight => weight;

    /// <summary>beta [C] (0 by default).</summary>
    public Parameter Bias => bias;

    /// <summary>C: the channels normalised.</summary>
    public int Channels { get; }

    /// <summary>Added to the variance before its square root.</summary>
    public float Eps { get; }

    /// <summary>Weight of each training batch's statistics in the running ones.</summary>
    public float Momentum { get; }

    /// <summary>Which batch statistics a training forward normalises with; set for a subtree by <see cref="BatchNormStatisticsScope"/>.</summary>
    public BatchNormStatistics Statistics { get; set; }

    /// <summary>
    /// Ranks whose slices form the batch (--sync-bn): statistics and the backward's reductions are summed over them, and the
    /// running statistics, updated from those shared statistics, stay equal on every rank. Null: this process's batch alone.
    /// </summary>
    public ICommunicator? SyncAcross { get; set; }

    /// <summary>The running mean [C] used in evaluation (a buffer owned by the <see cref="ParameterStore"/>; borrowed).</summary>
    public Tensor RunningMean => runningMean.Value;

    /// <summary>The running unbiased variance [C] used in evaluation (a buffer owned by the <see cref="ParameterStore"/>; borrowed).</summary>
    public Tensor RunningVar => runningVar.Value;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) =>
        Normalize(x, (input, mean, invstd, batchStatistics) => batchStatistics
            ? NormalizeWithBatchStatistics(input, mean, invstd)
            : Functional.BatchNorm2d(input, weight.Value, bias.Value, mean, invstd, batchStatistics: false));

    /// <summary>
    /// conv(relu(this(x))) through the fused op that keeps only x for backward (<see cref="Functional.BatchNormReluConv2d"/>);
    /// statistics are chosen and updated exactly as by <see cref="Forward"/>. Not with <see cref="SyncAcross"/>: the fused
    /// backward reduces over this rank's slice only.
    /// </summary>
    public Tensor ForwardThroughReluConv(Tensor x, Conv2d conv) => SyncAcross is not null
        ? throw new InvalidOperationException("BatchNorm2d: the fused BN-ReLU-conv op cannot synchronise statistics across ranks; run the layers one by one")
        : Normalize(x, (input, mean, invstd, batchStatistics) => conv.ForwardAfterBatchNormRelu(input, weight.Value, bias.Value, mean, invstd, batchStatistics));

    /// <summary>
    /// relu(this(x)) through the fused op that keeps only x for backward (<see cref="Functional.BatchNormRelu"/>);
    /// statistics are chosen and updated exactly as by <see cref="Forward"/>. Not with <see cref="SyncAcross"/>, as
    /// <see cref="ForwardThroughReluConv"/>.
    /// </summary>
    public Tensor ForwardThroughRelu(Tensor x) => SyncAcross is not null
        ? throw new InvalidOperationException("BatchNorm2d: the fused BN-ReLU op cannot synchronise statistics across ranks; run the layers one by one")
        : Normalize(x, (input, mean, invstd, batchStatistics) => Functional.BatchNormRelu(input, weight.Value, bias.Value, mean, invstd, batchStatistics));

    /// <summary>Picks the statistics (batch, kept or running), updates the running ones from a batch's, and applies <paramref name="normalize"/>(x, mean, invstd, batch statistics?).</summary>
    Tensor Normalize(Tensor x, Func<Tensor, Tensor, Tensor, bool, Tensor> normalize)
    {
        var device = x.Device;
        if (!Training)
        {
            using var mean = Tensor.Empty(device, Channels);
            using var invstd = Tensor.Empty(device, Channels);
            Functional.EvalStatistics(runningMean.Value, runningVar.Value, Eps, mean, invstd);
            return normalize(x, mean, invstd, false);
        }
        if (Statistics == BatchNormStatistics.Kept) return normalize(x, savedMean.Value, savedInvStd.Value, true);
        // The op keeps its own statistics for its backward; a forward to be recomputed keeps them in the layer too.
        bool keep = Statistics == BatchNormStatistics.BatchKeptForRecompute;
        var batchMean = keep ? savedMean.Value.Retain() : Tensor.Empty(device, Channels);
        var batchInvStd = keep ? savedInvStd.Value.Retain() : Tensor.Empty(device, Channels);
        try
        {
            if (SyncAcross is { } ranks)
            {
                long count = SyncBatchNorm.BatchStatistics(x, Eps, batchMean, batchInvStd, ranks);
                Functional.UpdateRunningStatistics(batchMean, batchInvStd, checked((int)count), Eps, Momentum, runningMean.Value, runningVar.Value);
            }
            else
            {
                Functional.BatchStatistics(x, Eps, batchMean, batchInvStd, Momentum, runningMean.Value, runningVar.Value);
            }
            return normalize(x, batchMean, batchInvStd, true);
        }
        finally
        {
            batchMean.Release();
            batchInvStd.Release();
        }
    }

    Tensor NormalizeWithBatchStatistics(Tensor x, Tensor mean, Tensor invstd) => SyncAcross is { } ranks
        ? SyncBatchNorm.Normalize(x, weight.Value, bias.Value, mean, invstd, ranks)
        : Functional.BatchNorm2d(x, weight.Value, bias.Value, mean, invstd, batchStatistics: true);
}
