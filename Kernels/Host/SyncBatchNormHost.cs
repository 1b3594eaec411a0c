namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host (C#) forms of <see cref="SyncBatchNormKernels"/> over the CPU accelerator's memory, one thread per channel for
/// the reductions (summed in the same order as a one-thread reduction group, so the two forms agree bit for bit).
/// Shapes as there; arguments are checked by the kernel entry points. The spans must be over memory that does not move
/// (what <see cref="HostMemory"/> gives): the worker threads reach it by address.
/// </summary>
public static class SyncBatchNormHost
{
    public static void ChannelSums(int n, int c, int hw, Span<float> x, Span<double> sums)
    {
        var (xs, result) = (Pinned<float>.Of(x), Pinned<double>.Of(sums));
        HostThreads.For(c, ch =>
        {
            double total = 0;
            for (int image = 0; image < n; image++)
                foreach (float v in xs.Row(image, ch, c, hw))
                    total += v;
            result[ch] = total;
        });
    }

    public static void CentredSquareSums(int n, int c, int hw, Span<float> x, Span<float> mean, Span<double> squares)
    {
        var (xs, means, result) = (Pinned<float>.Of(x), Pinned<float>.Of(mean), Pinned<double>.Of(squares));
        HostThreads.For(c, ch =>
        {
            double mu = means[ch], total = 0;
            for (int image = 0; image < n; image++)
                foreach (float v in xs.Row(image, ch, c, hw))
                {
                    double d = v - mu;
                    total += d * d;
                }
            result[ch] = total;
        });
    }

    public static void BackwardSums(int n, int c, int hw, Span<float> x, Span<float> gy, Span<float> mean, Span<float> invstd,
        Span<double> sums, Span<float> ggamma, Span<float> gbeta)
    {
        var (xs, gys, means, invstds) = (Pinned<float>.Of(x), Pinned<float>.Of(gy), Pinned<float>.Of(mean), Pinned<float>.Of(invstd));
        var (sum, gg, gb) = (Pinned<double>.Of(sums), Pinned<float>.Of(ggamma), Pinned<float>.Of(gbeta));
        HostThreads.For(c, ch =>
        {
            double mu = means[ch], inv = invstds[ch], sumGy = 0, sumGyXhat = 0;
            for (int image = 0; image < n; image++)
            {
                var xRow = xs.Row(image, ch, c, hw);
                var gyRow = gys.Row(image, ch, c, hw);
                for (int j = 0; j < hw; j++)
                {
                    sumGy += gyRow[j];
                    sumGyXhat += gyRow[j] * ((xRow[j] - mu) * inv);
                }
            }
            sum[ch] = sumGy;
            sum[c + ch] = sumGyXhat;
            gg[ch] += (float)sumGyXhat;
            gb[ch] += (float)sumGy;
        });
    }

    public static void BackwardApply(int n, int c, int hw, Span<float> x, Span<float> gy, Span<float> mean, Span<float> invstd,
        Span<float> gamma, Span<double> sums, double count, Span<float> gx)
    {
        var (xs, gys, gxs) = (Pinned<float>.Of(x), Pinned<float>.Of(gy), Pinned<float>.Of(gx));
        var (means, invstds, gammas, sum) = (Pinned<float>.Of(mean), Pinned<float>.Of(invstd), Pinned<float>.Of(gamma), Pinned<double>.Of(sums));
        HostThreads.For(n * c, row =>
        {
            int ch = row % c;
            float inv = invstds[ch], mu = means[ch], scale = gammas[ch] * inv;
            float meanGy = (float)(sum[ch] / count), meanGyXhat = (float)(sum[c + ch] / count);
            var xRow = xs.Row(row / c, ch, c, hw);
            var gyRow = gys.Row(row / c, ch, c, hw);
            var gxRow = gxs.Row(row / c, ch, c, hw);
            for (int j = 0; j < hw; j++)
            {
                float xhat = (xRow[j] - mu) * inv;
                gxRow[j] = scale * (gyRow[j] - meanGy - xhat * meanGyXhat);
            }
        });
    }

    /// <summary>A span's address for the worker threads (spans cannot be captured by lambdas); valid while the memory does not move.</summary>
    readonly unsafe struct Pinned<T>(T* address, int length) where T : unmanaged
    {
        public static Pinned<T> Of(Span<T> span) =>
            new((T*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span)), span.Length);

        public ref T this[int i] => ref AsSpan()[i];

        /// <summary>Channel <paramref name="ch"/>'s HW values in image <paramref name="image"/>.</summary>
        public Span<T> Row(int image, int ch, int c, int hw) => AsSpan().Slice((image * c + ch) * hw, hw);

        Span<T> AsSpan() => new(address, length);
    }
}
