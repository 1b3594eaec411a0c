namespace RevNetIlgpu.Kernels.Host;

/// <summary>The host form of <see cref="SubsampleKernels"/>: pure copies by the shared index arithmetic, one work item per plane.</summary>
internal static unsafe class SubsampleHost
{
    /// <summary>y = x[:, :, ::stride, ::stride].</summary>
    public static void Forward(SubsampleKernels.Planes p, ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x, py = y)
        {
            var (xs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(py, y.Length));
            HostThreads.For(y.Length / (p.OutH * p.OutW), plane =>
            {
                Span<float> source = xs.Span, target = ys.Span;
                for (int i = plane * p.OutH * p.OutW, end = i + p.OutH * p.OutW; i < end; i++) target[i] = source[SubsampleKernels.Source(i, p)];
            });
        }
    }

    /// <summary>gx = gy at every stride-th row and column, zero elsewhere.</summary>
    public static void Backward(SubsampleKernels.Planes p, ReadOnlySpan<float> gy, Span<float> gx)
    {
        fixed (float* pgy = gy, pgx = gx)
        {
            var (gys, gxs) = (new PinnedSpan<float>(pgy, gy.Length), new PinnedSpan<float>(pgx, gx.Length));
            HostThreads.For(gx.Length / (p.H * p.W), plane =>
            {
                Span<float> source = gys.Span, target = gxs.Span;
                for (int i = plane * p.H * p.W, end = i + p.H * p.W; i < end; i++)
                {
                    int t = SubsampleKernels.Target(i, p);
                    target[i] = t >= 0 ? source[t] : 0f;
                }
            });
        }
    }
}
