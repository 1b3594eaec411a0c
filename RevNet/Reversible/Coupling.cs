using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// One half of a reversible block: y = Apply(x, Transform(c)) for a conditioning half c, invertible in x given
/// the same transform: x = Invert(y, Transform(c)). Transform runs the sub-network(s) once; a reconstructing
/// backward uses that one result both to invert and to differentiate. A coupling may also have an exact form
/// (<see cref="ApplyExact"/>): fixed-point arithmetic that <see cref="InvertAndDifferentiateExact"/> undoes bit for bit.
/// </summary>
public abstract class Coupling : Module
{
    /// <summary>The sub-network outputs for conditioning half <paramref name="condition"/> (recorded on the tape).</summary>
    public abstract Tensor[] Transform(Tensor condition);

    /// <summary>
    /// y from x and the transform (recorded on the tape), consuming x: a coupling may write y into x's memory when nothing
    /// else holds it (the reconstructing forward, where x is dead once coupled).
    /// </summary>
    public abstract Tensor Apply(Tensor x, Tensor[] transform);

    /// <summary>x from y and the transform; called with the tape not recording.</summary>
    public abstract Tensor Invert(Tensor y, Tensor[] transform);

    /// <summary>
    /// For output = Apply(input, Transform(condition)): rebuilds input from <paramref name="output"/> and back-propagates
    /// <paramref name="gOutput"/>, accumulating parameter gradients. <paramref name="gCondition"/> is the condition's gradient
    /// from everything after this coupling; the coupling's part is added to it in the order a recorded backward adds them, so
    /// the sums round as in the stored run. Consumes output, gOutput and gCondition (the caller's, possibly overwritten in
    /// place), borrows condition; returns the owned input, its gradient and the condition's whole gradient. This general form
    /// re-applies the coupling under a local tape; the built-in couplings do without the re-application.
    /// </summary>
    public virtual (Tensor Input, Tensor GInput, Tensor GCondition) InvertAndDifferentiate(Tensor output, Tensor condition, Tensor gOutput, Tensor gCondition)
    {
        var device = output.Device;
        var local = new Tape();
        using (device.UseTape(local))
        {
            condition.RequiresGrad = true;
            var transform = Transform(condition);
            var input = Functional.Unrecorded(device, () => Invert(output, transform));
            output.Release();
            input.RequiresGrad = true;
            var rebuilt = Apply(input.Retain(), transform);
            Release(transform);
            rebuilt.Release();
            var grads = local.BackwardConsumingSeeds([rebuilt, condition], [gOutput, gCondition], condition, input);
            condition.RequiresGrad = false;
            input.RequiresGrad = false;
            return (input, grads[1] ?? Tensor.Zeros(device, input.Shape), grads[0]!);
        }
    }

    /// <summary>
    /// The exact form of <see cref="Apply"/> for x on the grid of <paramref name="format"/>, consuming x likewise (recorded on the
    /// tape; gradients pass through the rounding unchanged): sets <paramref name="run"/>'s flag <paramref name="slot"/> on overflow.
    /// </summary>
    public virtual Tensor ApplyExact(Tensor x, Tensor[] transform, FixedPointFormat format, FixedPointRun run, int slot) =>
        throw new NotSupportedException($"{GetType().Name} has no exact (fixed-point) form; use AdditiveCoupling or AffineCoupling for exact reconstruction");

    /// <summary>
    /// <see cref="InvertAndDifferentiate"/> for output = ApplyExact(input, ...): the rebuilt input equals the forward's bit for
    /// bit. Ownership as there; <paramref name="run"/> holds what the forward pushed (popped here).
    /// </summary>
    public virtual (Tensor Input, Tensor GInput, Tensor GCondition) InvertAndDifferentiateExact(Tensor output, Tensor condition, Tensor gOutput, Tensor gCondition,
        FixedPointFormat format, FixedPointRun run) =>
        throw new NotSupportedException($"{GetType().Name} has no exact (fixed-point) form; use AdditiveCoupling or AffineCoupling for exact reconstruction");

    /// <summary>Module.Forward is not meaningful for a coupling: it needs two inputs.</summary>
    public override Tensor Forward(Tensor x) =>
        throw new NotSupportedException($"{GetType().Name} couples two halves; use it inside a ReversibleBlock");

    /// <summary>Releases every tensor of a transform.</summary>
    public static void Release(Tensor[] transform)
    {
        foreach (var t in transform) t.Release();
    }
}
