using RevNetIlgpu.Kernels.Ilgpu;
using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Benchmarks;

/// <summary>`revnet bench kernels` at batch 1 and tiny shapes on the CPU accelerator (ILGPU kernels, tiled vs reference): structure only, never speed.</summary>
public class KernelBenchmarkTests
{
    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    [Test]
    public void EveryRow_HasAPositiveRate_AndGemmKernelsComeTiledAndReference()
    {
        using var device = Device.Create("ilgpu-cpu");
        var context = ((IlgpuBackend)device.Backend).Context;
        bool tiledBefore = context.UseTiled;
        var shapes = new[] { (4, 6), (6, 3) };
        var timings = KernelBenchmark.Run(device, batch: 1, repeat: 1, shapes);

        Assert.That(timings, Has.All.Matches<KernelTiming>(t => t.Rate > 0 && !double.IsInfinity(t.Rate) && t.MedianMs > 0), "every row has a positive finite rate");
        foreach (var group in timings.GroupBy(t => (t.Kernel, t.Shape)))
        {
            var variants = group.Select(t => t.Variant).ToArray();
            string[] expected = group.Key.Kernel.StartsWith("batch norm") ? ["single"] : ["tiled", "reference"];
            Assert.That(variants, Is.EqualTo(expected), $"{group.Key.Kernel} at {group.Key.Shape}");
        }
        Assert.That(timings.Select(t => t.Shape).Distinct().Count(), Is.EqualTo(shapes.Length + 1), "each conv shape and the head");
        Assert.That(context.UseTiled, Is.EqualTo(tiledBefore), "the device's kernel choice is restored");
    }
}
