namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host (C#) forms of <see cref="SyncBatchNormKernels"/> over the CPU accelerator's memory, one thread per channel for
/// the reductions (the same compensated sums in the same order as a one-thread reduction group, so the two forms agree
/// bit for bit). Shapes as there; arguments are checked by the kernel entry points. The spans must be over memory that
/// does not move (what <see cref="HostMemory"/> gives): the worker threads reach it by address.
/// </summary>
public static class SyncBatchNormHost
{
    public static void ChannelSums(int n, int c, int hw, Span<float> x, Span<float> sums)
    {
        var (xs, result) = (Pinned.Of(x), Pinned.Of(sums));
        HostThreads.For(c, ch =>
        {
            var sum = new CompensatedSum();
            for (int image = 0; image < n; image++)
                foreach (float v in xs.Row(image, ch, c, hw))
                    sum.Add(v);
            result.Write(sum, ch, c);
        });
    }

    public static void CentredSquareSums(int n, int c, int hw, Span<float> x, Span<float> mean, Span<float> squares)
    {
        var (xs, means, result) = (Pinned.Of(x), Pinned.Of(mean), Pinned.Of(squares));
        HostThreads.For(c, ch =>
        {
            float mu = means[ch];
            var sum = new CompensatedSum();
            for (int image = 0; image < n; image++)
                foreach (float v in xs.Row(image, ch, c, hw))
                {
                    float d = v - mu;
                    sum.Add(d * d);
                }
            result.Write(sum, ch, c);
        });
    }

    public static void BackwardSums(int n, int c, int hw, Span<float> x, Span<float> gy, Span<float> mean, Span<float> invstd,
        Span<float> sums, Span<float> ggamma, Span<float> gbeta)
    {
        var (xs, gys, means, invstds) = (Pinned.Of(x), Pinned.Of(gy), Pinned.Of(mean), Pinned.Of(invstd));
        var (result, gg, gb) = (Pinned.Of(sums), Pinned.Of(ggamma), Pinned.Of(gbeta));
        HostThreads.For(c, ch =>
        {
            float mu = means[ch], inv = invstds[ch];
            var sumGy = new CompensatedSum();
            var sumGyXhat = new CompensatedSum();
            for (int image = 0; image < n; image++)
            {
                var xRow = xs.Row(image, ch, c, hw);
                var gyRow = gys.Row(image, ch, c, hw);
                for (int j = 0; j < hw; j++)
                {
                    sumGy.Add(gyRow[j]);
                    sumGyXhat.Add(gyRow[j] * ((xRow[j] - mu) * inv));
                }
            }
            result.Write(sumGy, ch, c);
            result.Write(sumGyXhat, 2 * c + ch, c);
            gg[ch] += sumGyXhat.High + sumGyXhat.Low;
            gb[ch] += sumGy.High + sumGy.Low;
        });
    }

    public static void BackwardApply(int n, int c, int hw, Span<float> x, Span<float> gy, Span<float> mean, Span<float> invstd,
        Span<float> gamma, Span<float> gradientMeans, Span<float> gx)
    {
        var (xs, gys, gxs) = (Pinned.Of(x), Pinned.Of(gy), Pinned.Of(gx));
        var (means, invstds, gammas, gradient) = (Pinned.Of(mean), Pinned.Of(invstd), Pinned.Of(gamma), Pinned.Of(gradientMeans));
        HostThreads.For(n * c, row =>
        {
            int ch = row % c;
            float inv = invstds[ch], mu = means[ch], scale = gammas[ch] * inv;
            float meanGy = gradient[ch], meanGyXhat = gradient[c + ch];
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
    readonly unsafe struct Pinned(float* address, int length)
    {
        public static Pinned Of(Span<float> span) =>
            new((float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span)), span.Length);

        public ref float this[int i] => ref AsSpan()[i];

        /// <summary>Channel <paramref name="ch"/>'s HW values in image <paramref name="image"/>.</summary>
        public Span<float> Row(int image, int ch, int c, int hw) => AsSpan().Slice((image * c + ch) * hw, hw);

        /// <summary>High part at <paramref name="at"/>, low part C further, as the kernels lay sums out.</summary>
        public void Write(CompensatedSum sum, int at, int c)
        {
            this[at] = sum.High;
            this[at + c] = sum.Low;
        }

        Span<float> AsSpan() => new(address, length);
    }
}
