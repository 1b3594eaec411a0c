namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host form of <see cref="PoolKernels"/>, one work item per (image, channel) plane. The 2x2 pool reads stride-2 pairs,
/// which would need lane shuffles; it runs twice per RevNet step on small planes, so it stays scalar. The global pool
/// sums each plane with <see cref="Lanes.Sum(ReadOnlySpan{float})"/>.
/// </summary>
internal static class PoolHost
{
    /// <summary>y[n,c,i,j] = ¼ Σ x[n,c,2i..2i+1,2j..2j+1], positions past the edge counting as zero; y is [N,C,ho,wo] per
    /// <see cref="PoolKernels.AvgPool2x2OutputSize"/>.</summary>
    public static void AvgPool2x2Forward(int n, int c, int h, int w, ReadOnlySpan<float> x, Span<float> y, bool ceil = false) =>
        AvgPool2x2PadChannelsForward(n, c, c, h, w, x, y, ceil);

    /// <summary>gx = gy/4 spread over each window (overwritten); zero in a row or column a floor pool dropped.</summary>
    public static void AvgPool2x2Backward(int n, int c, int h, int w, ReadOnlySpan<float> gy, Span<float> gx, bool ceil = false) =>
        AvgPool2x2PadChannelsBackward(n, c, c, h, w, gy, gx, ceil);

    /// <summary>The 2x2 pool of x [N,C,H,W] into the first C of cOut ≥ C channels of y [N,cOut,ho,wo], the rest zero.</summary>
    public static unsafe void AvgPool2x2PadChannelsForward(int n, int c, int cOut, int h, int w, ReadOnlySpan<float> x, Span<float> y, bool ceil = false)
    {
        var (ho, wo) = PoolKernels.AvgPool2x2OutputSize(h, w, ceil);
        fixed (float* px = x, py = y)
        {
            var (xs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(py, y.Length));
            HostThreads.For(n * cOut, plane =>
            {
                int image = plane / cOut, ch = plane - image * cOut;
                var output = ys.Slice(plane * ho * wo, ho * wo);
                if (ch >= c)
                {
                    output.Clear();
                    return;
                }
                var input = xs.Slice((image * c + ch) * h * w, h * w);
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++)
                    {
                        int iy = 2 * oy, ix = 2 * ox, top = iy * w + ix;
                        bool right = ix + 1 < w, below = iy + 1 < h;
                        float sum = input[top] + (right ? input[top + 1] : 0f) + (below ? input[top + w] : 0f) + (right && below ? input[top + w + 1] : 0f);
                        output[oy * wo + ox] = 0.25f * sum;
                    }
            });
        }
    }

    /// <summary>gx = the 2x2 pool's backward of the first C channels of gy [N,cOut,ho,wo] (the padded ones were constants).</summary>
    public static unsafe void AvgPool2x2PadChannelsBackward(int n, int c, int cOut, int h, int w, ReadOnlySpan<float> gy, Span<float> gx, bool ceil = false)
    {
        var (ho, wo) = PoolKernels.AvgPool2x2OutputSize(h, w, ceil);
        fixed (float* pgy = gy, pgx = gx)
        {
            var (gys, gxs) = (new PinnedSpan<float>(pgy, gy.Length), new PinnedSpan<float>(pgx, gx.Length));
            HostThreads.For(n * c, plane =>
            {
                int image = plane / c, ch = plane - image * c;
                var output = gys.Slice((image * cOut + ch) * ho * wo, ho * wo);
                var input = gxs.Slice(plane * h * w, h * w);
                for (int iy = 0; iy < h; iy++)
                    for (int ix = 0; ix < w; ix++)
                    {
                        int oy = iy / 2, ox = ix / 2;
                        input[iy * w + ix] = oy < ho && ox < wo ? 0.25f * output[oy * wo + ox] : 0f;
                    }
            });
        }
    }

    /// <summary>y[n,c] = mean over hw of x[n,c,hw].</summary>
    public static unsafe void GlobalAvgPoolForward(int n, int c, int hw, ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x, py = y)
        {
            var (xs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(py, y.Length));
            HostThreads.For(n * c, plane => ys.Span[plane] = Lanes.Sum(xs.Slice(plane * hw, hw)) / hw);
        }
    }

    /// <summary>gx[n,c,hw] = gy[n,c]/HW (overwritten).</summary>
    public static void GlobalAvgPoolBackward(int n, int c, int hw, ReadOnlySpan<float> gy, Span<float> gx)
    {
        for (int plane = 0; plane < n * c; plane++) gx.Slice(plane * hw, hw).Fill(gy[plane] / hw);
    }
}
