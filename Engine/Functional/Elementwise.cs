using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>y = a + b (same shapes). Saves nothing.</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        RequireSameShape("add", a, b);
        RequireSameDevice("add", a, b);
        var device = a.Device;
        var y = Tensor.Empty(device, a.Shape);
        Launch(device, k => k.Elementwise.Add(a.View, b.View, y.View));
        // Both inputs get the output's gradient itself, not copies; accumulation never writes into a shared gradient.
        device.Tape.Record("add", y, [a, b], [], grads => [grads[0]!.Retain(), grads[0]!.Retain()]);
        return y;
    }

    /// <summary>
    /// y = a + b recorded as <see cref="Add"/>, consuming a: when only the caller holds a, y is written into a's memory
    /// (a new tensor over it, so the tape still tells the two apart; add saves nothing, so no record needs a's old values).
    /// </summary>
    public static Tensor AddConsuming(Tensor a, Tensor b)
    {
        if (!a.IsExclusive)
        {
            var sum = Add(a, b);
            a.Release();
            return sum;
        }
        RequireSameShape("add", a, b);
        RequireSameDevice("add", a, b);
        var device = a.Device;
        var y = a.Reshape(a.Shape);
        a.Release();
        Launch(device, k => k.Elementwise.Add(y.View, b.View, y.View));
        device.Tape.Record("add", y, [a, b], [], grads => [grads[0]!.Retain(), grads[0]!.Retain()]);
        return y;
    }

    /// <summary>y = a - b (same shapes). Saves nothing.</summary>
    public static Tensor Subtract(Tensor a, Tensor b)
    {
        RequireSameShape("subtract", a, b);
        RequireSameDevice("subtract", a, b);
        var device = a.Device;
        var y = Tensor.Empty(device, a.Shape);
        Launch(device, k => k.Elementwise.Subtract(a.View, b.View, y.View));
        device.Tape.Record("subtract", y, [a, b], [], grads =>
        {
            var gy = grads[0]!;
            var gb = Tensor.Empty(device, b.Shape);
            Launch(device, k => k.Elementwise.Scale(gy.View, -1f, gb.View));
            return [gy.Retain(), gb];
        });
        return y;
    }

    /// <summary>y = a ⊙ b (same shapes). Saves a and b.</summary>
    public static Tensor Multiply(Tensor a, Tensor b)
    {
        RequireSameShape("multiply", a, b);
        RequireSameDevice("multiply", a, b);
        var device = a.Device;
        var y = Tensor.Empty(device, a.Shape);
        Launch(device, k => k.Elementwise.Multiply(a.View, b.View, y.View));
        device.Tape.Record("multiply", y, [a, b], [a, b], grads =>
        {
            var gy = grads[0]!;
            Tensor? ga = null, gb = null;
            if (a.RequiresGrad)
            {
                ga = Tensor.Empty(device, a.Shape);
                Launch(device, k => k.Elementwise.Multiply(gy.View, b.View, ga.View));
            }
            if (b.RequiresGrad)
            {
                gb = Tensor.Empty(device, b.Shape);
                Launch(device, k => k.Elementwise.Multiply(gy.View, a.View, gb.View));
            }
            return [ga, gb];
        });
        return y;
    }

    /// <summary>y = alpha·x. Saves nothing.</summary>
    public static Tensor Scale(Tensor x, float alpha)
    {
        var device = x.Device;
        var y = Tensor.Empty(device, x.Shape);
        Launch(device, k => k.Elementwise.Scale(x.View, alpha, y.View));
        device.Tape.Record("scale", y, [x], [], grads =>
        {
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.Elementwise.Scale(grads[0]!.View, alpha, gx.View));
            return [gx];
        });
        return y;
    }

    /// <summary>y = exp(x). Saves its output (the derivative).</summary>
    public static Tensor Exp(Tensor x)
    {
        var device = x.Device;
        var y = Tensor.Empty(device, x.Shape);
        Launch(device, k => k.Elementwise.Exp(x.View, y.View));
        device.Tape.Record("exp", y, [x], [y], grads =>
        {
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.Elementwise.Multiply(grads[0]!.View, y.View, gx.View));
            return [gx];
        });
        return y;
    }

    /// <summary>A new tensor with the same values; not recorded.</summary>
    public static Tensor Copy(Tensor x)
    {
        var y = Tensor.Empty(x.Device, x.Shape);
        Launch(x.Device, k => k.Elementwise.Copy(x.View, y.View));
        return y;
    }

    /// <summary>
    /// a + b, consuming both (the caller's references pass in, an owned result comes out): written into whichever of the two only the caller holds, so
    /// accumulating gradients allocates nothing unless both are shared. Not recorded.
    /// </summary>
    public static Tensor AddConsumingBoth(Tensor a, Tensor b)
    {
        RequireSameShape("add consuming both", a, b);
        if (!a.IsExclusive && b.IsExclusive) (a, b) = (b, a);
        if (a.IsExclusive)
        {
            AddInPlace(a, b);
            b.Release();
            return a;
        }
        var sum = Unrecorded(a.Device, () => Add(a, b));
        a.Release();
        b.Release();
        return sum;
    }

    /// <summary>a − b, consuming a and borrowing b (an owned result comes out): written into a when only the caller holds it. Not recorded.</summary>
    public static Tensor SubtractConsuming(Tensor a, Tensor b)
    {
        RequireSameShape("subtract consuming", a, b);
        if (!a.IsExclusive)
        {
            var difference = Unrecorded(a.Device, () => Subtract(a, b));
            a.Release();
            return difference;
        }
        Launch(a.Device, k => k.Elementwise.Subtract(a.View, b.View, a.View));
        return a;
    }

    /// <summary>target += source, in place; not recorded (gradient accumulation and bookkeeping only).</summary>
    public static void AddInPlace(Tensor target, Tensor source)
    {
        RequireSameShape("add in place", target, source);
        Launch(target.Device, k => k.Elementwise.Axpy(1f, source.View, target.View));
    }
}
