using System.Diagnostics;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// One host conv kernel at one RevNet-38 shape: the fastest and the median time of the timed calls, the GFLOP/s of the
/// fastest (on a shared machine the least disturbed call, comparable with the best-of FMA peak) and that rate as a
/// fraction of the FMA peak on the same threads.
/// </summary>
public sealed record HostConvTiming(string Kernel, string Layer, string Shape, int PerForward, double BestMs, double MedianMs, double Gflops, double FractionOfPeak);

/// <summary>The host conv table with the FMA peaks measured in the same run (<see cref="FmaPeak"/>).</summary>
public sealed record HostConvReport(string Simd, int Threads, double PeakOneThreadGflops, double PeakAllThreadsGflops, IReadOnlyList<HostConvTiming> Timings);

/// <summary>
/// `revnet bench kernels` on the host device: the host convolution's forward, grad-input and grad-weight on every
/// distinct convolution of RevNet-38 (32x32x3 input) at a batch, in GFLOP/s (2·MACs per second) next to this
/// machine's FMA peak measured in the same run, so the table reads as a fraction of the physical limit.
/// </summary>
public static class HostConvBenchmark
{
    /// <summary>
    /// RevNet-38's distinct convolutions (ModelConfig "revnet38": stem 3→32, stages 32/64/112 at strides 1, 2, 2, F and G on
    /// half the channels, 3x3 pad 1) and how many of each one forward pass runs (37 in all).
    /// </summary>
    public static IReadOnlyList<(string Layer, Conv2dShape Shape, int PerForward)> RevNet38(int batch) =>
    [
        ("stem", new(batch, 3, 32, 32, 32, 3, 3, 1, 1), 1),
        ("stage1 F/G", new(batch, 16, 32, 32, 16, 3, 3, 1, 1), 12),
        ("stage2 F first", new(batch, 16, 32, 32, 32, 3, 3, 2, 1), 1),
        ("stage2 F/G", new(batch, 32, 16, 16, 32, 3, 3, 1, 1), 11),
        ("stage3 F first", new(batch, 32, 16, 16, 56, 3, 3, 2, 1), 1),
        ("stage3 F/G", new(batch, 56, 8, 8, 56, 3, 3, 1, 1), 11),
    ];

    /// <summary>Least time each kernel is called before it is timed.</summary>
    public const int WarmUpMs = 20;

    /// <summary>
    /// Times each kernel at each shape (<paramref name="repeat"/> calls after <see cref="WarmUpMs"/> of warm-up calls, at
    /// least two) and measures the FMA peaks before and after the table, keeping the higher of each: the ceiling the
    /// machine reached during the run.
    /// </summary>
    public static HostConvReport Run(Device device, int batch, int repeat, IReadOnlyList<(string Layer, Conv2dShape Shape, int PerForward)>? shapes = null)
    {
        if (device.Backend is not HostBackend) throw new ArgumentException($"the host conv table times the host kernels (--device cpu), not {device.Name}");
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}");
        if (repeat <= 0) throw new ArgumentException($"repeat must be positive, got {repeat}");
        double peakOne = FmaPeak.Measure(1), peakAll = FmaPeak.Measure(HostThreads.Count);
        var measured = new List<(string Kernel, string Layer, string Shape, int PerForward, double Best, double Median, double Flops)>();
        foreach (var (layer, s, perForward) in shapes ?? RevNet38(batch))
        {
            var random = new Random(measured.Count);
            Tensor Random(long length) =>
                Tensor.FromArray(device, Enumerable.Range(0, checked((int)length)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), checked((int)length));
            using var x = Random((long)s.N * s.C * s.H * s.W);
            using var w = Random((long)s.K * s.C * s.KH * s.KW);
            using var bias = Random(s.K);
            using var y = Random((long)s.N * s.K * s.OutH * s.OutW);
            using var gx = Tensor.Zeros(device, (int)x.Length);
            using var gw = Tensor.Zeros(device, (int)w.Length);
            string shape = $"{s.C}->{s.K} {s.H}x{s.W} {s.KH}x{s.KW}/{s.Stride}";
            double flops = 2.0 * s.N * s.K * s.OutH * s.OutW * s.C * s.KH * s.KW;
            void Time(string kernel, Action call)
            {
                // At least two calls and 20 ms: a new helper thread starts on its creator's core and the scheduler
                // spreads the two only after a few ms, so the first kernel timed in a process ran near one thread's rate.
                var warmUp = Stopwatch.StartNew();
                for (int calls = 0; calls < 2 || warmUp.ElapsedMilliseconds < WarmUpMs; calls++) call();
                var ms = new double[repeat];
                for (int r = 0; r < repeat; r++)
                {
                    var clock = Stopwatch.StartNew();
                    call();
                    ms[r] = clock.Elapsed.TotalMilliseconds;
                }
                var stats = SampleStatistics.Of(ms);
                measured.Add((kernel, layer, shape, perForward, stats.Min, stats.Median, flops));
            }
            Time("forward", () => device.Run(k => k.Conv2d.Forward(s, x.View, w.View, bias.View, y.View)));
            Time("grad-input", () => device.Run(k => k.Conv2d.BackwardInput(s, y.View, w.View, gx.View)));
            Time("grad-weight", () => device.Run(k => k.Conv2d.BackwardWeight(s, x.View, y.View, gw.View)));
        }
        peakOne = Math.Max(peakOne, FmaPeak.Measure(1));
        peakAll = Math.Max(peakAll, FmaPeak.Measure(HostThreads.Count));
        var timings = measured.Select(m =>
        {
            double gflops = m.Flops / (m.Best / 1000) / 1e9;
            return new HostConvTiming(m.Kernel, m.Layer, m.Shape, m.PerForward, m.Best, m.Median, gflops, gflops / peakAll);
        }).ToList();
        return new HostConvReport(HostSimd.Active.ToString(), HostThreads.Count, peakOne, peakAll, timings);
    }
}
