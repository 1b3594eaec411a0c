using ILGPU;
using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>
    /// y = x·sigmoid(s + 2) + t (same shapes): an affine coupling with a bounded scale in (0, 1), as memcnn's
    /// AffineAdapterSigmoid and Glow, which cannot overflow as exp(s) does. Saves x and s.
    /// </summary>
    public static Tensor ScaleShift(Tensor x, Tensor s, Tensor t)
    {
        RequireCouplingShapes("scale shift", x, s, t);
        var device = x.Device;
        var y = Tensor.Empty(device, x.Shape);
        Launch(device, k => k.Coupling.ScaleShift(x.View, s.View, t.View, y.View));
        RecordScaleShift("scale shift", y, x, s, t);
        return y;
    }

    /// <summary>x = (y − t) / sigmoid(s + 2): <see cref="ScaleShift"/> undone up to float32 rounding. Not recorded.</summary>
    public static Tensor UnscaleShift(Tensor y, Tensor s, Tensor t)
    {
        RequireCouplingShapes("unscale shift", y, s, t);
        var x = Tensor.Empty(y.Device, y.Shape);
        Launch(y.Device, k => k.Coupling.UnscaleShift(y.View, s.View, t.View, x.View));
        return x;
    }

    /// <summary>
    /// The gradients of x and s for y = x·sigmoid(s + 2) + t (float or exact) from gy: gx = gy·scale, gs = gy·x·scale·(1 − scale);
    /// t's gradient is gy itself. Not recorded; both results owned.
    /// </summary>
    public static (Tensor GX, Tensor GS) ScaleShiftBackward(Tensor x, Tensor s, Tensor gy)
    {
        RequireCouplingShapes("scale shift backward", x, s, gy);
        var device = x.Device;
        var gx = Tensor.Empty(device, x.Shape);
        var gs = Tensor.Empty(device, x.Shape);
        Launch(device, k => k.Coupling.ScaleShiftBackward(x.View, s.View, gy.View, gx.View, gs.View));
        return (gx, gs);
    }

    /// <summary>
    /// x rounded to the grid of <paramref name="format"/>, consuming x (rounded in place when only the caller holds it). Recorded
    /// with the identity gradient: rounding passes gradients through unchanged (the straight-through estimator). Sets
    /// <paramref name="overflow"/> (one int) when a value is out of range or NaN.
    /// </summary>
    public static Tensor RoundToFixedPointConsuming(Tensor x, FixedPointFormat format, Tensor overflow)
    {
        var device = x.Device;
        var y = x.IsExclusive ? x.Reshape(x.Shape) : Tensor.Empty(device, x.Shape);
        Launch(device, k => k.Coupling.Round(format, x.View, y.View, overflow.IntView));
        x.Release();
        device.Tape.Record("round to fixed point", y, [x], [], grads => [grads[0]!.Retain()]);
        return y;
    }

    /// <summary>
    /// y = x + round(f) for x on the grid of <paramref name="format"/>: integer addition, exact while in range, undone bit for bit
    /// by <see cref="SubtractRoundedConsuming"/>. Consumes x (written into when only the caller holds it: the op saves nothing)
    /// and borrows f. Recorded as an add (identity gradients to both). Sets <paramref name="overflow"/> (one int) when a value
    /// leaves the range or is NaN.
    /// </summary>
    public static Tensor AddRoundedConsuming(Tensor x, Tensor f, FixedPointFormat format, Tensor overflow)
    {
        RequireSameShape("add rounded", x, f);
        var device = x.Device;
        var y = x.IsExclusive ? x.Reshape(x.Shape) : Tensor.Empty(device, x.Shape);
        Launch(device, k => k.Coupling.AddRounded(format, x.View, f.View, y.View, overflow.IntView));
        x.Release();
        device.Tape.Record("add rounded", y, [x, f], [], grads => [grads[0]!.Retain(), grads[0]!.Retain()]);
        return y;
    }

    /// <summary>x = y − round(f), consuming y and borrowing f (written into y when only the caller holds it). Not recorded.</summary>
    public static Tensor SubtractRoundedConsuming(Tensor y, Tensor f, FixedPointFormat format)
    {
        RequireSameShape("subtract rounded", y, f);
        var x = y.IsExclusive ? y.Reshape(y.Shape) : Tensor.Empty(y.Device, y.Shape);
        Launch(y.Device, k => k.Coupling.SubtractRounded(format, y.View, f.View, x.View));
        y.Release();
        return x;
    }

    /// <summary>
    /// A zeroed information buffer for exact affine couplings on halves of shape <paramref name="shape"/>: one 64-bit word per
    /// element (<see cref="Kernels.ExactScaleShift"/>), held as twice as many floats.
    /// </summary>
    public static Tensor InformationBuffer(Device device, int[] shape) => Tensor.Zeros(device, [2, .. shape]);

    /// <summary>
    /// <see cref="ScaleShift"/> consuming x: written into x's memory when only the caller holds it and the tape is not recording
    /// (a recorded scale-shift saves x).
    /// </summary>
    public static Tensor ScaleShiftConsuming(Tensor x, Tensor s, Tensor t)
    {
        if (!InPlaceUnrecorded(x))
        {
            var y = ScaleShift(x, s, t);
            x.Release();
            return y;
        }
        RequireCouplingShapes("scale shift", x, s, t);
        Launch(x.Device, k => k.Coupling.ScaleShift(x.View, s.View, t.View, x.View));
        return x;
    }

    /// <summary>
    /// y = x·scale(s) + t exactly in fixed point (<see cref="Kernels.ExactScaleShift"/>), pushing the bits the scaling drops
    /// onto <paramref name="information"/>. Consumes x (written into when only the caller holds it and the tape is not
    /// recording). Recorded with <see cref="ScaleShift"/>'s gradients; saves x and s.
    /// </summary>
    public static Tensor ExactScaleShiftConsuming(Tensor x, Tensor s, Tensor t, Tensor information, FixedPointFormat format, Tensor overflow)
    {
        RequireCouplingShapes("exact scale shift", x, s, t);
        RequireInformation("exact scale shift", information, x);
        var device = x.Device;
        bool inPlace = InPlaceUnrecorded(x);
        var y = inPlace ? x : Tensor.Empty(device, x.Shape);
        Launch(device, k => k.Coupling.ExactScaleShiftForward(format, x.View, s.View, t.View, Words(information), y.View, overflow.IntView));
        if (inPlace) return y;
        RecordScaleShift("exact scale shift", y, x, s, t);
        x.Release();
        return y;
    }

    /// <summary>
    /// The x that <see cref="ExactScaleShiftConsuming"/> mapped to y, bit for bit, consuming y (written into y when only the caller holds
    /// it) and popping the bits off <paramref name="information"/>. Not recorded.
    /// </summary>
    public static Tensor ExactUnscaleShiftConsuming(Tensor y, Tensor s, Tensor t, Tensor information, FixedPointFormat format)
    {
        RequireCouplingShapes("exact unscale shift", y, s, t);
        RequireInformation("exact unscale shift", information, y);
        var x = y.IsExclusive ? y.Reshape(y.Shape) : Tensor.Empty(y.Device, y.Shape);
        Launch(y.Device, k => k.Coupling.ExactScaleShiftInverse(format, y.View, s.View, t.View, Words(information), x.View));
        y.Release();
        return x;
    }

    static void RecordScaleShift(string op, Tensor y, Tensor x, Tensor s, Tensor t) =>
        y.Device.Tape.Record(op, y, [x, s, t], [x, s], grads =>
        {
            var (gx, gs) = ScaleShiftBackward(x, s, grads[0]!);
            return [gx, gs, grads[0]!.Retain()];
        });

    static ArrayView<ulong> Words(Tensor information) => information.View.Cast<ulong>();

    /// <summary>Whether an op that would save x may overwrite it instead: only the caller holds it and nothing records.</summary>
    static bool InPlaceUnrecorded(Tensor x) => x.IsExclusive && !x.Device.Tape.IsRecording;

    static void RequireCouplingShapes(string op, Tensor x, Tensor s, Tensor t)
    {
        RequireSameShape(op, x, s);
        RequireSameShape(op, x, t);
        RequireSameDevice(op, x, s);
        RequireSameDevice(op, x, t);
    }

    static void RequireInformation(string op, Tensor information, Tensor x)
    {
        if (information.Length != 2 * x.Length)
            throw new ArgumentException($"{op}: the information buffer must hold one 64-bit word per element of {x.ShapeString}, got {information.ShapeString}");
    }
}
