using System.Diagnostics;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>One convolution pass at one shape: median synchronised time and the rate it implies (2·MACs per second).</summary>
public sealed record ConvShapeTiming(
    int N, int C, int H, int W, int K, int KH, int KW, int Stride, int Pad, string Pass, double MedianMs, double Gflops);

/// <summary>
/// `revnet bench convs`: forward, grad-input and grad-weight of every distinct convolution a model runs (found by
/// <see cref="ModelConvShapes"/>), each launch synchronised and timed after a warm-up launch, with the kernels the device
/// trains with. scripts/torch_conv_shapes.py times the same shapes with cuDNN from this benchmark's JSON.
/// </summary>
public static class ConvShapeBenchmark
{
    /// <summary>Times every distinct convolution of <paramref name="model"/> at <paramref name="batch"/> on <paramref name="device"/>: the median of <paramref name="repeat"/> launches per pass.</summary>
    /// <exception cref="ArgumentException">The meta device (it runs no kernels), or <paramref name="repeat"/> not positive.</exception>
    public static IReadOnlyList<ConvShapeTiming> Run(Device device, ModelConfig model, int batch, int repeat)
    {
        device.RequireValues("bench convs times kernels");
        if (repeat <= 0) throw new ArgumentException($"repeat must be positive, got {repeat}");
        var timings = new List<ConvShapeTiming>();
        foreach (var s in ModelConvShapes.Of(model, batch))
        {
            using var x = Filled(device, (long)s.N * s.C * s.H * s.W, 1);
            using var w = Filled(device, (long)s.K * s.C * s.KH * s.KW, 2);
            using var y = Filled(device, (long)s.N * s.K * s.OutH * s.OutW, 3);
            using var gx = Filled(device, x.Length, 4);
            using var gw = Filled(device, w.Length, 5);
            double flops = 2.0 * s.N * s.K * s.OutH * s.OutW * s.C * s.KH * s.KW;
            ConvShapeTiming Time(string pass, Action launch)
            {
                launch();
                device.Synchronize();
                var ms = new double[repeat];
                for (int r = 0; r < repeat; r++)
                {
                    var clock = Stopwatch.StartNew();
                    launch();
                    device.Synchronize();
                    ms[r] = clock.Elapsed.TotalMilliseconds;
                }
                double median = SampleStatistics.Of(ms).Median;
                return new ConvShapeTiming(s.N, s.C, s.H, s.W, s.K, s.KH, s.KW, s.Stride, s.Pad, pass, median, flops / (median / 1000) / 1e9);
            }
            timings.Add(Time("forward", () => device.Run(k => k.Conv2d.Forward(s, x.View, w.View, default, y.View))));
            timings.Add(Time("grad-input", () => device.Run(k => k.Conv2d.BackwardInput(s, y.View, w.View, gx.View))));
            timings.Add(Time("grad-weight", () => device.Run(k => k.Conv2d.BackwardWeight(s, x.View, y.View, gw.View))));
        }
        return timings;
    }

    static Tensor Filled(Device device, long length, int seed)
    {
        var random = new Random(seed);
        var data = new float[length];
        for (long i = 0; i < length; i++) data[i] = (float)(random.NextDouble() * 2 - 1) * 0.1f;
        return Tensor.FromArray(device, data, checked((int)length));
    }
}
