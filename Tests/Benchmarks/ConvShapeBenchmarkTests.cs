using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Benchmarks;

/// <summary>`revnet bench convs` and the model conv-shape listing it times: structure only, never speed.</summary>
public class ConvShapeBenchmarkTests
{
    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    [Test]
    public void RevNet38Shapes_AreTheStemStagesAndTransitions_AtTheGivenBatch()
    {
        var shapes = ModelConvShapes.Of(ModelConfig.Named("revnet38"), batch: 128);
        Assert.That(shapes, Has.All.Matches<Conv2dShape>(s => s.N == 128), "batch 128 throughout");
        Assert.That(shapes, Is.Unique, "each shape once");
        Assert.That(shapes[0], Is.EqualTo(new Conv2dShape(128, 3, 32, 32, 32, 3, 3, 1, 1)), "the stem: 3 → 32 channels at 32×32");
        // Reversible blocks run F and G on half the channels: 16, 32 and 56 at 32, 16 and 8 pixels.
        foreach (var (half, size) in new[] { (16, 32), (32, 16), (56, 8) })
            Assert.That(shapes, Does.Contain(new Conv2dShape(128, half, size, size, half, 3, 3, 1, 1)), $"{half} channels at {size}×{size}");
        // The downsampling units work on halves too: 32 → 64 and 64 → 112 channels as two halves each.
        Assert.That(shapes.Where(s => s.Stride == 2).Select(s => (s.C, s.K)), Is.EquivalentTo(new[] { (16, 32), (32, 56) }), "the two downsampling transitions");
    }

    [Test]
    public void EveryShape_HasThreePasses_WithPositiveTimes()
    {
        using var device = Device.Create("cpu");
        var config = ModelConfig.Named("revnet-tiny");
        var timings = ConvShapeBenchmark.Run(device, config, batch: 1, repeat: 1);
        var shapes = ModelConvShapes.Of(config, batch: 1);
        Assert.That(timings, Has.Count.EqualTo(3 * shapes.Count), "forward, grad-input, grad-weight per shape");
        Assert.That(timings.Select(t => t.Pass).Distinct(), Is.EqualTo(new[] { "forward", "grad-input", "grad-weight" }));
        Assert.That(timings, Has.All.Matches<ConvShapeTiming>(t => t.MedianMs > 0 && t.Gflops > 0 && !double.IsInfinity(t.Gflops)));
    }
}
