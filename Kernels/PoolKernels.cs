using ILGPU;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Average pooling on NCHW tensors. Nothing is saved for backward: each window's weight is a constant of the shape.
/// <list type="bullet">
/// <item>2x2, stride 2: x [N,C,H,W] → y [N,C,H/2,W/2] (floor: an odd trailing row or column is ignored and gets zero
/// gradient), or with ceil → [N,C,⌈H/2⌉,⌈W/2⌉] as if x were zero-padded to even size, which matches a stride-2 3x3
/// convolution's output on odd inputs. The RevNet downsampling shortcut, which also appends zero channels in the same
/// launch (<see cref="AvgPool2x2PadChannelsForward"/>).</item>
/// <item>Global: x [N,C,HW] → y [N,C], the mean over HW, before the classifier.</item>
/// </list>
/// </summary>
public static class PoolKernels
{
    /// <summary>
    /// The 2x2 pool of x [N,C,H,W] into the first C of cOut channels of y [N,cOut,ho,wo], the rest zero; cOut = C is the
    /// plain pool. <paramref name="channels"/> is (C, cOut).
    /// </summary>
    static void AvgPool2x2ForwardKernel(ArrayView<float> x, ArrayView<float> y, Index2D inSize, Index2D outSize, Index2D channels)
    {
        int h = inSize.X, w = inSize.Y, ho = outSize.X, wo = outSize.Y, c = channels.X, cOut = channels.Y;
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int plane = i / (ho * wo), r = i % (ho * wo);
            int image = plane / cOut, ch = plane - image * cOut;
            if (ch >= c)
            {
                y[i] = 0f;
                continue;
            }
            int iy = r / wo * 2, ix = r % wo * 2;
            int top = ((image * c + ch) * h + iy) * w + ix;
            bool right = ix + 1 < w, below = iy + 1 < h;
            float sum = x[top] + (right ? x[top + 1] : 0f) + (below ? x[top + w] : 0f) + (right && below ? x[top + w + 1] : 0f);
            y[i] = 0.25f * sum;
        }
    }

    /// <summary>Backward of <see cref="AvgPool2x2ForwardKernel"/>: gx [N,C,H,W] from the first C channels of gy [N,cOut,ho,wo].</summary>
    static void AvgPool2x2BackwardKernel(ArrayView<float> gy, ArrayView<float> gx, Index2D inSize, Index2D outSize, Index2D channels)
    {
        int h = inSize.X, w = inSize.Y, ho = outSize.X, wo = outSize.Y, c = channels.X, cOut = channels.Y;
        for (int i = GridLoop.Start, end = gx.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int plane = i / (h * w), r = i % (h * w);
            int image = plane / c, ch = plane - image * c;
            int oy = r / w / 2, ox = r % w / 2;
            gx[i] = oy < ho && ox < wo ? 0.25f * gy[((image * cOut + ch) * ho + oy) * wo + ox] : 0f;
        }
    }

    static void GlobalAvgForwardKernel(ArrayView<float> x, ArrayView<float> y, int hw)
    {
        // One thread per (n, c) plane summing in order: deterministic, and HW is small where this pool is used.
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            float sum = 0f;
            for (int p = 0; p < hw; p++) sum += x[i * hw + p];
            y[i] = sum / hw;
        }
    }

    static void GlobalAvgBackwardKernel(ArrayView<float> gy, ArrayView<float> gx, int hw)
    {
        for (int i = GridLoop.Start, end = gx.IntLength, step = GridLoop.Stride; i < end; i += step)
            gx[i] = gy[i / hw] / hw;
    }

    /// <summary>Output size of the 2x2 pool: floor (PyTorch's default) or ceil (zero-padded to even size).</summary>
    public static Index2D AvgPool2x2OutputSize(int h, int w, bool ceil) => ceil ? new((h + 1) / 2, (w + 1) / 2) : new(h / 2, w / 2);

    /// <summary>y[n,c,i,j] = ¼ Σ x[n,c,2i..2i+1,2j..2j+1] (positions past the edge count as zero); y is [N,C,ho,wo] per <see cref="AvgPool2x2OutputSize"/>.</summary>
    public static void AvgPool2x2Forward(KernelContext k, int n, int c, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil = false) =>
        AvgPool2x2PadChannelsForward(k, n, c, c, h, w, x, y, ceil);

    /// <summary>gx = gy/4 spread over each window (overwritten); zero in a row or column a floor pool dropped.</summary>
    public static void AvgPool2x2Backward(KernelContext k, int n, int c, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil = false) =>
        AvgPool2x2PadChannelsBackward(k, n, c, c, h, w, gy, gx, ceil);

    /// <summary>
    /// The 2x2 pool of x [N,C,H,W] with cOut − C zero channels appended: y [N,cOut,ho,wo] (the RevNet downsampling
    /// shortcut, pool and channel padding in one launch).
    /// </summary>
    public static void AvgPool2x2PadChannelsForward(KernelContext k, int n, int c, int cOut, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil = false)
    {
        const string op = "avg pool 2x2";
        CheckPool(op, n, c, cOut, h, w);
        var o = AvgPool2x2OutputSize(h, w, ceil);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * h * w);
        ShapeCheck.Length(op, "y", y.Length, (long)n * cOut * o.X * o.Y);
        if (k.DispatchToHost()) { PoolHost.AvgPool2x2PadChannelsForward(n, c, cOut, h, w, HostMemory.Span(x), HostMemory.Span(y), ceil); return; }
        k.Load<ArrayView<float>, ArrayView<float>, Index2D, Index2D, Index2D>(AvgPool2x2ForwardKernel)(k.GridStride(y.Length), x, y, new Index2D(h, w), o, new Index2D(c, cOut));
    }

    /// <summary>gx = the 2x2 pool's backward of the first C channels of gy [N,cOut,ho,wo] (overwritten); the padded channels were constants.</summary>
    public static void AvgPool2x2PadChannelsBackward(KernelContext k, int n, int c, int cOut, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil = false)
    {
        const string op = "avg pool 2x2 backward";
        CheckPool(op, n, c, cOut, h, w);
        var o = AvgPool2x2OutputSize(h, w, ceil);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * cOut * o.X * o.Y);
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * c * h * w);
        if (k.DispatchToHost()) { PoolHost.AvgPool2x2PadChannelsBackward(n, c, cOut, h, w, HostMemory.Span(gy), HostMemory.Span(gx), ceil); return; }
        k.Load<ArrayView<float>, ArrayView<float>, Index2D, Index2D, Index2D>(AvgPool2x2BackwardKernel)(k.GridStride(gx.Length), gy, gx, new Index2D(h, w), o, new Index2D(c, cOut));
    }

    /// <summary>y[n,c] = mean over hw of x[n,c,hw].</summary>
    public static void GlobalAvgPoolForward(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> y)
    {
        const string op = "global avg pool";
        CheckGlobal(op, n, c, hw);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
        ShapeCheck.Length(op, "y", y.Length, (long)n * c);
        if (k.DispatchToHost()) { PoolHost.GlobalAvgPoolForward(n, c, hw, HostMemory.Span(x), HostMemory.Span(y)); return; }
        k.Load<ArrayView<float>, ArrayView<float>, int>(GlobalAvgForwardKernel)(k.GridStride(y.Length), x, y, hw);
    }

    /// <summary>gx[n,c,hw] = gy[n,c]/HW (overwritten).</summary>
    public static void GlobalAvgPoolBackward(KernelContext k, int n, int c, int hw, ArrayView<float> gy, ArrayView<float> gx)
    {
        const string op = "global avg pool backward";
        CheckGlobal(op, n, c, hw);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * c);
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * c * hw);
        if (k.DispatchToHost()) { PoolHost.GlobalAvgPoolBackward(n, c, hw, HostMemory.Span(gy), HostMemory.Span(gx)); return; }
        k.Load<ArrayView<float>, ArrayView<float>, int>(GlobalAvgBackwardKernel)(k.GridStride(gx.Length), gy, gx, hw);
    }

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
