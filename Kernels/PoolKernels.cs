using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Average pooling on NCHW tensors. Nothing is saved for backward: each window's weight is a constant of the shape.
/// <list type="bullet">
/// <item>2x2, stride 2, floor: x [N,C,H,W] → y [N,C,H/2,W/2]; an odd trailing row or column is ignored (and gets zero gradient).
/// The RevNet downsampling shortcut.</item>
/// <item>Global: x [N,C,HW] → y [N,C], the mean over HW, before the classifier.</item>
/// </list>
/// </summary>
public static class PoolKernels
{
    static void AvgPool2x2ForwardKernel(ArrayView<float> x, ArrayView<float> y, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        for (int i = GridLoop.Start; i < y.IntLength; i += GridLoop.Stride)
        {
            int plane = i / (ho * wo), r = i % (ho * wo);
            int top = (plane * h + r / wo * 2) * w + r % wo * 2;
            y[i] = 0.25f * (x[top] + x[top + 1] + x[top + w] + x[top + w + 1]);
        }
    }

    static void AvgPool2x2BackwardKernel(ArrayView<float> gy, ArrayView<float> gx, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        for (int i = GridLoop.Start; i < gx.IntLength; i += GridLoop.Stride)
        {
            int plane = i / (h * w), r = i % (h * w);
            int oy = r / w / 2, ox = r % w / 2;
            gx[i] = oy < ho && ox < wo ? 0.25f * gy[(plane * ho + oy) * wo + ox] : 0f;
        }
    }

    static void GlobalAvgForwardKernel(ArrayView<float> x, ArrayView<float> y, int hw)
    {
        // One thread per (n, c) plane summing in order: deterministic, and HW is small where this pool is used.
        for (int i = GridLoop.Start; i < y.IntLength; i += GridLoop.Stride)
        {
            float sum = 0f;
            for (int p = 0; p < hw; p++) sum += x[i * hw + p];
            y[i] = sum / hw;
        }
    }

    static void GlobalAvgBackwardKernel(ArrayView<float> gy, ArrayView<float> gx, int hw)
    {
        for (int i = GridLoop.Start; i < gx.IntLength; i += GridLoop.Stride)
            gx[i] = gy[i / hw] / hw;
    }

    /// <summary>y[n,c,i,j] = mean of x[n,c,2i..2i+1,2j..2j+1]; y is [N,C,h/2,w/2].</summary>
    public static void AvgPool2x2Forward(KernelContext k, int n, int c, int h, int w, ArrayView<float> x, ArrayView<float> y)
    {
        const string op = "avg pool 2x2";
        CheckPool(op, n, c, h, w);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * h * w);
        ShapeCheck.Length(op, "y", y.Length, (long)n * c * (h / 2) * (w / 2));
        k.Load<ArrayView<float>, ArrayView<float>, int, int>(AvgPool2x2ForwardKernel)(k.GridStride(y.Length), x, y, h, w);
    }

    /// <summary>gx = gy/4 spread over each window (overwritten); zero in a row or column the floor dropped.</summary>
    public static void AvgPool2x2Backward(KernelContext k, int n, int c, int h, int w, ArrayView<float> gy, ArrayView<float> gx)
    {
        const string op = "avg pool 2x2 backward";
        CheckPool(op, n, c, h, w);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * c * (h / 2) * (w / 2));
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * c * h * w);
        k.Load<ArrayView<float>, ArrayView<float>, int, int>(AvgPool2x2BackwardKernel)(k.GridStride(gx.Length), gy, gx, h, w);
    }

    /// <summary>y[n,c] = mean over hw of x[n,c,hw].</summary>
    public static void GlobalAvgPoolForward(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> y)
    {
        const string op = "global avg pool";
        CheckGlobal(op, n, c, hw);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
        ShapeCheck.Length(op, "y", y.Length, (long)n * c);
        k.Load<ArrayView<float>, ArrayView<float>, int>(GlobalAvgForwardKernel)(k.GridStride(y.Length), x, y, hw);
    }

    /// <summary>gx[n,c,hw] = gy[n,c]/HW (overwritten).</summary>
    public static void GlobalAvgPoolBackward(KernelContext k, int n, int c, int hw, ArrayView<float> gy, ArrayView<float> gx)
    {
        const string op = "global avg pool backward";
        CheckGlobal(op, n, c, hw);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * c);
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * c * hw);
        k.Load<ArrayView<float>, ArrayView<float>, int>(GlobalAvgBackwardKernel)(k.GridStride(gx.Length), gy, gx, hw);
    }

    static void CheckPool(string op, int n, int c, int h, int w)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        if (h < 2 || w < 2) throw new ArgumentException($"{op}: h and w must be at least 2, got {h}x{w}");
    }

    static void CheckGlobal(string op, int n, int c, int hw)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        ShapeCheck.Positive(op, "hw", hw);
    }
}
