using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Reversible;

/// <summary>
/// The memory floors of issues 11 and 17, on the meta device (which counts exactly like a real one) at batch 64, 32x32x3:
/// the leanest reconstructing mode's peak step memory (40 / 40 / 120 MiB; measured 36 / 36 / 118), the allocator's held
/// bytes against the bytes in use, and the saving over storing activations.
/// </summary>
public class MemoryFloorTests
{
    const long MiB = 1 << 20;

    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    [TestCase("revnet38", 40)]
    [TestCase("revnet110", 40)]
    [TestCase("revnet164", 120)]
    public void LeanestReconstructingPeak_StaysUnderTheFloor_AndTheDeviceHoldsAtMost15PercentMore(string model, int floorMiB)
    {
        using var device = Device.Create("meta");
        var reports = MemoryProfile.MeasureEveryMode(device, ModelConfig.Named(model), batch: 64, image: 32).ToList();
        foreach (var r in reports)
            TestContext.Out.WriteLine($"{r.Model} {r.Mode}: peak step {r.PeakStepBytes / (double)MiB:F1} MiB, in use {r.PeakInUseBytes / (double)MiB:F1}, held {r.PeakHeldBytes / (double)MiB:F1}");
        var leanest = reports.Where(r => r.Mode != ActivationMemory.Stored.Name()).MinBy(r => r.PeakStepBytes)!;
        Assert.That(leanest.PeakStepBytes, Is.LessThanOrEqualTo(floorMiB * MiB), $"{model} {leanest.Mode} peak step bytes");
        foreach (var r in reports)
            Assert.That(r.PeakHeldBytes, Is.LessThanOrEqualTo(1.15 * r.PeakInUseBytes), $"{model} {r.Mode}: bytes held from the device against bytes in use at the peak");
    }

    [Test]
    public void RevNet110_StoredPeak_IsAtLeastTenTimesTheLeanestReconstructingOne()
    {
        using var device = Device.Create("meta");
        var reports = MemoryProfile.MeasureEveryMode(device, ModelConfig.Named("revnet110"), batch: 64, image: 32).ToList();
        var stored = reports.Single(r => r.Mode == ActivationMemory.Stored.Name());
        var leanest = reports.Where(r => r.Mode != ActivationMemory.Stored.Name()).MinBy(r => r.PeakStepBytes)!;
        Assert.That((double)stored.PeakStepBytes / leanest.PeakStepBytes, Is.GreaterThanOrEqualTo(10.0));
    }
}
