using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// One half of a reversible block: y = Apply(x, Transform(c)) for a conditioning half c, invertible in x given
/// the same transform: x = Invert(y, Transform(c)). Transform runs the sub-network(s) once; a reconstructing
/// backward uses that one result both to invert and to differentiate.
/// </summary>
public abstract class Coupling : Module
{
    /// <summary>The sub-network outputs for conditioning half <paramref name="condition"/> (recorded on the tape).</summary>
    public abstract Tensor[] Transform(Tensor condition);

    /// <summary>y from x and the transform (recorded on the tape).</summary>
    public abstract Tensor Apply(Tensor x, Tensor[] transform);

    /// <summary>x from y and the transform; called with the tape not recording.</summary>
    public abstract Tensor Invert(Tensor y, Tensor[] transform);

    /// <summary>
    /// For output = Apply(input, Transform(condition)): rebuilds input from <paramref name="output"/> and back-propagates
    /// <paramref name="gOutput"/>, accumulating parameter gradients. Consumes output and gOutput (the caller's, possibly
    /// overwritten in place), borrows condition; returns the owned input and the gradients of input and condition.
    /// This general form re-applies the coupling under a local tape; <see cref="AdditiveCoupling"/> does it in place.
    /// </summary>
    public virtual (Tensor Input, Tensor GInput, Tensor GCondition) InvertAndDifferentiate(Tensor output, Tensor condition, Tensor gOutput)
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
            using var rebuilt = Apply(input, transform);
            Release(transform);
            var grads = local.Backward(rebuilt, gOutput, condition, input);
            gOutput.Release();
            condition.RequiresGrad = false;
            input.RequiresGrad = false;
            return (input, grads[1] ?? Tensor.Zeros(device, input.Shape), grads[0] ?? Tensor.Zeros(device, condition.Shape));
        }
    }

    /// <summary>Module.Forward is not meaningful for a coupling: it needs two inputs.</summary>
    public override Tensor Forward(Tensor x) =>
        throw new NotSupportedException($"{GetType().Name} couples two halves; use it inside a ReversibleBlock");

    public static void Release(Tensor[] transform)
    {
        foreach (var t in transform) t.Release();
    }
}

/// <summary>Additive coupling (RevNet): y = x + F(c); x = y − F(c).</summary>
public sealed class AdditiveCoupling : Coupling
{
    readonly Module f;

    public AdditiveCoupling(Module f) => this.f = Add("f", f);

    public override Tensor[] Transform(Tensor condition) => [f.Forward(condition)];

    public override Tensor Apply(Tensor x, Tensor[] transform) => Functional.Add(x, transform[0]);

    public override Tensor Invert(Tensor y, Tensor[] transform) => Functional.Subtract(y, transform[0]);

    /// <summary>
    /// x = y − F(c) written into y's memory when only the caller holds it; dL/dx = dL/dy passed on as the same tensor;
    /// dL/dc from F's local tape seeded with dL/dy. No tensor is made only to give the tape an output.
    /// </summary>
    public override (Tensor Input, Tensor GInput, Tensor GCondition) InvertAndDifferentiate(Tensor output, Tensor condition, Tensor gOutput)
    {
        var device = output.Device;
        var local = new Tape();
        using (device.UseTape(local))
        {
            condition.RequiresGrad = true;
            var fc = f.Forward(condition);
            var input = Functional.SubtractConsuming(output, fc);
            fc.Release(); // from here only a key for the seed: F's records hold what its backward needs
            var gCondition = local.Backward(fc, gOutput, condition)[0] ?? Tensor.Zeros(device, condition.Shape);
            condition.RequiresGrad = false;
            return (input, gOutput, gCondition);
        }
    }
}

/// <summary>Affine coupling (as in Real NVP): y = x ⊙ exp(S(c)) + T(c); x = (y − T(c)) ⊙ exp(−S(c)).</summary>
public sealed class AffineCoupling : Coupling
{
    readonly Module s, t;

    public AffineCoupling(Module s, Module t)
    {
        this.s = Add("s", s);
        this.t = Add("t", t);
    }

    public override Tensor[] Transform(Tensor condition) => [s.Forward(condition), t.Forward(condition)];

    public override Tensor Apply(Tensor x, Tensor[] transform)
    {
        using var scale = Functional.Exp(transform[0]);
        using var scaled = Functional.Multiply(x, scale);
        return Functional.Add(scaled, transform[1]);
    }

    public override Tensor Invert(Tensor y, Tensor[] transform)
    {
        using var negated = Functional.Scale(transform[0], -1f);
        using var inverseScale = Functional.Exp(negated);
        using var shifted = Functional.Subtract(y, transform[1]);
        return Functional.Multiply(shifted, inverseScale);
    }
}
