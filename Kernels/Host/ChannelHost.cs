namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host form of <see cref="ChannelKernels"/> on NCHW spans with HW = H*W flattened: per-channel sums (one work item per
/// channel, images summed in order, so the bits do not depend on threads), and channel split/concat/pad as one block copy
/// per image, the images spread over the threads.
/// </summary>
internal static class ChannelHost
{
    /// <summary>sum[c] = Σ over n and hw of x[n,c,hw] (overwritten).</summary>
    public static void SumPerChannel(int n, int c, int hw, ReadOnlySpan<float> x, Span<float> sum) => Sum(n, c, hw, x, sum, accumulate: false);

    /// <summary>sum[c] += Σ over n and hw of x[n,c,hw]: the bias gradient of conv and linear layers.</summary>
    public static void AccumulatePerChannel(int n, int c, int hw, ReadOnlySpan<float> x, Span<float> sum) => Sum(n, c, hw, x, sum, accumulate: true);

    /// <summary>a = x[:, :c1], b = x[:, c1:].</summary>
    public static void Split(int n, int c, int hw, int c1, ReadOnlySpan<float> x, Span<float> a, Span<float> b)
    {
        CopyChannels(n, hw, c1, x, c, 0, a, c1, 0);
        CopyChannels(n, hw, c - c1, x, c, c1, b, c - c1, 0);
    }

    /// <summary>y = [a, b] along channels.</summary>
    public static void Concat(int n, int c1, int c2, int hw, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        CopyChannels(n, hw, c1, a, c1, 0, y, c1 + c2, 0);
        CopyChannels(n, hw, c2, b, c2, 0, y, c1 + c2, c1);
    }

    /// <summary>y[:, :c] = x, y[:, c:] = 0.</summary>
    public static void PadChannels(int n, int c, int cOut, int hw, ReadOnlySpan<float> x, Span<float> y)
    {
        CopyChannels(n, hw, c, x, c, 0, y, cOut, 0);
        for (int image = 0; image < n; image++) y.Slice((image * cOut + c) * hw, (cOut - c) * hw).Clear();
    }

    /// <summary>gx = gy[:, :c].</summary>
    public static void PadChannelsBackward(int n, int c, int cOut, int hw, ReadOnlySpan<float> gy, Span<float> gx) =>
        CopyChannels(n, hw, c, gy, cOut, 0, gx, c, 0);

    static unsafe void Sum(int n, int c, int hw, ReadOnlySpan<float> x, Span<float> sum, bool accumulate)
    {
        fixed (float* px = x, ps = sum)
        {
            var (xs, sums) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(ps, sum.Length));
            HostThreads.For(c, ch =>
            {
                float total = 0f;
                for (int image = 0; image < n; image++) total += Lanes.Sum(xs.Slice((image * c + ch) * hw, hw));
                sums.Span[ch] = accumulate ? sums.Span[ch] + total : total;
            });
        }
    }

    /// <summary>For each image (one work item each), <paramref name="count"/> channels from src (starting at srcStart of srcChannels) to dst.</summary>
    static unsafe void CopyChannels(int n, int hw, int count, ReadOnlySpan<float> src, int srcChannels, int srcStart, Span<float> dst, int dstChannels, int dstStart)
    {
        fixed (float* ps = src, pd = dst)
        {
            var (from, to) = (new PinnedSpan<float>(ps, src.Length), new PinnedSpan<float>(pd, dst.Length));
            HostThreads.For(n, image =>
                from.Slice((image * srcChannels + srcStart) * hw, count * hw).CopyTo(to.Slice((image * dstChannels + dstStart) * hw, count * hw)));
        }
    }
}
