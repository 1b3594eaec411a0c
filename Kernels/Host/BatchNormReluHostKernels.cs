using ILGPU;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host (plain C#) versions of <see cref="BatchNormReluKernels"/>, over the CPU accelerator's memory, one thread per
/// channel: the same arithmetic in the same order as the ILGPU kernels run with one thread per group, so the same bits.
/// </summary>
public static class BatchNormReluHostKernels
{
    /// <summary>a = max(0, gamma*(x-mean)*invstd + beta), channel by channel.</summary>
    public static void Forward(BatchNormReluKernels.Affine p, ArrayView<float> x, ArrayView<float> a)
    {
        int n = (int)(x.Length / ((long)p.C * p.Hw));
        HostThreads.For(p.C, ch =>
        {
            var xs = HostMemory.Span(x);
            var ys = HostMemory.Span(a);
            float gamma = HostMemory.Span(p.Gamma)[ch], beta = HostMemory.Span(p.Beta)[ch];
            float mu = HostMemory.Span(p.Mean)[ch], inv = HostMemory.Span(p.Invstd)[ch];
            for (int b = 0; b < n; b++)
            {
                int start = (b * p.C + ch) * p.Hw;
                for (int i = start; i < start + p.Hw; i++)
                    ys[i] = MathF.Max(gamma * (xs[i] - mu) * inv + beta, 0f);
            }
        });
    }

    /// <summary>The fused backward (see <see cref="BatchNormReluKernels.Backward"/>), one channel per thread.</summary>
    public static void Backward(BatchNormReluKernels.BackwardArgs args)
    {
        var p = args.Affine;
        int n = (int)(args.X.Length / ((long)p.C * p.Hw));
        int m = n * p.Hw;
        HostThreads.For(p.C, ch =>
        {
            var x = HostMemory.Span(args.X);
            var ga = HostMemory.Span(args.Ga);
            var gx = HostMemory.Span(args.Gx);
            float gamma = HostMemory.Span(p.Gamma)[ch], beta = HostMemory.Span(p.Beta)[ch];
            float mu = HostMemory.Span(p.Mean)[ch], inv = HostMemory.Span(p.Invstd)[ch];
            float sumGz = 0f, sumGzXhat = 0f;
            for (int b = 0; b < n; b++)
            {
                int start = (b * p.C + ch) * p.Hw;
                for (int i = start; i < start + p.Hw; i++)
                {
                    float xhat = (x[i] - mu) * inv;
                    float gz = ga[i] * BatchNormReluKernels.Active(xhat, gamma, beta);
                    sumGz += gz;
                    sumGzXhat += gz * xhat;
                }
            }
            float meanGz = args.BatchStats != 0 ? sumGz / m : 0f;
            float meanGzXhat = args.BatchStats != 0 ? sumGzXhat / m : 0f;
            float scale = gamma * inv;
            for (int b = 0; b < n; b++)
            {
                int start = (b * p.C + ch) * p.Hw;
                for (int i = start; i < start + p.Hw; i++)
                {
                    float xhat = (x[i] - mu) * inv;
                    float gz = ga[i] * BatchNormReluKernels.Active(xhat, gamma, beta);
                    gx[i] = scale * (gz - meanGz - xhat * meanGzXhat);
                }
            }
            HostMemory.Span(args.GGamma)[ch] += sumGzXhat;
            HostMemory.Span(args.GBeta)[ch] += sumGz;
        });
    }
}
