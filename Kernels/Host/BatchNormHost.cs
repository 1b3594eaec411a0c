namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host form of <see cref="BatchNormKernels"/> (same shapes, formulas and saved statistics). Reductions run one work item
/// per channel, each image's plane summed with <see cref="Lanes.Sum{TTerm}"/> and the planes added in image order, so
/// results do not depend on the thread count. Element-wise passes run one work item per (image, channel) plane.
/// </summary>
public static class BatchNormHost
{
    /// <summary>Batch mean and invstd = 1/sqrt(var_biased + eps) per channel (two passes: mean, then Σ(x-mean)²).</summary>
    public static unsafe void ComputeBatchStats(int n, int c, int hw, ReadOnlySpan<float> x, Span<float> mean, Span<float> invstd, float eps)
    {
        Check(n, c, hw, x.Length, mean.Length, invstd.Length);
        int m = n * hw;
        fixed (float* px = x, pm = mean, pi = invstd)
        {
            var (xs, means, invstds) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pm, c), new PinnedSpan<float>(pi, c));
            HostThreads.For(c, ch =>
            {
                float sum = 0f;
                for (int image = 0; image < n; image++) sum += Lanes.Sum(xs.Slice((image * c + ch) * hw, hw));
                float mu = sum / m;
                // Second pass over centred values: Σx² - M·mean² would cancel catastrophically when |mean| ≫ std.
                float squares = 0f;
                for (int image = 0; image < n; image++)
                {
                    var term = new CenteredSquareTerm(xs.Slice((image * c + ch) * hw, hw), mu);
                    squares += Lanes.Sum(hw, ref term);
                }
                means.Span[ch] = mu;
                invstds.Span[ch] = 1f / MathF.Sqrt(squares / m + eps);
            });
        }
    }

    /// <summary>y = gamma*(x-mean)*invstd + beta with the given statistics; y may be x.</summary>
    public static unsafe void Normalize(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y)
    {
        Check(n, c, hw, x.Length, mean.Length, invstd.Length);
        Check(n, c, hw, y.Length, gamma.Length, beta.Length);
        var scale = new float[c];
        for (int ch = 0; ch < c; ch++) scale[ch] = gamma[ch] * invstd[ch];
        var (means, betas) = (mean.ToArray(), beta.ToArray());
        fixed (float* px = x, py = y)
        {
            var (xs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(py, y.Length));
            HostThreads.For(n * c, plane =>
            {
                int ch = plane % c;
                var body = new NormalizeBody(xs.Slice(plane * hw, hw), ys.Slice(plane * hw, hw), means[ch], scale[ch], betas[ch]);
                Lanes.ForEach(hw, ref body);
            });
        }
    }

    /// <summary>rm = (1-momentum)*rm + momentum*mean; rv = (1-momentum)*rv + momentum*var_biased*M/(M-1), var_biased = 1/invstd² - eps.</summary>
    public static void UpdateRunningStats(int c, int m, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd, float eps, float momentum,
        Span<float> runningMean, Span<float> runningVar)
    {
        if (m < 2) throw new ArgumentException($"batch norm running stats: m must be at least 2 for an unbiased variance, got {m}");
        float unbias = (float)((double)m / (m - 1));
        for (int ch = 0; ch < c; ch++)
        {
            float biased = 1f / (invstd[ch] * invstd[ch]) - eps;
            runningMean[ch] = (1f - momentum) * runningMean[ch] + momentum * mean[ch];
            runningVar[ch] = (1f - momentum) * runningVar[ch] + momentum * biased * unbias;
        }
    }

    /// <summary>mean = running mean, invstd = 1/sqrt(running var + eps).</summary>
    public static void EvalStats(int c, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, float eps, Span<float> mean, Span<float> invstd)
    {
        for (int ch = 0; ch < c; ch++)
        {
            mean[ch] = runningMean[ch];
            invstd[ch] = 1f / MathF.Sqrt(runningVar[ch] + eps);
        }
    }

    /// <summary>Training-mode backward: gx = gamma*invstd/M * (M*gy - Σgy - xhat*Σ(gy*xhat)) (overwritten); ggamma += Σ gy*xhat; gbeta += Σ gy.</summary>
    public static void Backward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd,
        ReadOnlySpan<float> gamma, Span<float> gx, Span<float> ggamma, Span<float> gbeta) =>
        Backward(n, c, hw, x, gy, mean, invstd, gamma, gx, ggamma, gbeta, batchStats: true);

    /// <summary>Evaluation-mode backward (fixed statistics): gx = gy*gamma*invstd (overwritten); ggamma += Σ gy*xhat; gbeta += Σ gy.</summary>
    public static void BackwardEval(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd,
        ReadOnlySpan<float> gamma, Span<float> gx, Span<float> ggamma, Span<float> gbeta) =>
        Backward(n, c, hw, x, gy, mean, invstd, gamma, gx, ggamma, gbeta, batchStats: false);

    /// <summary>One work item per channel: its two sums, then its gradient (gx may be x or gy: each element is read before it is written).</summary>
    internal static unsafe void Backward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd,
        ReadOnlySpan<float> gamma, Span<float> gx, Span<float> ggamma, Span<float> gbeta, bool batchStats)
    {
        Check(n, c, hw, x.Length, mean.Length, invstd.Length);
        Check(n, c, hw, gy.Length, gamma.Length, ggamma.Length);
        Check(n, c, hw, gx.Length, gbeta.Length, c);
        int m = n * hw;
        var (means, invstds, gammas) = (mean.ToArray(), invstd.ToArray(), gamma.ToArray());
        fixed (float* px = x, pgy = gy, pgx = gx, pgg = ggamma, pgb = gbeta)
        {
            var (xs, gys, gxs) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pgy, gy.Length), new PinnedSpan<float>(pgx, gx.Length));
            var (ggammas, gbetas) = (new PinnedSpan<float>(pgg, c), new PinnedSpan<float>(pgb, c));
            HostThreads.For(c, ch =>
            {
                float mu = means[ch], inv = invstds[ch];
                float sumGy = 0f, sumGyCentered = 0f;
                for (int image = 0; image < n; image++)
                {
                    int plane = (image * c + ch) * hw;
                    sumGy += Lanes.Sum(gys.Slice(plane, hw));
                    var term = new CenteredProductTerm(gys.Slice(plane, hw), xs.Slice(plane, hw), mu);
                    sumGyCentered += Lanes.Sum(hw, ref term);
                }
                float sumGyXhat = sumGyCentered * inv;
                // With batch statistics, mean and invstd also move with x: that removes the gradient's mean and its projection on xhat.
                float meanGy = batchStats ? sumGy / m : 0f;
                float meanGyXhat = batchStats ? sumGyXhat / m : 0f;
                for (int image = 0; image < n; image++)
                {
                    int plane = (image * c + ch) * hw;
                    var body = new BackwardBody(xs.Slice(plane, hw), gys.Slice(plane, hw), gxs.Slice(plane, hw), mu, inv * meanGyXhat, meanGy, gammas[ch] * inv);
                    Lanes.ForEach(hw, ref body);
                }
                ggammas.Span[ch] += sumGyXhat;
                gbetas.Span[ch] += sumGy;
            });
        }
    }

    static void Check(int n, int c, int hw, int imageLength, int channelLength, int otherChannelLength)
    {
        if (n <= 0 || c <= 0 || hw <= 0) throw new ArgumentException($"batch norm: n, c and hw must be positive, got {n}, {c}, {hw}");
        if (imageLength != (long)n * c * hw || channelLength != c || otherChannelLength != c)
            throw new ArgumentException($"batch norm: expected an image of {(long)n * c * hw} and channel vectors of {c} elements, got {imageLength}, {channelLength}, {otherChannelLength}");
    }

    ref struct CenteredSquareTerm(ReadOnlySpan<float> x, float mean) : ILaneTerm
    {
        readonly ReadOnlySpan<float> x = x;

        public T At<T>(int i) where T : struct, IFloatLanes<T>
        {
            var d = T.Load(x, i) - T.Broadcast(mean);
            return d * d;
        }
    }

    /// <summary>gy·(x - mean).</summary>
    ref struct CenteredProductTerm(ReadOnlySpan<float> gy, ReadOnlySpan<float> x, float mean) : ILaneTerm
    {
        readonly ReadOnlySpan<float> gy = gy, x = x;

        public T At<T>(int i) where T : struct, IFloatLanes<T> => T.Load(gy, i) * (T.Load(x, i) - T.Broadcast(mean));
    }

    /// <summary>y = (x - mean)·scale + beta, scale = gamma·invstd.</summary>
    ref struct NormalizeBody(ReadOnlySpan<float> x, Span<float> y, float mean, float scale, float beta) : ILaneBody
    {
        readonly ReadOnlySpan<float> x = x;
        readonly Span<float> y = y;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T> =>
            T.Store(T.MultiplyAdd(T.Load(x, i) - T.Broadcast(mean), T.Broadcast(scale), T.Broadcast(beta)), y, i);
    }

    /// <summary>gx = scale·(gy - meanGy - (x - mean)·xhatWeight) with xhatWeight = invstd·mean(gy·xhat) and scale = gamma·invstd.</summary>
    ref struct BackwardBody(ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gx, float mean, float xhatWeight, float meanGy, float scale) : ILaneBody
    {
        readonly ReadOnlySpan<float> x = x, gy = gy;
        readonly Span<float> gx = gx;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T>
        {
            var centered = T.Load(x, i) - T.Broadcast(mean);
            var projection = T.MultiplyAdd(centered, T.Broadcast(xhatWeight), T.Broadcast(meanGy));
            T.Store(T.Broadcast(scale) * (T.Load(gy, i) - projection), gx, i);
        }
    }
}
