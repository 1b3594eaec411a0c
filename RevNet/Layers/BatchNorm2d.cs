using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>
/// nn.BatchNorm2d (eps 1e-5, momentum 0.1). Training: batch statistics, running statistics updated once per
/// forward. Outside the tape (the forward of reversible blocks) the batch statistics are kept in a small
/// per-layer buffer so that the reconstruction in backward normalises with exactly the forward's statistics
/// (<see cref="UseSavedStatistics"/>) and does not update the running statistics a second time.
/// </summary>
public sealed class BatchNorm2d : Module
{
    readonly Parameter weight, bias, runningMean, runningVar, savedMean, savedInvStd;

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

    public int Channels { get; }

    public float Eps { get; }

    public float Momentum { get; }

    /// <summary>Set by a reversible block while it rebuilds its inputs: normalise with the statistics saved by the last training forward.</summary>
    public bool UseSavedStatistics { get; set; }

    public Tensor RunningMean => runningMean.Value;

    public Tensor RunningVar => runningVar.Value;

    public override Tensor Forward(Tensor x)
    {
        var device = x.Device;
        if (!Training || UseSavedStatistics)
        {
            if (Training) return Functional.BatchNorm2d(x, weight.Value, bias.Value, savedMean.Value, savedInvStd.Value, batchStatistics: true);
            using var mean = Tensor.Empty(device, Channels);
            using var invstd = Tensor.Empty(device, Channels);
            Functional.EvalStatistics(runningMean.Value, runningVar.Value, Eps, mean, invstd);
            return Functional.BatchNorm2d(x, weight.Value, bias.Value, mean, invstd, batchStatistics: false);
        }
        // On the tape the op saves its own statistics; off it, they go to the saved-statistics buffer for the rebuild.
        bool keepForRebuild = !device.Tape.IsRecording;
        var batchMean = keepForRebuild ? savedMean.Value.Retain() : Tensor.Empty(device, Channels);
        var batchInvStd = keepForRebuild ? savedInvStd.Value.Retain() : Tensor.Empty(device, Channels);
        try
        {
            Functional.BatchStatistics(x, Eps, batchMean, batchInvStd, Momentum, runningMean.Value, runningVar.Value);
            return Functional.BatchNorm2d(x, weight.Value, bias.Value, batchMean, batchInvStd, batchStatistics: true);
        }
        finally
        {
            batchMean.Release();
            batchInvStd.Release();
        }
    }
}
