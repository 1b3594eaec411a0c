namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The host form of <see cref="SyncBatchNormKernels"/>, one work item per channel for the reductions (the same
/// compensated sums in the same order as a one-thread reduction group, so the two forms agree bit for bit). Every span is
/// pinned while the worker threads reach it by address.
/// </summary>
internal static unsafe class SyncBatchNormHost
{
    public static void ChannelSums(int n, int c, int hw, ReadOnlySpan<float> x, Span<float> sums)
    {
        fixed (float* px = x, ps = sums)
        {
            var (xs, result) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(ps, sums.Length));
            HostThreads.For(c, ch =>
            {
                var sum = new CompensatedSum();
                for (int image = 0; image < n; image++)
                    foreach (float v in xs.Slice((image * c + ch) * hw, hw))
                        sum.Add(v);
                Write(result.Span, sum, ch, c);
            });
        }
    }

    public static void CentredSquareSums(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, Span<float> squares)
    {
        fixed (float* px = x, pm = mean, ps = squares)
        {
            var (xs, means, result) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pm, mean.Length), new PinnedSpan<float>(ps, squares.Length));
            HostThreads.For(c, ch =>
            {
                float mu = means.Span[ch];
                var sum = new CompensatedSum();
                for (int image = 0; image < n; image++)
                    foreach (float v in xs.Slice((image * c + ch) * hw, hw))
                    {
                        float d = v - mu;
                        sum.Add(d * d);
                    }
                Write(result.Span, sum, ch, c);
            });
        }
    }

    public static void BackwardSums(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd,
        Span<float> sums, Span<float> ggamma, Span<float> gbeta)
    {
        fixed (float* px = x, pgy = gy, pm = mean, pi = invstd, ps = sums, pgg = ggamma, pgb = gbeta)
        {
            var (xs, gys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pgy, gy.Length));
            var (means, invstds) = (new PinnedSpan<float>(pm, c), new PinnedSpan<float>(pi, c));
            var (result, gg, gb) = (new PinnedSpan<float>(ps, sums.Length), new PinnedSpan<float>(pgg, c), new PinnedSpan<float>(pgb, c));
            HostThreads.For(c, ch =>
            {
                float mu = means.Span[ch], inv = invstds.Span[ch];
                var sumGy = new CompensatedSum();
                var sumGyXhat = new CompensatedSum();
                for (int image = 0; image < n; image++)
                {
                    var xRow = xs.Slice((image * c + ch) * hw, hw);
                    var gyRow = gys.Slice((image * c + ch) * hw, hw);
                    for (int j = 0; j < hw; j++)
                    {
                        sumGy.Add(gyRow[j]);
                        sumGyXhat.Add(gyRow[j] * ((xRow[j] - mu) * inv));
                    }
                }
                Write(result.Span, sumGy, ch, c);
                Write(result.Span, sumGyXhat, 2 * c + ch, c);
                gg.Span[ch] += sumGyXhat.High + sumGyXhat.Low;
                gb.Span[ch] += sumGy.High + sumGy.Low;
            });
        }
    }

    public static void BackwardApply(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> gradientMeans, Span<float> gx)
    {
        fixed (float* px = x, pgy = gy, pgx = gx, pm = mean, pi = invstd, pg = gamma, pgm = gradientMeans)
        {
            var (xs, gys, gxs) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pgy, gy.Length), new PinnedSpan<float>(pgx, gx.Length));
            var (means, invstds, gammas, gradient) = (new PinnedSpan<float>(pm, c), new PinnedSpan<float>(pi, c), new PinnedSpan<float>(pg, c), new PinnedSpan<float>(pgm, 2 * c));
            HostThreads.For(n * c, plane =>
            {
                int ch = plane % c;
                float inv = invstds.Span[ch], mu = means.Span[ch], scale = gammas.Span[ch] * inv;
                float meanGy = gradient.Span[ch], meanGyXhat = gradient.Span[c + ch];
                var xRow = xs.Slice(plane * hw, hw);
                var gyRow = gys.Slice(plane * hw, hw);
                var gxRow = gxs.Slice(plane * hw, hw);
                for (int j = 0; j < hw; j++)
                {
                    float xhat = (xRow[j] - mu) * inv;
                    gxRow[j] = scale * (gyRow[j] - meanGy - xhat * meanGyXhat);
                }
            });
        }
    }

    /// <summary>High part at <paramref name="at"/>, low part C further, as the kernels lay sums out.</summary>
    static void Write(Span<float> sums, CompensatedSum sum, int at, int c)
    {
        sums[at] = sum.High;
        sums[at + c] = sum.Low;
    }
}
