using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Benchmarks;

/// <summary>`revnet bench step` on a tiny RevNet on the `cpu` device (host kernels): structure only, never speed.</summary>
public class StepBenchmarkTests
{
    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    [Test]
    public void Result_HasEveryTimedStep_AndPositiveFiniteRatios()
    {
        using var device = Device.Create("cpu");
        var result = StepBenchmark.Run(device, ModelConfig.Named("revnet-tiny"), ModelConfig.Named("resnet-tiny"), batch: 2, image: 8, steps: 3, warmup: 1);

        Assert.That(new[] { result.Reconstruct.Mode, result.Stored.Mode, result.Baseline.Mode }, Is.EqualTo(new[] { "reconstruct", "stored", "stored" }));
        Assert.That(result.Baseline.Model, Is.EqualTo("resnet-tiny"));
        Assert.That(result.Reconstruct.Params, Is.EqualTo(result.Stored.Params), "one model, two modes");
        foreach (var timing in new[] { result.Reconstruct, result.Stored, result.Baseline })
        {
            Assert.That(timing.StepMs, Has.Count.EqualTo(3), $"{timing.Model} {timing.Mode}: one time per timed step, warm-up excluded");
            Assert.That(timing.MedianMs, Is.Positive.And.LessThan(double.PositiveInfinity));
            Assert.That(timing.ImagesPerSecond, Is.Positive.And.LessThan(double.PositiveInfinity));
        }
        foreach (var ratio in new[] { result.ReconstructOverStored, result.BaselineOverStored })
        {
            Assert.That(ratio.Median, Is.Positive.And.LessThan(double.PositiveInfinity));
            Assert.That(ratio.Min, Is.LessThanOrEqualTo(ratio.Median));
            Assert.That(ratio.Max, Is.GreaterThanOrEqualTo(ratio.Median));
        }
    }

    [Test]
    public void MetaDevice_IsRefused_ItRunsNoKernels()
    {
        using var device = Device.Create("meta");
        Assert.Throws<ArgumentException>(() => StepBenchmark.Run(device, ModelConfig.Named("revnet-tiny"), ModelConfig.Named("resnet-tiny"), 2, 8, 1, 0));
    }
}
