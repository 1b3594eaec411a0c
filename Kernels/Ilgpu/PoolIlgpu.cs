using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="PoolKernels"/>: the 2x2 pools one thread per output (forward) or input (backward)
/// element, with the element's (image, channel, row, column) stepped by an <see cref="Odometer"/>; the global average
/// pool with a few lanes per plane.
/// </summary>
internal static class PoolIlgpu
{
    /// <summary>
    /// The 2x2 pool of x [N,C,H,W] into the first C of cOut channels of y [N,cOut,ho,wo], the rest zero; cOut = C is the
    /// plain pool. <paramref name="channels"/> is (C, cOut).
    /// </summary>
    static void AvgPool2x2ForwardKernel(ArrayView<float> x, ArrayView<float> y, Index2D inSize, Index2D outSize, Index2D channels)
    {
        int h = inSize.X, w = inSize.Y, ho = outSize.X, wo = outSize.Y, c = channels.X, cOut = channels.Y;
        var at = Odometer.OfThread(wo, ho, cOut);
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
        {
            int ch = at.D2;
            if (ch >= c)
            {
                y[i] = 0f;
                continue;
            }
            int iy = at.D1 * 2, ix = at.D0 * 2;
            int top = ((at.D3 * c + ch) * h + iy) * w + ix;
            bool right = ix + 1 < w, below = iy + 1 < h;
            float sum = x[top] + (right ? x[top + 1] : 0f) + (below ? x[top + w] : 0f) + (right && below ? x[top + w + 1] : 0f);
            y[i] = 0.25f * sum;
        }
    }

    /// <summary>Backward of <see cref="AvgPool2x2ForwardKernel"/>: gx [N,C,H,W] from the first C channels of gy [N,cOut,ho,wo].</summary>
    static void AvgPool2x2BackwardKernel(ArrayView<float> gy, ArrayView<float> gx, Index2D inSize, Index2D outSize, Index2D channels)
    {
        int h = inSize.X, w = inSize.Y, ho = outSize.X, wo = outSize.Y, c = channels.X, cOut = channels.Y;
        var at = Odometer.OfThread(w, h, c);
        for (int i = GridLoop.Start, end = gx.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
        {
            int oy = at.D1 >> 1, ox = at.D0 >> 1;
            gx[i] = oy < ho && ox < wo ? 0.25f * gy[((at.D3 * cOut + at.D2) * ho + oy) * wo + ox] : 0f;
        }
    }

    /// <summary>
    /// y[plane] = mean of x's plane. On GPUs 2^<paramref name="laneShift"/> lanes per plane, lane l summing elements l,
    /// l + lanes, ...; then lane 0 adds its plane's lane sums in lane order (shared memory, one float per thread), so the
    /// result is the same on every run. Lanes spread a plane's reads over neighbouring threads and give a GPU two groups
    /// per SM even for the small head (128 images × 112 channels of 8x8). With one lane (the CPU accelerator, whose
    /// barriers are slow) a grid-stride loop over planes.
    /// </summary>
    static void GlobalAvgForwardKernel(ArrayView<float> x, ArrayView<float> y, int hw, int laneShift)
    {
        if (laneShift == 0)
        {
            for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
            {
                float planeSum = 0f;
                for (int p = 0, at = i * hw; p < hw; p++, at++) planeSum += x[at];
                y[i] = planeSum / hw;
            }
            return;
        }
        var sums = SharedMemory.GetDynamic<float>();
        int lanes = 1 << laneShift, lane = Group.IdxX & (lanes - 1);
        int plane = (Grid.IdxX * Group.DimX + Group.IdxX) >> laneShift;
        float sum = 0f;
        if (plane < y.IntLength)
            for (int p = lane, at = plane * hw + lane; p < hw; p += lanes, at += lanes)
                sum += x[at];
        sums[Group.IdxX] = sum;
        Group.Barrier();
        if (lane != 0 || plane >= y.IntLength) return;
        float total = 0f;
        for (int l = 0; l < lanes; l++) total += sums[Group.IdxX + l];
        y[plane] = total / hw;
    }

    static void GlobalAvgBackwardKernel(ArrayView<float> gy, ArrayView<float> gx, int hw)
    {
        var at = Odometer.OfThread(hw);
        for (int i = GridLoop.Start, end = gx.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
            gx[i] = gy[at.D1] / hw;
    }

    internal static void AvgPool2x2PadChannelsForward(KernelContext k, int c, int cOut, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil) =>
        k.Load<ArrayView<float>, ArrayView<float>, Index2D, Index2D, Index2D>(AvgPool2x2ForwardKernel)(
            k.GridStride(y.Length), new LaunchCost(x.Length, (x.Length + y.Length) * sizeof(float)),
            x, y, new Index2D(h, w), PoolKernels.AvgPool2x2OutputSize(h, w, ceil), new Index2D(c, cOut));

    internal static void AvgPool2x2PadChannelsBackward(KernelContext k, int c, int cOut, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil) =>
        k.Load<ArrayView<float>, ArrayView<float>, Index2D, Index2D, Index2D>(AvgPool2x2BackwardKernel)(
            k.GridStride(gx.Length), new LaunchCost(gx.Length, (gx.Length + gy.Length) * sizeof(float)),
            gy, gx, new Index2D(h, w), PoolKernels.AvgPool2x2OutputSize(h, w, ceil), new Index2D(c, cOut));

    internal static void GlobalAvgPoolForward(KernelContext k, int hw, ArrayView<float> x, ArrayView<float> y)
    {
        // Eight lanes per plane in GPU groups; one on the CPU accelerator.
        int laneShift = k.GroupSize >= 32 ? 3 : 0, group = k.GroupSize;
        long threads = y.Length << laneShift;
        var grid = laneShift == 0 ? k.GridStride(y.Length).GridDim.X : (int)((threads + group - 1) / group);
        var config = new KernelConfig(grid, group, SharedMemoryConfig.RequestDynamic<float>(group));
        k.Load<ArrayView<float>, ArrayView<float>, int, int>(GlobalAvgForwardKernel)(
            config, new LaunchCost(x.Length, (x.Length + y.Length) * sizeof(float)), x, y, hw, laneShift);
    }

    internal static void GlobalAvgPoolBackward(KernelContext k, int hw, ArrayView<float> gy, ArrayView<float> gx) =>
        k.Load<ArrayView<float>, ArrayView<float>, int>(GlobalAvgBackwardKernel)(
            k.GridStride(gx.Length), LaunchCost.Elementwise(gx.Length, 1, 1, 1), gy, gx, hw);
}
