using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// Affine coupling with a bounded scale: y = x ⊙ sigmoid(S(c) + 2) + T(c); x = (y − T(c)) / sigmoid(S(c) + 2). The scale lies
/// in (0, 1) (0.88 where S is 0), as memcnn's AffineAdapterSigmoid and Glow bound it, so no initialisation overflows it as
/// exp(S) can. As in Glow, the last <see cref="Conv2d"/> or <see cref="Linear"/> of S and of T starts at zero (their
/// <see cref="Parameter.Init"/> is set here; set it again to choose otherwise): the coupling starts as y = 0.88·x and
/// learns its scale from there, where random last layers let the scale collapse toward 0 within a few steps of SGD and the
/// inverse's division then overflow. Exact form: <see cref="ExactScaleShift"/>, which keeps the bits the scaling drops in the run's information
/// buffer and gives them back in the inverse.
/// </summary>
public sealed class AffineCoupling : Coupling
{
    readonly Module s, t;

    /// <param name="s">the scale's pre-activation S(c), same shape as the coupled half</param>
    /// <param name="t">the shift T(c), same shape as the coupled half</param>
    public AffineCoupling(Module s, Module t)
    {
        this.s = Add("s", s);
        this.t = Add("t", t);
        ZeroLastLayer(s);
        ZeroLastLayer(t);
    }

    /// <summary>The last convolution or linear layer below <paramref name="module"/>, depth first, starts at zero.</summary>
    static void ZeroLastLayer(Module module)
    {
        var zero = Parameter.Constant(0f);
        switch (module.Modules().LastOrDefault(m => m is Conv2d or Linear))
        {
            case Conv2d conv:
                conv.Weight.Init = zero;
                if (conv.Bias is { } bias) bias.Init = zero;
                break;
            case Linear linear:
                linear.Weight.Init = zero;
                linear.Bias.Init = zero;
                break;
        }
    }

    /// <inheritdoc/>
    public override Tensor[] Transform(Tensor condition) => [s.Forward(condition), t.Forward(condition)];

    /// <inheritdoc/>
    public override Tensor Apply(Tensor x, Tensor[] transform) => Functional.ScaleShiftConsuming(x, transform[0], transform[1]);

    /// <inheritdoc/>
    public override Tensor Invert(Tensor y, Tensor[] transform) => Functional.UnscaleShift(y, transform[0], transform[1]);

    /// <inheritdoc/>
    public override Tensor ApplyExact(Tensor x, Tensor[] transform, FixedPointFormat format, FixedPointRun run, int slot) =>
        Functional.ExactScaleShiftConsuming(x, transform[0], transform[1], run.Information(x), format, run.Flag(slot));

    /// <summary>
    /// x rebuilt (into y's memory when only the caller holds it), then dL/dx and dL/dS from the coupling's own backward and dL/dc
    /// from S's and T's local tape seeded with dL/dS and dL/dy, added to <paramref name="gCondition"/>: S and T run once, the
    /// coupling is not re-applied.
    /// </summary>
    public override (Tensor Input, Tensor GInput, Tensor GCondition) InvertAndDifferentiate(Tensor output, Tensor condition, Tensor gOutput, Tensor gCondition) =>
        Rebuild(output, condition, gOutput, gCondition, (y, scale, shift) =>
        {
            var x = Functional.UnscaleShift(y, scale, shift);
            y.Release();
            return x;
        });

    /// <inheritdoc/>
    public override (Tensor Input, Tensor GInput, Tensor GCondition) InvertAndDifferentiateExact(Tensor output, Tensor condition, Tensor gOutput, Tensor gCondition,
        FixedPointFormat format, FixedPointRun run) =>
        Rebuild(output, condition, gOutput, gCondition, (y, scale, shift) => Functional.ExactUnscaleShiftConsuming(y, scale, shift, run.Information(y), format));

    (Tensor Input, Tensor GInput, Tensor GCondition) Rebuild(Tensor output, Tensor condition, Tensor gOutput, Tensor gCondition,
        Func<Tensor, Tensor, Tensor, Tensor> invertConsuming)
    {
        var device = output.Device;
        var local = new Tape();
        using (device.UseTape(local))
        {
            condition.RequiresGrad = true;
            var scale = s.Forward(condition);
            var shift = t.Forward(condition);
            var input = Functional.Unrecorded(device, () => invertConsuming(output, scale, shift));
            var (gInput, gScale) = Functional.ScaleShiftBackward(input, scale, gOutput);
            scale.Release(); // from here only keys for the seeds: S's and T's records hold what their backward needs
            shift.Release();
            // gCondition seeds the condition itself, so T's and S's parts are added to it as the stored run's tape adds them.
            var total = local.BackwardConsumingSeeds([scale, shift, condition], [gScale, gOutput, gCondition], condition)[0]!;
            condition.RequiresGrad = false;
            return (input, gInput, total);
        }
    }
}
