using System.Diagnostics;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// One host conv kernel by one algorithm at one shape: the fastest and the median time of the timed calls, the
/// direct-equivalent GFLOP/s of the fastest (2·MACs of the direct convolution per second, so Winograd can pass the FMA
/// peak; on a shared machine the least disturbed call, comparable with the best-of FMA peak), that rate as a fraction of
/// the FMA peak on the same threads, the error against float64 (max |error| / max |value|) and the settings of
/// --conv-algorithm (auto, fastest, direct, winograd) that run this algorithm here.
/// </summary>
public sealed record HostConvTiming(string Kernel, string Algorithm, IReadOnlyList<string> RunBy, string Layer, string Shape, int PerForward,
    double BestMs, double MedianMs, double Gflops, double FractionOfPeak, double RelativeError);

/// <summary>The host conv table with the FMA peaks measured in the same run (<see cref="FmaPeak"/>).</summary>
public sealed record HostConvReport(string Simd, int Threads, int ErrorBatch, double PeakOneThreadGflops, double PeakAllThreadsGflops, IReadOnlyList<HostConvTiming> Timings);

/// <summary>
/// `revnet bench kernels` on the host device: the host convolution's forward, grad-input and grad-weight on every
/// distinct convolution of a model (RevNet-38 by default, 32x32 input) at a batch, by every algorithm the pass has at
/// that shape (direct; Winograd F(2x2,3x3) and F(4x4,3x3) at 3x3 stride 1), in GFLOP/s next to this machine's FMA
/// peak measured in the same run, so the table reads as a fraction of the physical limit.
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

    /// <summary>Every distinct convolution of <paramref name="config"/> on image x image inputs and how many of each its forward pass runs, named by order of first use.</summary>
    public static IReadOnlyList<(string Layer, Conv2dShape Shape, int PerForward)> OfModel(ModelConfig config, int batch, int image = 32) =>
        ModelConvShapes.CountsOf(config, batch, image).Select((c, i) => ($"conv {i + 1}", c.Shape, c.Count)).ToList();

    /// <summary>Least time each kernel is called before it is timed.</summary>
    public const int WarmUpMs = 20;

    /// <summary>Images in the float64 error measurement (the error of one output does not depend on the batch).</summary>
    public const int ErrorBatch = 2;

    /// <summary>The algorithms <paramref name="pass"/> has at <paramref name="s"/>: direct, and both Winograd tiles where they apply.</summary>
    public static IReadOnlyList<ConvAlgorithm> AlgorithmsFor(Conv2dShape s, ConvPass pass) =>
        WinogradPlan.Applies(s) ? [ConvAlgorithm.Direct, ConvAlgorithm.WinogradF2, ConvAlgorithm.WinogradF4] : [ConvAlgorithm.Direct];

    /// <summary>
    /// Times each pass at each shape by each of its algorithms (<paramref name="repeat"/> calls after <see cref="WarmUpMs"/>
    /// of warm-up calls, at least two), measures each one's error on <see cref="ErrorBatch"/> images, and measures the
    /// FMA peaks before and after the table, keeping the higher of each: the ceiling the machine reached during the run.
    /// </summary>
    public static HostConvReport Run(Device device, int batch, int repeat, IReadOnlyList<(string Layer, Conv2dShape Shape, int PerForward)>? shapes = null)
    {
        if (device.Backend is not HostBackend) throw new ArgumentException($"the host conv table times the host kernels (--device cpu), not {device.Name}");
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}");
        if (repeat <= 0) throw new ArgumentException($"repeat must be positive, got {repeat}");
        double peakOne = FmaPeak.Measure(1), peakAll = FmaPeak.Measure(HostThreads.Count);
        var measured = new List<(string Kernel, ConvAlgorithm Algorithm, IReadOnlyList<string> RunBy, string Layer, string Shape, int PerForward, double Best, double Median, double Flops, double Error)>();
        foreach (var (layer, s, perForward) in shapes ?? RevNet38(batch))
        {
            var random = new Random(measured.Count);
            float[] Random(long length) => Enumerable.Range(0, checked((int)length)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            string shape = $"{s.C}->{s.K} {s.H}x{s.W} {s.KH}x{s.KW}/{s.Stride}";
            double flops = 2.0 * s.N * s.K * s.OutH * s.OutW * s.C * s.KH * s.KW;
            var small = s with { N = Math.Min(s.N, ErrorBatch) };
            var (x, w, gy) = (Random((long)s.N * s.C * s.H * s.W), Random((long)s.K * s.C * s.KH * s.KW), Random((long)s.N * s.K * s.OutH * s.OutW));
            var (smallX, smallGy) = (x[..(small.N * s.C * s.H * s.W)], gy[..(small.N * s.K * s.OutH * s.OutW)]);
            using var full = new ConvOperands(device, s, x, w, Random(s.K), gy);
            using var few = new ConvOperands(device, small, smallX, w, null, smallGy);
            foreach (var pass in Enum.GetValues<ConvPass>())
            {
                double[] reference = pass switch
                {
                    ConvPass.Forward => Conv2dFloat64Reference.Forward(small, smallX, w),
                    ConvPass.GradInput => Conv2dFloat64Reference.BackwardInput(small, smallGy, w),
                    _ => Conv2dFloat64Reference.BackwardWeight(small, smallX, smallGy),
                };
                foreach (var algorithm in AlgorithmsFor(s, pass))
                {
                    using var pin = HostConvAlgorithm.Pin(algorithm);
                    var (best, median) = Time(() => full.Run(pass), repeat);
                    float[] smallResult = few.Once(pass);
                    var runBy = Enum.GetValues<ConvAlgorithmSetting>().Where(setting => HostConvAlgorithm.Choose(s, pass, setting) == algorithm)
                        .Select(SettingName).ToList();
                    measured.Add((KernelName(pass), algorithm, runBy, layer, shape, perForward, best, median, flops,
                        Conv2dFloat64Reference.RelativeError(smallResult, reference)));
                }
            }
        }
        peakOne = Math.Max(peakOne, FmaPeak.Measure(1));
        peakAll = Math.Max(peakAll, FmaPeak.Measure(HostThreads.Count));
        var timings = measured.Select(m =>
        {
            double gflops = m.Flops / (m.Best / 1000) / 1e9;
            return new HostConvTiming(m.Kernel, AlgorithmName(m.Algorithm), m.RunBy, m.Layer, m.Shape, m.PerForward, m.Best, m.Median, gflops, gflops / peakAll, m.Error);
        }).ToList();
        return new HostConvReport(HostSimd.Active.ToString(), HostThreads.Count, ErrorBatch, peakOne, peakAll, timings);
    }

    /// <summary>A setting as --conv-algorithm spells it (the 'run by' column).</summary>
    public static string SettingName(ConvAlgorithmSetting setting) => setting.ToString().ToLowerInvariant();

    /// <summary>The table's name of a pass.</summary>
    public static string KernelName(ConvPass pass) => pass switch { ConvPass.Forward => "forward", ConvPass.GradInput => "grad-input", _ => "grad-weight" };

    /// <summary>The table's name of an algorithm.</summary>
    public static string AlgorithmName(ConvAlgorithm algorithm) => algorithm switch
    {
        ConvAlgorithm.WinogradF2 => "winograd F(2x2,3x3)",
        ConvAlgorithm.WinogradF4 => "winograd F(4x4,3x3)",
        _ => "direct",
    };

    /// <summary>A convolution's operands on the device, and one pass over them through the Conv2d contract.</summary>
    sealed class ConvOperands(Device device, Conv2dShape s, float[] x, float[] w, float[]? bias, float[] gy) : IDisposable
    {
        readonly Tensor x = Tensor.FromArray(device, x, x.Length), w = Tensor.FromArray(device, w, w.Length), gy = Tensor.FromArray(device, gy, gy.Length),
            y = Tensor.Zeros(device, gy.Length), gx = Tensor.Zeros(device, x.Length), gw = Tensor.Zeros(device, w.Length);

        // Without a bias (null) the forward matches the float64 reference, which has none.
        readonly Tensor? bias = bias is null ? null : Tensor.FromArray(device, bias, bias.Length);

        /// <summary>Runs <paramref name="pass"/> into y, gx (overwritten) or gw (accumulated).</summary>
        public void Run(ConvPass pass)
        {
            switch (pass)
            {
                case ConvPass.Forward: device.Run(k => k.Conv2d.Forward(s, x.View, w.View, bias?.View ?? default, y.View)); break;
                case ConvPass.GradInput: device.Run(k => k.Conv2d.BackwardInput(s, gy.View, w.View, gx.View)); break;
                default: device.Run(k => k.Conv2d.BackwardWeight(s, x.View, gy.View, gw.View)); break;
            }
        }

        /// <summary>The result of one <paramref name="pass"/> from zeroed gradients.</summary>
        public float[] Once(ConvPass pass)
        {
            device.Run(k => k.Memory.Zero(gw.View));
            Run(pass);
            return (pass switch { ConvPass.Forward => y, ConvPass.GradInput => gx, _ => gw }).ToArray();
        }

        public void Dispose()
        {
            foreach (var t in new[] { x, w, bias, gy, y, gx, gw }) t?.Dispose();
        }
    }

    /// <summary>
    /// The fastest and the median of <paramref name="repeat"/> timed calls, after at least two calls and 20 ms: a new helper
    /// thread starts on its creator's core and the scheduler spreads the two only after a few ms, so the first kernel timed
    /// in a process ran near one thread's rate.
    /// </summary>
    static (double Best, double Median) Time(Action call, int repeat)
    {
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
        return (stats.Min, stats.Median);
    }
}
