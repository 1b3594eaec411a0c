using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// The element-wise arithmetic of reversible couplings over equal-length views (one half of a block's channels):
/// <list type="bullet">
/// <item>the affine coupling with a bounded scale, y = x·sigmoid(s + 2) + t (<see cref="CouplingArithmetic.Scale(float)"/>), its
/// inverse and its backward;</item>
/// <item>exact (fixed-point) coupling in a <see cref="FixedPointFormat"/>: rounding to the grid, y = x ± round(f) for additive
/// couplings, and <see cref="ExactScaleShift"/> for affine ones with its per-element information buffer.</item>
/// </list>
/// The forward fixed-point ops set <c>overflow[0]</c> to a nonzero code (<see cref="ExactScaleShift.OutOfRange"/>,
/// <see cref="ExactScaleShift.BufferFull"/>) when any element leaves the range or is NaN, and never clear it, so one flag can
/// collect a whole forward; the caller reads it once. Inverses of values a forward produced cannot overflow and take no flag.
/// Outputs may be the inputs they replace (y == x). Forms: Kernels/Ilgpu/CouplingIlgpu.cs, Kernels/Host/CouplingHost.cs.
/// </summary>
public abstract class CouplingKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>y = x·scale(s) + t.</summary>
    public void ScaleShift(ArrayView<float> x, ArrayView<float> s, ArrayView<float> t, ArrayView<float> y)
    {
        Check("scale shift", x.Length, ("s", s.Length), ("t", t.Length), ("y", y.Length));
        Enter();
        ScaleShiftCore(x, s, t, y);
    }

    /// <summary>x = (y − t) / scale(s): the inverse of <see cref="ScaleShift"/> up to float32 rounding.</summary>
    public void UnscaleShift(ArrayView<float> y, ArrayView<float> s, ArrayView<float> t, ArrayView<float> x)
    {
        Check("unscale shift", y.Length, ("s", s.Length), ("t", t.Length), ("x", x.Length));
        Enter();
        UnscaleShiftCore(y, s, t, x);
    }

    /// <summary>
    /// The backward of y = x·scale(s) + t (float or exact, whose rounding passes gradients through unchanged): gx = gy·scale(s),
    /// gs = gy·x·scale(s)·(1 − scale(s)); dL/dt is gy itself.
    /// </summary>
    public void ScaleShiftBackward(ArrayView<float> x, ArrayView<float> s, ArrayView<float> gy, ArrayView<float> gx, ArrayView<float> gs)
    {
        Check("scale shift backward", x.Length, ("s", s.Length), ("gy", gy.Length), ("gx", gx.Length), ("gs", gs.Length));
        Enter();
        ScaleShiftBackwardCore(x, s, gy, gx, gs);
    }

    /// <summary>y = x rounded to the grid; flags values out of range.</summary>
    public void Round(FixedPointFormat format, ArrayView<float> x, ArrayView<float> y, ArrayView<int> overflow)
    {
        Check("round to fixed point", x.Length, ("y", y.Length));
        ShapeCheck.Length("round to fixed point", "overflow", overflow.Length, 1);
        Enter();
        RoundCore(format, x, y, overflow);
    }

    /// <summary>y = x + round(f) for x on the grid; exact while in range; flags values out of range.</summary>
    public void AddRounded(FixedPointFormat format, ArrayView<float> x, ArrayView<float> f, ArrayView<float> y, ArrayView<int> overflow)
    {
        Check("add rounded", x.Length, ("f", f.Length), ("y", y.Length));
        ShapeCheck.Length("add rounded", "overflow", overflow.Length, 1);
        Enter();
        AddRoundedCore(format, x, f, y, overflow);
    }

    /// <summary>x = y − round(f): undoes <see cref="AddRounded"/> bit for bit.</summary>
    public void SubtractRounded(FixedPointFormat format, ArrayView<float> y, ArrayView<float> f, ArrayView<float> x)
    {
        Check("subtract rounded", y.Length, ("f", f.Length), ("x", x.Length));
        Enter();
        SubtractRoundedCore(format, y, f, x);
    }

    /// <summary><see cref="ExactScaleShift.Forward"/> per element: y from x on the grid, s and t; pushes onto information.</summary>
    public void ExactScaleShiftForward(FixedPointFormat format, ArrayView<float> x, ArrayView<float> s, ArrayView<float> t,
        ArrayView<ulong> information, ArrayView<float> y, ArrayView<int> overflow)
    {
        Check("exact scale shift", x.Length, ("s", s.Length), ("t", t.Length), ("information", information.Length), ("y", y.Length));
        ShapeCheck.Length("exact scale shift", "overflow", overflow.Length, 1);
        Enter();
        ExactScaleShiftCore(new ExactScaleShiftArgs(format, inverse: false, s, t, information, overflow), x, y);
    }

    /// <summary><see cref="ExactScaleShift.Inverse"/> per element: x from y, s and t; pops off information.</summary>
    public void ExactScaleShiftInverse(FixedPointFormat format, ArrayView<float> y, ArrayView<float> s, ArrayView<float> t,
        ArrayView<ulong> information, ArrayView<float> x)
    {
        Check("exact unscale shift", y.Length, ("s", s.Length), ("t", t.Length), ("information", information.Length), ("x", x.Length));
        Enter();
        ExactScaleShiftCore(new ExactScaleShiftArgs(format, inverse: true, s, t, information, default), y, x);
    }

    static void Check(string op, long length, params (string Name, long Length)[] others)
    {
        foreach (var (name, other) in others) ShapeCheck.Length(op, name, other, length);
    }

    /// <summary>The backend's form of <see cref="ScaleShift"/>: arguments already checked.</summary>
    protected abstract void ScaleShiftCore(ArrayView<float> x, ArrayView<float> s, ArrayView<float> t, ArrayView<float> y);

    /// <summary>The backend's form of <see cref="UnscaleShift"/>: arguments already checked.</summary>
    protected abstract void UnscaleShiftCore(ArrayView<float> y, ArrayView<float> s, ArrayView<float> t, ArrayView<float> x);

    /// <summary>The backend's form of <see cref="ScaleShiftBackward"/>: arguments already checked.</summary>
    protected abstract void ScaleShiftBackwardCore(ArrayView<float> x, ArrayView<float> s, ArrayView<float> gy, ArrayView<float> gx, ArrayView<float> gs);

    /// <summary>The backend's form of <see cref="Round"/>: arguments already checked.</summary>
    protected abstract void RoundCore(FixedPointFormat format, ArrayView<float> x, ArrayView<float> y, ArrayView<int> overflow);

    /// <summary>The backend's form of <see cref="AddRounded"/>: arguments already checked.</summary>
    protected abstract void AddRoundedCore(FixedPointFormat format, ArrayView<float> x, ArrayView<float> f, ArrayView<float> y, ArrayView<int> overflow);

    /// <summary>The backend's form of <see cref="SubtractRounded"/>: arguments already checked.</summary>
    protected abstract void SubtractRoundedCore(FixedPointFormat format, ArrayView<float> y, ArrayView<float> f, ArrayView<float> x);

    /// <summary>Both directions in one form (so both run the very same scale computation); <c>args.Inverse</c> says which.</summary>
    protected abstract void ExactScaleShiftCore(ExactScaleShiftArgs args, ArrayView<float> input, ArrayView<float> output);
}

/// <summary>
/// The operands of an exact scale-shift launch besides its input and output: the format, the direction (an int: OpenCL
/// kernels take no bool), s, t, the information buffer and (forward only) the overflow flag. Public: ILGPU marshals it.
/// </summary>
public struct ExactScaleShiftArgs(FixedPointFormat format, bool inverse, ArrayView<float> s, ArrayView<float> t, ArrayView<ulong> information, ArrayView<int> overflow)
{
    /// <summary>The fixed-point grid of inputs and outputs.</summary>
    public FixedPointFormat Format = format;

    /// <summary>1 for the inverse (output x from input y), 0 for the forward.</summary>
    public int Inverse = inverse ? 1 : 0;

    /// <summary>The scale's pre-activation s, one per element.</summary>
    public ArrayView<float> S = s;

    /// <summary>The shift t, one per element.</summary>
    public ArrayView<float> T = t;

    /// <summary>The per-element information words, pushed by the forward and popped by the inverse (updated in place).</summary>
    public ArrayView<ulong> Information = information;

    /// <summary>The forward's one-int overflow flag (<see cref="ExactScaleShift.OutOfRange"/>, <see cref="ExactScaleShift.BufferFull"/>); empty for the inverse.</summary>
    public ArrayView<int> Overflow = overflow;

    /// <summary>Element i of input to output (both directions; the forward flags overflow).</summary>
    public readonly void Apply(ArrayView<float> input, ArrayView<float> output, int i)
    {
        float s = S[i];
        long n = ExactScaleShift.Numerator(s);
        var r = Inverse != 0
            ? ExactScaleShift.Inverse(Format, input[i], n, T[i], Information[i])
            : ExactScaleShift.Forward(Format, input[i], n, float.IsNaN(s), T[i], Information[i]);
        output[i] = r.Value;
        Information[i] = r.Information;
        if (r.Overflow != 0) Overflow[0] = r.Overflow;
    }
}
