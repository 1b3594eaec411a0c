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

    public Recomputed(Module inner) => this.inner = Add("inner", inner);

    public bool Enabled { get; set; }

    public override Tensor Forward(Tensor x)
    {
        var tape = x.Device.Tape;
        if (!Enabled || !tape.IsRecording) return inner.Forward(x);
        var y = Functional.Unrecorded(x.Device, () => inner.Forward(x));
        tape.RecordConsuming("recomputed " + inner.GetType().Name, y, [x], [x], (saved, grads) => [Backward(saved[0], grads[0]!)], hasParameters: true);
        return y;
    }

    /// <summary>Consumes the input x and the output gradient gy; returns the owned input gradient.</summary>
    Tensor Backward(Tensor x, Tensor gy)
    {
        var device = x.Device;
        var batchNorms = Modules().OfType<BatchNorm2d>().ToList();
        foreach (var bn in batchNorms) bn.UseSavedStatistics = true;
        var local = new Tape();
        bool requiredGrad = x.RequiresGrad;
        try
        {
            using (device.UseTape(local))
            {
                x.RequiresGrad = true;
                var y = inner.Forward(x);
                // The rerun's records hold what its backward needs; the output (a key for the seed) and the input are dead.
                y.Release();
                x.Release();
                return local.BackwardConsumingSeed(y, gy, x)[0] ?? Tensor.Zeros(device, x.Shape);
            }
        }
        finally
        {
            x.RequiresGrad = requiredGrad;
            foreach (var bn in batchNorms) bn.UseSavedStatistics = false;
        }
    }
}
