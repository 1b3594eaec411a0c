using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Reversible;

/// <summary>Memory claims, read from the allocator's exact counters: reconstructing RevNets stop growing with depth.</summary>
public class ActivationMemoryTests
{
    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    static ModelConfig Depth(int reversibleBlocksPerStage) =>
        new($"revnet-d{reversibleBlocksPerStage}", true, Enumerable.Repeat(reversibleBlocksPerStage + 1, 3).ToArray(), 8, [8, 16, 32]);

    [TestCase("meta")]
    [TestCase("cpu")]
    public void ReconstructingActivationMemory_DoesNotGrowWithDepth_StoredDoes(string deviceName)
    {
        using var device = Device.Create(deviceName);
        var shallow = MemoryProfile.Measure(device, Depth(3), ActivationMemory.Reconstruct, batch: 4, image: 16);
        var deep = MemoryProfile.Measure(device, Depth(9), ActivationMemory.Reconstruct, batch: 4, image: 16);
        var shallowStored = MemoryProfile.Measure(device, Depth(3), ActivationMemory.Stored, batch: 4, image: 16);
        var deepStored = MemoryProfile.Measure(device, Depth(9), ActivationMemory.Stored, batch: 4, image: 16);
        TestContext.Out.WriteLine($"reconstruct peak {shallow.PeakStepBytes} → {deep.PeakStepBytes}; stored peak {shallowStored.PeakStepBytes} → {deepStored.PeakStepBytes}");

        Assert.That(Math.Abs(deep.PeakStepBytes - shallow.PeakStepBytes), Is.LessThan(0.02 * shallow.PeakStepBytes), "peak step memory, 3 vs 9 blocks per stage");
        Assert.That(Math.Abs(deep.ActivationBytesAfterForward - shallow.ActivationBytesAfterForward),
            Is.LessThan(0.02 * shallow.ActivationBytesAfterForward), "activation memory after forward, 3 vs 9 blocks per stage");
        Assert.That(deepStored.ActivationBytesAfterForward, Is.GreaterThan(2 * shallowStored.ActivationBytesAfterForward), "stored activations grow with depth");
        Assert.That(deepStored.PeakStepBytes, Is.GreaterThan(2 * deep.PeakStepBytes), "at 9 blocks per stage storing costs far more than rebuilding");
    }

    [Test]
    public void RecomputingTransitionUnits_HoldsLessAfterForwardThanKeepingThem()
    {
        using var device = Device.Create("meta");
        var keep = MemoryProfile.Measure(device, Depth(3), ActivationMemory.Reconstruct, batch: 8, image: 16);
        var recompute = MemoryProfile.Measure(device, Depth(3), ActivationMemory.ReconstructAndRecompute, batch: 8, image: 16);
        TestContext.Out.WriteLine($"after forward: {keep.ActivationBytesAfterForward} kept, {recompute.ActivationBytesAfterForward} recomputed");
        Assert.That(recompute.ActivationBytesAfterForward, Is.LessThan(keep.ActivationBytesAfterForward / 2));
        Assert.That(recompute.PeakStepBytes, Is.LessThan(keep.PeakStepBytes));
    }

    [Test]
    public void MetaDevice_CountsEqualTheCpuAccelerator_StepByStep()
    {
        var config = Depth(2);
        foreach (var memory in new[] { ActivationMemory.Reconstruct, ActivationMemory.Stored })
        {
            using var cpu = Device.Create("cpu");
            using var meta = Device.Create("meta");
            var onCpu = Enumerable.Range(1, 3).Select(steps => MemoryProfile.Measure(cpu, config, memory, batch: 3, image: 12, steps)).ToList();
            var onMeta = Enumerable.Range(1, 3).Select(steps => MemoryProfile.Measure(meta, config, memory, batch: 3, image: 12, steps)).ToList();
            Assert.That(onMeta, Is.EqualTo(onCpu), $"reports after 1, 2 and 3 steps, {memory.Name()}");
            Assert.That(meta.Allocator.Requests, Is.EqualTo(cpu.Allocator.Requests), "every allocation request");
            Assert.That(meta.Allocator.PeakBytesInUse, Is.EqualTo(cpu.Allocator.PeakBytesInUse));
            Assert.That(meta.Allocator.DeviceAllocations, Is.EqualTo(cpu.Allocator.DeviceAllocations));
        }
    }

    [Test]
    public void AUsersOwnNetwork_IsProfiledInEveryModeItHas_AndExactAffineCostsItsInformationBuffer()
    {
        using var device = Device.Create("meta");
        var additive = CustomRevNet.Blueprint(channels: 1, width: 16, classes: 10, image: 28, blocks: 6);
        var reports = MemoryProfile.MeasureEveryMode(device, additive, batch: 64).ToList();
        Assert.That(reports.Select(r => r.Mode), Is.EqualTo(new[] { "reconstruct", "stored" }), "no recomputed units: two modes");
        TestContext.Out.WriteLine(string.Join("; ", reports.Select(r => $"{r.Mode} {r.PeakStepBytes / 1048576.0:F2} MiB")));
        Assert.That(reports[1].ActivationBytesAfterForward, Is.GreaterThan(4 * reports[0].ActivationBytesAfterForward), "six blocks stored against their output kept");

        var affine = CustomRevNet.Blueprint(channels: 1, width: 16, classes: 10, image: 28, blocks: 6, affine: true);
        var floatAffine = MemoryProfile.Measure(device, affine, ActivationMemory.Reconstruct, batch: 64);
        var exactAffine = MemoryProfile.Measure(device, affine, ActivationMemory.Reconstruct, batch: 64, exact: RevNetIlgpu.Kernels.FixedPointFormat.Default);
        long half = 64L * 8 * 28 * 28 * sizeof(float), information = 2 * half; // one 64-bit word per element of a half
        Assert.That(exactAffine.Exact, Is.True);
        Assert.That(exactAffine.ActivationBytesAfterForward - floatAffine.ActivationBytesAfterForward, Is.EqualTo(information),
            "the exact affine sequence keeps exactly its information buffer besides its output, for any depth");
    }
}
