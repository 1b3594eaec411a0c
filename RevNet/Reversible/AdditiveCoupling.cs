using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// Additive coupling (RevNet): y = x + F(c); x = y − F(c). Exact form: y = x + round(F(c)) on a fixed-point grid, integer
/// addition that y − round(F(c)) undoes bit for bit whenever F(c) is recomputed bit for bit.
/// </summary>
public sealed class AdditiveCoupling : Coupling
{
    readonly Module f;

    /// <summary>y = x + <paramref name="f"/>(c): <paramref name="f"/> maps the conditioning half to the coupled half's shape (state-dict name "f").</summary>
    public AdditiveCoupling(Module f) => this.f = Add("f", f);

    /// <inheritdoc/>
    public override Tensor[] Transform(Tensor condition) => [f.Forward(condition)];

    /// <inheritdoc/>
    public override Tensor Apply(Tensor x, Tensor[] transform) => Functional.AddConsuming(x, transform[0]);

    /// <inheritdoc/>
    public override Tensor Invert(Tensor y, Tensor[] transform) => Functional.Subtract(y, transform[0]);

    /// <inheritdoc/>
    public override Tensor ApplyExact(Tensor x, Tensor[] transform, FixedPointFormat format, FixedPointRun run, int slot) =>
        Functional.AddRoundedConsuming(x, transform[0], format, run.Flag(slot));

    /// <summary>
    /// x = y − F(c) written into y's memory when only the caller holds it; dL/dx = dL/dy passed on as the same tensor;
    /// dL/dc from F's local tape seeded with dL/dy, added to <paramref name="gCondition"/>. No tensor is made only to give the
    /// tape an output.
    /// </summary>
    public override (Tensor Input, Tensor GInput, Tensor GCondition) InvertAndDifferentiate(Tensor output, Tensor condition, Tensor gOutput, Tensor gCondition) =>
        Rebuild(output, condition, gOutput, gCondition, Functional.SubtractConsuming);

    /// <inheritdoc/>
    public override (Tensor Input, Tensor GInput, Tensor GCondition) InvertAndDifferentiateExact(Tensor output, Tensor condition, Tensor gOutput, Tensor gCondition,
        FixedPointFormat format, FixedPointRun run) =>
        Rebuild(output, condition, gOutput, gCondition, (y, fc) => Functional.SubtractRoundedConsuming(y, fc, format));

    (Tensor Input, Tensor GInput, Tensor GCondition) Rebuild(Tensor output, Tensor condition, Tensor gOutput, Tensor gCondition,
        Func<Tensor, Tensor, Tensor> subtractConsuming)
    {
        var device = output.Device;
        var local = new Tape();
        using (device.UseTape(local))
        {
            condition.RequiresGrad = true;
            var fc = f.Forward(condition);
            var input = subtractConsuming(output, fc);
            fc.Release(); // from here only a key for the seed: F's records hold what its backward needs
            // gCondition seeds the condition itself, so F's part is added to it as the stored run's tape adds it.
            var total = local.BackwardConsumingSeeds([fc, condition], [gOutput.Retain(), gCondition], condition)[0]!;
            condition.RequiresGrad = false;
            return (input, gOutput, total);
        }
    }
}
