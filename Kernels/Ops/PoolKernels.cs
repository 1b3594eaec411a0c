using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Average pooling on NCHW tensors. Nothing is saved for backward: each window's weight is a constant of the shape.
/// <list type="bullet">
/// <item>2x2, stride 2: x [N,C,H,W] → y [N,C,H/2,W/2] (floor: an odd trailing row or column is ignored and gets zero
/// gradient), or with ceil → [N,C,⌈H/2⌉,⌈W/2⌉] as if x were zero-padded to even size, which matches a stride-2 3x3
/// convolution's output on odd inputs. The RevNet downsampling shortcut also appends zero channels in the same
/// call (<see cref="AvgPool2x2PadChannelsForward"/>).</item>
/// <item>Global: x [N,C,HW] → y [N,C], the mean over HW, before the classifier.</item>
/// </list>
/// Forms: Kernels/Ilgpu/PoolIlgpu.cs, Kernels/Host/PoolHost.cs.
/// </summary>
public abstract class PoolKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>Output size of the 2x2 pool: floor (PyTorch's default) or ceil (zero-padded to even size).</summary>
    public static Index2D AvgPool2x2OutputSize(int h, int w, bool ceil) => ceil ? new((h + 1) / 2, (w + 1) / 2) : new(h / 2, w / 2);

    /// <summary>y[n,c,i,j] = ¼ Σ x[n,c,2i..2i+1,2j..2j+1] (positions past the edge count as zero); y is [N,C,ho,wo] per <see cref="AvgPool2x2OutputSize"/>.</summary>
    public void AvgPool2x2Forward(int n, int c, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil = false) =>
        AvgPool2x2PadChannelsForward(n, c, c, h, w, x, y, ceil);

    /// <summary>gx = gy/4 spread over each window (overwritten); zero in a row or column a floor pool dropped.</summary>
    public void AvgPool2x2Backward(int n, int c, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil = false) =>
        AvgPool2x2PadChannelsBackward(n, c, c, h, w, gy, gx, ceil);

    /// <summary>The 2x2 pool of x [N,C,H,W] with cOut − C zero channels appended: y [N,cOut,ho,wo].</summary>
    public void AvgPool2x2PadChannelsForward(int n, int c, int cOut, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil = false)
    {
        const string op = "avg pool 2x2";
        CheckPool(op, n, c, cOut, h, w);
        var o = AvgPool2x2OutputSize(h, w, ceil);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * h * w);
        ShapeCheck.Length(op, "y", y.Length, (long)n * cOut * o.X * o.Y);
        Enter();
        AvgPool2x2PadChannelsForwardCore(n, c, cOut, h, w, x, y, ceil);
    }

    /// <summary>gx = the 2x2 pool's backward of the first C channels of gy [N,cOut,ho,wo] (overwritten); the padded channels were constants.</summary>
    public void AvgPool2x2PadChannelsBackward(int n, int c, int cOut, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil = false)
    {
        const string op = "avg pool 2x2 backward";
        CheckPool(op, n, c, cOut, h, w);
        var o = AvgPool2x2OutputSize(h, w, ceil);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * cOut * o.X * o.Y);
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * c * h * w);
        Enter();
        AvgPool2x2PadChannelsBackwardCore(n, c, cOut, h, w, gy, gx, ceil);
    }

    /// <summary>y[n,c] = mean over hw of x[n,c,hw].</summary>
    public void GlobalAvgPoolForward(int n, int c, int hw, ArrayView<float> x, ArrayView<float> y)
    {
        const string op = "global avg pool";
        CheckGlobal(op, n, c, hw);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
        ShapeCheck.Length(op, "y", y.Length, (long)n * c);
        Enter();
        GlobalAvgPoolForwardCore(n, c, hw, x, y);
    }

    /// <summary>gx[n,c,hw] = gy[n,c]/HW (overwritten).</summary>
    public void GlobalAvgPoolBackward(int n, int c, int hw, ArrayView<float> gy, ArrayView<float> gx)
    {
        const string op = "global avg pool backward";
        CheckGlobal(op, n, c, hw);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * c);
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * c * hw);
        Enter();
        GlobalAvgPoolBackwardCore(n, c, hw, gy, gx);
    }

    /// <summary>The backend's form of <see cref="AvgPool2x2PadChannelsForward"/> (and <see cref="AvgPool2x2Forward"/>, with cOut = c): arguments already checked.</summary>
    protected abstract void AvgPool2x2PadChannelsForwardCore(int n, int c, int cOut, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil);

    /// <summary>The backend's form of <see cref="AvgPool2x2PadChannelsBackward"/> (and <see cref="AvgPool2x2Backward"/>, with cOut = c): arguments already checked.</summary>
    protected abstract void AvgPool2x2PadChannelsBackwardCore(int n, int c, int cOut, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil);

    /// <summary>The backend's form of <see cref="GlobalAvgPoolForward"/>: arguments already checked.</summary>
    protected abstract void GlobalAvgPoolForwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> y);

    /// <summary>The backend's form of <see cref="GlobalAvgPoolBackward"/>: arguments already checked.</summary>
    protected abstract void GlobalAvgPoolBackwardCore(int n, int c, int hw, ArrayView<float> gy, ArrayView<float> gx);

    static void CheckPool(string op, int n, int c, int cOut, int h, int w)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        if (cOut < c) throw new ArgumentException($"{op}: cOut must be at least c = {c}, got {cOut}");
        if (h < 2 || w < 2) throw new ArgumentException($"{op}: h and w must be at least 2, got {h}x{w}");
    }

    static void CheckGlobal(string op, int n, int c, int hw)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        ShapeCheck.Positive(op, "hw", hw);
    }
}
