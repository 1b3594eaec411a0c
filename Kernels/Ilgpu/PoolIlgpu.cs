using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>The ILGPU form of <see cref="PoolKernels"/>: one thread per output (forward) or input (backward) element.</summary>
public static class PoolIlgpu
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

    internal static void AvgPool2x2PadChannelsForward(KernelContext k, int c, int cOut, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil) =>
        k.Load<ArrayView<float>, ArrayView<float>, Index2D, Index2D, Index2D>(AvgPool2x2ForwardKernel)(
            k.GridStride(y.Length), x, y, new Index2D(h, w), PoolKernels.AvgPool2x2OutputSize(h, w, ceil), new Index2D(c, cOut));

    internal static void AvgPool2x2PadChannelsBackward(KernelContext k, int c, int cOut, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil) =>
        k.Load<ArrayView<float>, ArrayView<float>, Index2D, Index2D, Index2D>(AvgPool2x2BackwardKernel)(
            k.GridStride(gx.Length), gy, gx, new Index2D(h, w), PoolKernels.AvgPool2x2OutputSize(h, w, ceil), new Index2D(c, cOut));

    internal static void GlobalAvgPoolForward(KernelContext k, int hw, ArrayView<float> x, ArrayView<float> y) =>
        k.Load<ArrayView<float>, ArrayView<float>, int>(GlobalAvgForwardKernel)(k.GridStride(y.Length), x, y, hw);

    internal static void GlobalAvgPoolBackward(KernelContext k, int hw, ArrayView<float> gy, ArrayView<float> gx) =>
        k.Load<ArrayView<float>, ArrayView<float>, int>(GlobalAvgBackwardKernel)(k.GridStride(gx.Length), gy, gx, hw);
}
