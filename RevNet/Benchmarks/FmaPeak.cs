using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// This machine's FP32 fused-multiply-add peak, measured: a tight loop of 12 independent vector FMA chains (enough to
/// cover the FMA latency on every current x86 core) at the host kernels' <see cref="SimdLevel"/>, on one thread and
/// on <see cref="HostThreads.Count"/> threads at once. The ceiling the host convolution's GFLOP/s are compared with.
/// </summary>
public static class FmaPeak
{
    /// <summary>Independent accumulator chains per thread.</summary>
    public const int Chains = 12;

    /// <summary>
    /// GFLOP/s (2 per FMA lane) of <paramref name="threads"/> threads running the loop at once: the best of
    /// <paramref name="rounds"/> short rounds (about 0.2 ms each), each started together behind a barrier and timed from
    /// the first start to the last finish. Short rounds let a shared machine's quiet moments show the hardware's ceiling.
    /// </summary>
    public static double Measure(int threads, int rounds = 200)
    {
        if (threads <= 0) throw new ArgumentException($"threads must be positive, got {threads}");
        if (rounds <= 0) throw new ArgumentException($"rounds must be positive, got {rounds}");
        var level = HostSimd.Active;
        int width = level switch { SimdLevel.Vector512 => 16, SimdLevel.Vector256 => 8, _ => 1 };
        long iterations = level == SimdLevel.Scalar ? 50_000 : 500_000L * 16 / width;
        var starts = new long[threads, rounds];
        var ends = new long[threads, rounds];
        using var barrier = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            Loop(level, iterations);
            for (int r = 0; r < rounds; r++)
            {
                barrier.SignalAndWait();
                starts[t, r] = Stopwatch.GetTimestamp();
                Loop(level, iterations);
                ends[t, r] = Stopwatch.GetTimestamp();
            }
        })).ToArray();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();
        double best = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            long first = long.MaxValue, last = long.MinValue;
            for (int t = 0; t < threads; t++) (first, last) = (Math.Min(first, starts[t, r]), Math.Max(last, ends[t, r]));
            best = Math.Min(best, (double)(last - first) / Stopwatch.Frequency);
        }
        return 2.0 * Chains * width * iterations * threads / best / 1e9;
    }

    static float Loop(SimdLevel level, long iterations) => level switch
    {
        SimdLevel.Vector512 => Loop512(iterations),
        SimdLevel.Vector256 => Loop256(iterations),
        _ => LoopScalar(iterations),
    };

    static float Loop512(long iterations)
    {
        var m = Vector512.Create(0.9999999f);
        var add = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = Vector512.Create(2f), a2 = Vector512.Create(3f), a3 = Vector512.Create(4f), a4 = Vector512.Create(5f), a5 = Vector512.Create(6f), a6 = Vector512.Create(7f), a7 = Vector512.Create(8f), a8 = Vector512.Create(9f), a9 = Vector512.Create(10f), a10 = Vector512.Create(11f), a11 = Vector512.Create(12f);
        for (long i = 0; i < iterations; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, add);
            a1 = Avx512F.FusedMultiplyAdd(a1, m, add);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, add);
            a3 = Avx512F.FusedMultiplyAdd(a3, m, add);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, add);
            a5 = Avx512F.FusedMultiplyAdd(a5, m, add);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, add);
            a7 = Avx512F.FusedMultiplyAdd(a7, m, add);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, add);
            a9 = Avx512F.FusedMultiplyAdd(a9, m, add);
            a10 = Avx512F.FusedMultiplyAdd(a10, m, add);
            a11 = Avx512F.FusedMultiplyAdd(a11, m, add);
        }
        return Vector512.Sum(a0) + Vector512.Sum(a1) + Vector512.Sum(a2) + Vector512.Sum(a3) + Vector512.Sum(a4) + Vector512.Sum(a5) + Vector512.Sum(a6) + Vector512.Sum(a7) + Vector512.Sum(a8) + Vector512.Sum(a9) + Vector512.Sum(a10) + Vector512.Sum(a11);
    }

    static float Loop256(long iterations)
    {
        var m = Vector256.Create(0.9999999f);
        var add = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = Vector256.Create(2f), a2 = Vector256.Create(3f), a3 = Vector256.Create(4f), a4 = Vector256.Create(5f), a5 = Vector256.Create(6f), a6 = Vector256.Create(7f), a7 = Vector256.Create(8f), a8 = Vector256.Create(9f), a9 = Vector256.Create(10f), a10 = Vector256.Create(11f), a11 = Vector256.Create(12f);
        for (long i = 0; i < iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, add);
            a1 = Fma.MultiplyAdd(a1, m, add);
            a2 = Fma.MultiplyAdd(a2, m, add);
            a3 = Fma.MultiplyAdd(a3, m, add);
            a4 = Fma.MultiplyAdd(a4, m, add);
            a5 = Fma.MultiplyAdd(a5, m, add);
            a6 = Fma.MultiplyAdd(a6, m, add);
            a7 = Fma.MultiplyAdd(a7, m, add);
            a8 = Fma.MultiplyAdd(a8, m, add);
            a9 = Fma.MultiplyAdd(a9, m, add);
            a10 = Fma.MultiplyAdd(a10, m, add);
            a11 = Fma.MultiplyAdd(a11, m, add);
        }
        return Vector256.Sum(a0) + Vector256.Sum(a1) + Vector256.Sum(a2) + Vector256.Sum(a3) + Vector256.Sum(a4) + Vector256.Sum(a5) + Vector256.Sum(a6) + Vector256.Sum(a7) + Vector256.Sum(a8) + Vector256.Sum(a9) + Vector256.Sum(a10) + Vector256.Sum(a11);
    }

    static float LoopScalar(long iterations)
    {
        var sums = new float[Chains];
        for (int c = 0; c < Chains; c++) sums[c] = c + 1;
        for (long i = 0; i < iterations; i++)
            for (int c = 0; c < Chains; c++) sums[c] = MathF.FusedMultiplyAdd(sums[c], 0.9999999f, 1e-7f);
        return sums.Sum();
    }
}
