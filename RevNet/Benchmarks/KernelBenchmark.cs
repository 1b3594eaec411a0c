using System.Diagnostics;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// `revnet bench kernels`: the training kernels at RevNet CIFAR shapes, the tiled version
/// (<see cref="KernelContext.UseTiled"/>) against the plain reference, each launch synchronised and timed after a
/// warm-up launch (which also compiles it). Conv and GEMM report GFLOP/s (2·MACs per second); batch norm, which has
/// one version, reports GB/s of the least traffic it needs (every input read once, every output written once).
/// </summary>
public static class KernelBenchmark
{
    /// <summary>Half-widths of a RevNet's residual functions at the three CIFAR resolutions (channels, height = width).</summary>
    public static IReadOnlyList<(int Channels, int Size)> ConvShapes { get; } = [(16, 32), (32, 16), (64, 8)];

    /// <summary>The classifier head: pooled features to 10 classes (RevNet-110's last stage is 128 channels).</summary>
    public const int HeadFeatures = 128, HeadClasses = 10;

    /// <summary>Quarter-size shapes for the CPU accelerator, where every barrier of the tiled GEMM costs an OS-thread rendezvous (~0.1 ms).</summary>
    public static IReadOnlyList<(int Channels, int Size)> CpuConvShapes { get; } = [(8, 16), (16, 8), (32, 4)];

    /// <summary>Batch the CPU accelerator defaults to.</summary>
    public const int CpuBatch = 1;

    /// <summary>Times every kernel at <paramref name="convShapes"/> (default: <see cref="ConvShapes"/>) and the head.</summary>
    public static IReadOnlyList<KernelTiming> Run(Device device, int batch, int repeat, IReadOnlyList<(int Channels, int Size)>? convShapes = null)
    {
        if (device.Backend is not IlgpuBackend ilgpu)
            throw new ArgumentException($"bench kernels compares the ILGPU kernels, tiled vs reference, and {device.Name} runs none (use --device ilgpu-cpu, cuda or opencl)");
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}");
        if (repeat <= 0) throw new ArgumentException($"repeat must be positive, got {repeat}");
        var (k, context) = (ilgpu.Kernels, ilgpu.Context);
        bool tiledBefore = context.UseTiled;
        var buffers = new List<Tensor>();
        Tensor Random(long length)
        {
            var random = new Random(buffers.Count);
            var data = new float[length];
            for (long i = 0; i < length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
            var t = Tensor.FromArray(device, data, checked((int)length));
            buffers.Add(t);
            return t;
        }
        try
        {
            var timings = new List<KernelTiming>();
            foreach (var (c, size) in convShapes ?? ConvShapes)
            {
                var s = new Conv2dShape(batch, c, size, size, c, 3, 3, 1, 1);
                long image = (long)batch * c * size * size;
                var x = Random(image).View;
                var w = Random((long)c * c * 9).View;
                var gy = Random(image).View;
                var scratch = Random(image).View;
                var gw = Random((long)c * c * 9).View;
                var perChannel = Enumerable.Range(0, 5).Select(_ => Random(c).View).ToArray();
                string shape = $"N={batch} C=K={c} {size}x{size}";
                double convFlops = 2.0 * batch * c * size * size * c * 9;
                double bytes = image * sizeof(float);
                timings.AddRange(TimeBoth(context, "conv3x3 forward", shape, convFlops, repeat,
                    () => k.Conv2d.Forward(s, x, w, default, scratch)));
                timings.AddRange(TimeBoth(context, "conv3x3 grad-input", shape, convFlops, repeat,
                    () => k.Conv2d.BackwardInput(s, gy, w, scratch)));
                timings.AddRange(TimeBoth(context, "conv3x3 grad-weight", shape, convFlops, repeat,
                    () => k.Conv2d.BackwardWeight(s, x, gy, gw)));
                timings.Add(Time(context, "batch norm forward (stats + normalize)", shape, "single", "GB/s", 2 * bytes, repeat, () =>
                {
                    k.BatchNorm.ComputeBatchStats(batch, c, size * size, x, perChannel[0], perChannel[1], 1e-5f);
                    k.BatchNorm.Normalize(batch, c, size * size, x, perChannel[0], perChannel[1], perChannel[2], perChannel[3], scratch);
                }));
                timings.Add(Time(context, "batch norm backward", shape, "single", "GB/s", 3 * bytes, repeat,
                    () => k.BatchNorm.Backward(batch, c, size * size, x, gy, perChannel[0], perChannel[1], perChannel[2], scratch, perChannel[3], perChannel[4], batchStatistics: true)));
            }
            var features = Random((long)batch * HeadFeatures).View;
            var weights = Random((long)HeadClasses * HeadFeatures).View;
            var bias = Random(HeadClasses).View;
            var logits = Random((long)batch * HeadClasses).View;
            var gFeatures = Random((long)batch * HeadFeatures).View;
            var gWeights = Random((long)HeadClasses * HeadFeatures).View;
            var gBias = Random(HeadClasses).View;
            string head = $"N={batch} {HeadFeatures}->{HeadClasses}";
            double headFlops = 2.0 * batch * HeadFeatures * HeadClasses;
            timings.AddRange(TimeBoth(context, "linear forward", head, headFlops, repeat,
                () => k.Linear.Forward(batch, HeadFeatures, HeadClasses, features, weights, bias, logits)));
            timings.AddRange(TimeBoth(context, "linear grad-input", head, headFlops, repeat,
                () => k.Linear.BackwardInput(batch, HeadFeatures, HeadClasses, logits, weights, gFeatures)));
            timings.AddRange(TimeBoth(context, "linear grad-params", head, headFlops, repeat,
                () => k.Linear.BackwardParams(batch, HeadFeatures, HeadClasses, features, logits, gWeights, gBias)));
            return timings;
        }
        finally
        {
            context.UseTiled = tiledBefore;
            foreach (var t in buffers) t.Release();
        }
    }

    static IEnumerable<KernelTiming> TimeBoth(KernelContext k, string kernel, string shape, double flops, int repeat, Action launch)
    {
        foreach (bool tiled in new[] { true, false })
        {
            k.UseTiled = tiled;
            yield return Time(k, kernel, shape, tiled ? "tiled" : "reference", "GFLOP/s", flops, repeat, launch);
        }
    }

    static KernelTiming Time(KernelContext k, string kernel, string shape, string variant, string unit, double work, int repeat, Action launch)
    {
        launch();
        k.Accelerator.Synchronize();
        var ms = new double[repeat];
        for (int r = 0; r < repeat; r++)
        {
            var clock = Stopwatch.StartNew();
            launch();
            k.Accelerator.Synchronize();
            ms[r] = clock.Elapsed.TotalMilliseconds;
        }
        double median = SampleStatistics.Of(ms).Median;
        return new KernelTiming(kernel, shape, variant, unit, median, work / (median / 1000) / 1e9);
    }
}
