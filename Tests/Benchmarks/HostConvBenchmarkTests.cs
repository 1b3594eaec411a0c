using RevNetIlgpu.Engine;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.RevNet.Benchmarks;

namespace RevNetIlgpu.Tests.Benchmarks;

/// <summary>The host conv table of `revnet bench kernels` at tiny shapes, and the FMA peak: structure only, never speed.</summary>
public class HostConvBenchmarkTests
{
    [Test]
    public void RevNet38Shapes_AreTheNetworksThirtySevenConvolutions()
    {
        var shapes = HostConvBenchmark.RevNet38(batch: 32);
        Assert.That(shapes.Sum(s => s.PerForward), Is.EqualTo(37), "RevNet-38: 37 convolutions and one linear layer");
        Assert.That(shapes.Select(s => s.Shape).Distinct().Count(), Is.EqualTo(shapes.Count), "each distinct shape once");
        Assert.That(shapes.All(s => s.Shape.N == 32), "the batch is the given one");
    }

    [Test]
    public void EveryKernelAtEveryShape_HasAPositiveRate_AgainstAPositivePeak()
    {
        var shapes = new[] { ("tiny", new Conv2dShape(2, 3, 8, 8, 5, 3, 3, 1, 1), 2), ("tiny strided", new Conv2dShape(2, 4, 8, 8, 6, 3, 3, 2, 1), 1) };
        using var device = Device.Create("cpu");
        var report = HostConvBenchmark.Run(device, batch: 2, repeat: 1, shapes);

        Assert.That(report.PeakOneThreadGflops, Is.GreaterThan(0), "single-thread FMA peak");
        Assert.That(report.PeakAllThreadsGflops, Is.GreaterThan(0), "all-thread FMA peak");
        Assert.That(report.Threads, Is.EqualTo(HostThreads.Count));
        Assert.That(report.Timings.Select(t => (t.Layer, t.Kernel, t.Algorithm)), Is.EquivalentTo(
            from s in shapes from pass in Enum.GetValues<ConvPass>() from a in HostConvBenchmark.AlgorithmsFor(s.Item2, pass)
            select (s.Item1, HostConvBenchmark.KernelName(pass), HostConvBenchmark.AlgorithmName(a))), "each pass by each of its algorithms at each shape");
        Assert.That(report.Timings.Count(t => t.Algorithm != "direct"), Is.EqualTo(6), "Winograd, both tiles, every pass, at the stride-1 shape only");
        Assert.That(report.Timings, Has.All.Matches<HostConvTiming>(t => t.Gflops > 0 && !double.IsInfinity(t.Gflops) && t.MedianMs > 0
            && Math.Abs(t.FractionOfPeak - t.Gflops / report.PeakAllThreadsGflops) < 1e-12), "positive finite rates, fraction of the all-thread peak");
        Assert.That(report.Timings, Has.All.Matches<HostConvTiming>(t => t.RelativeError < 1e-5), "every algorithm within float32 rounding of float64");
        foreach (var setting in new[] { "direct", "auto", "fastest", "winograd" })
            Assert.That(report.Timings.Count(t => t.RunBy.Contains(setting)), Is.EqualTo(6), $"one algorithm per shape and pass runs under {setting}");
    }
}
