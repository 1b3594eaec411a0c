namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host (C#) forms of <see cref="SyncBatchNormKernels"/> over the CPU accelerator's memory, one thread per channel for
/// the reductions (summed in the same order as a one-thread reduction group, so the two forms agree bit for bit).
/// Shapes as there; arguments are checked by the kernel entry points. The spans must be over memory that does not move
/// (what <see cref="HostMemory.Span(ILGPU.ArrayView{float})"/> gives): the worker threads reach it by address.
/// </summary>
public static class SyncBatchNormHost
{
    public static void CentredSquareSums(int n, int c, int hw, Span<float> x, Span<float> mean, Span<float> squares)
    {
        var (xs, means, result) = (Pin(x), Pin(mean), Pin(squares));
        HostThreads.For(c, ch =>
        {
            float mu = means.Get(ch), total = 0f;
            for (int image = 0; image < n; image++)
                foreach (float v in xs.Row(image, ch, c, hw))
                {
                    float d = v - mu;
                    total += d * d;
                }
            result.Set(ch, total);
        });
    }

    public static void BackwardSums(int n, int c, int hw, Span<float> x, Span<float> gy, Span<float> mean, Span<float> invstd,
        Span<float> sums, Span<float> ggamma, Span<float> gbeta)
    {
        var (xs, gys, means, invstds, sum, gg, gb) = (Pin(x), Pin(gy), Pin(mean), Pin(invstd), Pin(sums), Pin(ggamma), Pin(gbeta));
        HostThreads.For(c, ch =>
        {
            float mu = means.Get(ch), inv = invstds.Get(ch), sumGy = 0f, sumGyXhat = 0f;
            for (int image = 0; image < n; image++)
            {
                var xRow = xs.Row(image, ch, c, hw);
                var gyRow = gys.Row(image, ch, c, hw);
                for (int j = 0; j < hw; j++)
                {
                    sumGy += gyRow[j];
                    sumGyXhat += gyRow[j] * (xRow[j] - mu) * inv;
                }
            }
            sum.Set(ch, sumGy);
            sum.Set(c + ch, sumGyXhat);
            gg.Set(ch, gg.Get(ch) + sumGyXhat);
            gb.Set(ch, gb.Get(ch) + sumGy);
        });
    }

    public static void BackwardApply(int n, int c, int hw, Span<float> x, Span<float> gy, Span<float> mean, Span<float> invstd,
        Span<float> gamma, Span<float> sums, float count, Span<float> gx)
    {
        var (xs, gys, means, invstds, gammas, sum, gxs) = (Pin(x), Pin(gy), Pin(mean), Pin(invstd), Pin(gamma), Pin(sums), Pin(gx));
        HostThreads.For(n * c, row =>
        {
            int ch = row % c;
            float inv = invstds.Get(ch), mu = means.Get(ch), scale = gammas.Get(ch) * inv;
            float meanGy = sum.Get(ch) / count, meanGyXhat = sum.Get(c + ch) / count;
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

    static unsafe Pinned Pin(Span<float> span) => new((float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span)), span.Length);

    /// <summary>
    /// A span's address for the worker threads (spans cannot be captured by lambdas). The memory is an ILGPU buffer,
    /// which does not move, so the address stays valid for the call.
    /// </summary>
    readonly unsafe struct Pinned(float* address, int length)
    {
        public float Get(int i) => AsSpan()[i];

        public void Set(int i, float value) => AsSpan()[i] = value;

        /// <summary>Channel <paramref name="ch"/>'s HW values in image <paramref name="image"/>.</summary>
        public Span<float> Row(int image, int ch, int c, int hw) => AsSpan().Slice((image * c + ch) * hw, hw);

        Span<float> AsSpan() => new(address, length);
    }
}
