using System.Buffers;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host form of <see cref="LinearKernels"/>: x [N, in], w [out, in], b [out], y [N, out]; y = x·wᵀ + b. The classifier head's
/// shapes are tiny (N×64 by 10), so each product is a row of vector dot products or row updates, one work item per row.
/// Activation gradients are written (=), parameter gradients accumulated (+=).
/// </summary>
internal static class LinearHost
{
    /// <summary>y = x·wᵀ + b (overwritten).</summary>
    public static unsafe void Forward(int n, int inFeatures, int outFeatures, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y)
    {
        fixed (float* px = x, pw = w, pb = b, py = y)
        {
            var (xs, ws, bs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pw, w.Length), new PinnedSpan<float>(pb, b.Length), new PinnedSpan<float>(py, y.Length));
            HostThreads.For(n, row =>
            {
                var input = xs.Slice(row * inFeatures, inFeatures);
                for (int o = 0; o < outFeatures; o++)
                    ys.Span[row * outFeatures + o] = Lanes.Dot(input, ws.Slice(o * inFeatures, inFeatures)) + bs.Span[o];
            });
        }
    }

    /// <summary>gx = gy·w (overwritten): each row of gx is Σ over outputs o, in order, of gy[row, o]·w[o, :].</summary>
    public static unsafe void BackwardInput(int n, int inFeatures, int outFeatures, ReadOnlySpan<float> gy, ReadOnlySpan<float> w, Span<float> gx)
    {
        fixed (float* pgy = gy, pw = w, pgx = gx)
        {
            var (gys, ws, gxs) = (new PinnedSpan<float>(pgy, gy.Length), new PinnedSpan<float>(pw, w.Length), new PinnedSpan<float>(pgx, gx.Length));
            HostThreads.For(n, row =>
            {
                var gradient = gxs.Slice(row * inFeatures, inFeatures);
                gradient.Clear();
                for (int o = 0; o < outFeatures; o++)
                    ElementwiseHost.ZipSerial(new AxpyOp(gys.Span[row * outFeatures + o]), ws.Slice(o * inFeatures, inFeatures), gradient, gradient);
            });
        }
    }

    /// <summary>gw += gyᵀ·x (each row's sum Σ over rows n, in order, of gy[n, o]·x[n, :] is formed first, then added) and gb += Σₙ gy[n, ·].</summary>
    public static unsafe void BackwardParams(int n, int inFeatures, int outFeatures, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gw, Span<float> gb)
    {
        fixed (float* px = x, pgy = gy, pgw = gw)
        {
            var (xs, gys, gws) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pgy, gy.Length), new PinnedSpan<float>(pgw, gw.Length));
            HostThreads.For(outFeatures, o =>
            {
                var rented = ArrayPool<float>.Shared.Rent(inFeatures);
                var sum = rented.AsSpan(0, inFeatures);
                sum.Clear();
                for (int row = 0; row < n; row++)
                    ElementwiseHost.ZipSerial(new AxpyOp(gys.Span[row * outFeatures + o]), xs.Slice(row * inFeatures, inFeatures), sum, sum);
                var weightGradient = gws.Slice(o * inFeatures, inFeatures);
                ElementwiseHost.ZipSerial(new AddOp(), sum, weightGradient, weightGradient);
                ArrayPool<float>.Shared.Return(rented);
            });
        }
        ChannelHost.AccumulatePerChannel(n, outFeatures, 1, gy, gb);
    }
}
