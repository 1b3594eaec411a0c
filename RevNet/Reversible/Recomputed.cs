using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// Gradient checkpointing for a module that cannot be inverted (a RevNet stage's strided transition unit): when
/// <see cref="Enabled"/>, its forward runs off the tape and records one entry that keeps only its input; backward
/// re-runs it under a local tape and back-propagates through that. Batch norm inside re-normalises with the
/// forward's statistics and leaves running statistics alone, as in reversible blocks. Costs one more forward of
/// the module; saves all of its activations.
/// </summary>
public sealed class Recomputed : Module
{
    readonly Module inner;

    /// <summary>Wraps <paramref name="inner"/>, whose parameters appear under "inner." or, with <paramref name="keepPaths"/>,
    /// under their own paths (for a wrapper added after checkpoints with the unwrapped names exist).</summary>
    public Recomputed(Module inner, bool keepPaths = false) => this.inner = Add(keepPaths ? "" : "inner", inner);

    /// <summary>Whether to drop the inner module's activations and recompute them in backward (off: it runs as itself). Off by default.</summary>
    public bool Enabled { get; set; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var tape = x.Device.Tape;
        if (!Enabled || !tape.IsRecording) return inner.Forward(x);
        Tensor y;
        using (new BatchNormStatisticsScope(this, BatchNormStatistics.BatchKeptForRecompute))
            y = Functional.Unrecorded(x.Device, () => inner.Forward(x));
        tape.RecordConsuming("recomputed " + inner.GetType().Name, y, [x], [x], (saved, grads) => [Backward(saved[0], grads[0]!)], hasParameters: true);
        return y;
    }

    /// <summary>Consumes the input x and the output gradient gy; returns the owned input gradient.</summary>
    Tensor Backward(Tensor x, Tensor gy)
    {
        var device = x.Device;
        using var recompute = new BatchNormStatisticsScope(this, BatchNormStatistics.Kept);
        var local = new Tape();
        bool requiredGrad = x.RequiresGrad;
        try
        {
            using (device.UseTape(local))
            {
                x.RequiresGrad = true;
                // The rerun's records hold what its backward needs; its outputs (keys for the seeds) and the input are dead.
                // A module that computes its output as two halves reruns without the concatenation, seeded with gy's halves.
                Tensor?[] grads;
                if (inner is IHalvesForward halves)
                {
                    var (y1, y2) = halves.ForwardHalvesConsuming(x); // x is freed once split, not held through the rerun
                    y1.Release();
                    y2.Release();
                    var (gy1, gy2) = Functional.Unrecorded(device, () => Functional.SplitChannels(gy, gy[1] / 2));
                    gy.Release();
                    grads = local.BackwardConsumingSeeds([y1, y2], [gy1, gy2], x);
                }
                else
                {
                    var y = inner.Forward(x);
                    y.Release();
                    x.Release();
                    grads = local.BackwardConsumingSeed(y, gy, x);
                }
                return grads[0] ?? Tensor.Zeros(device, x.Shape);
            }
        }
        finally
        {
            x.RequiresGrad = requiredGrad;
        }
    }
}
