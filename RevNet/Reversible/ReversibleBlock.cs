using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// A reversible block (Gomez et al. 2017) on x [N,C,H,W] split into halves x1, x2 on channels:
/// y1 = couple_F(x1; x2), y2 = couple_G(x2; y1), y = cat(y1, y2). Its inputs can be rebuilt from its output,
/// so a <see cref="ReversibleSequence"/> keeps none of them for backward.
/// </summary>
public sealed class ReversibleBlock : Module
{
    readonly Coupling f, g;

    /// <summary>A block with the RevNet's additive coupling: y1 = x1 + F(x2), y2 = x2 + G(y1).</summary>
    public ReversibleBlock(Module f, Module g) : this(new AdditiveCoupling(f), new AdditiveCoupling(g)) { }

    public ReversibleBlock(Coupling f, Coupling g)
    {
        this.f = Add("f", f);
        this.g = Add("g", g);
    }

    /// <summary>The ordinary forward; records everything on the tape when it is recording (the stored-activation mode).</summary>
    public override Tensor Forward(Tensor x)
    {
        var (x1, x2) = Functional.SplitChannels(x, x[1] / 2);
        var hf = f.Transform(x2);
        var y1 = f.Apply(x1, hf);
        Coupling.Release(hf);
        x1.Release();
        var hg = g.Transform(y1);
        var y2 = g.Apply(x2, hg);
        Coupling.Release(hg);
        x2.Release();
        var y = Functional.ConcatChannels(y1, y2);
        y1.Release();
        y2.Release();
        return y;
    }

    /// <summary>
    /// Rebuilds this block's input from its output <paramref name="y"/> and back-propagates <paramref name="gy"/>
    /// (both borrowed): x2 = G⁻¹(y2; y1), then x1 = F⁻¹(y1; x2), each sub-network run once under a local tape whose
    /// result serves both the inversion and the gradients. Parameter gradients accumulate; batch norm reuses the
    /// forward's statistics and leaves running statistics alone. Returns the owned input and input gradient.
    /// </summary>
    public (Tensor X, Tensor Gx) BackwardReconstruct(Tensor y, Tensor gy)
    {
        var device = y.Device;
        var batchNorms = Modules().OfType<BatchNorm2d>().ToList();
        foreach (var bn in batchNorms) bn.UseSavedStatistics = true;
        try
        {
            var (y1, y2) = Unrecorded(device, () => Functional.SplitChannels(y, y[1] / 2));
            var (gy1, gy2) = Unrecorded(device, () => Functional.SplitChannels(gy, gy[1] / 2));

            // y2 = couple_G(x2; y1): rebuild x2, then d/dy1 and d/dx2 of that coupling.
            var (x2, gy1FromG, gx2FromG) = InvertAndDifferentiate(device, g, y2, y1, gy2);
            y2.Release();
            gy2.Release();
            var gy1Total = Unrecorded(device, () => Functional.Add(gy1, gy1FromG));
            gy1.Release();
            gy1FromG.Release();

            // y1 = couple_F(x1; x2): rebuild x1, then d/dx2 and d/dx1.
            var (x1, gx2FromF, gx1) = InvertAndDifferentiate(device, f, y1, x2, gy1Total);
            y1.Release();
            gy1Total.Release();
            var gx2 = Unrecorded(device, () => Functional.Add(gx2FromG, gx2FromF));
            gx2FromG.Release();
            gx2FromF.Release();

            var x = Unrecorded(device, () => Functional.ConcatChannels(x1, x2));
            var gx = Unrecorded(device, () => Functional.ConcatChannels(gx1, gx2));
            foreach (var t in new[] { x1, x2, gx1, gx2 }) t.Release();
            return (x, gx);
        }
        finally
        {
            foreach (var bn in batchNorms) bn.UseSavedStatistics = false;
        }
    }

    /// <summary>
    /// For out = coupling.Apply(in, Transform(cond)): rebuilds in from out, and returns it with the gradients
    /// of cond and of in for upstream gradient gOut (parameter gradients accumulate on the way).
    /// </summary>
    static (Tensor In, Tensor GCond, Tensor GIn) InvertAndDifferentiate(Device device, Coupling coupling, Tensor output, Tensor condition, Tensor gOutput)
    {
        var local = new Tape();
        using (device.UseTape(local))
        {
            condition.RequiresGrad = true;
            var transform = coupling.Transform(condition);
            local.IsRecording = false;
            var input = coupling.Invert(output, transform);
            local.IsRecording = true;
            input.RequiresGrad = true;
            using var rebuilt = coupling.Apply(input, transform);
            Coupling.Release(transform);
            var grads = local.Backward(rebuilt, gOutput, condition, input);
            condition.RequiresGrad = false;
            var gCond = grads[0] ?? Tensor.Zeros(device, condition.Shape);
            var gIn = grads[1] ?? Tensor.Zeros(device, output.Shape);
            input.RequiresGrad = false;
            return (input, gCond, gIn);
        }
    }

    static T Unrecorded<T>(Device device, Func<T> op)
    {
        var tape = device.Tape;
        bool was = tape.IsRecording;
        tape.IsRecording = false;
        try
        {
            return op();
        }
        finally
        {
            tape.IsRecording = was;
        }
    }
}
