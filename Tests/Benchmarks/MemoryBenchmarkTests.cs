using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Benchmarks;

/// <summary>`revnet bench memory` on tiny models: the structure of its reports, and that meta and the CPU agree.</summary>
public class MemoryBenchmarkTests
{
    static readonly ModelConfig[] Tiny = [ModelConfig.Named("revnet-tiny"), ModelConfig.Named("resnet-tiny")];

    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    [Test]
    public void Reports_EveryRevNetBothWays_ResNetsStored_AndReconstructingPeaksBelowStored()
    {
        using var device = Device.Create("meta");
        var reports = MemoryBenchmark.Run(device, Tiny, batches: [4, 8], image: 16);

        Assert.That(reports.Select(r => (r.Model, r.Mode, r.Batch)), Is.EqualTo(new[]
        {
            ("revnet-tiny", "reconstruct", 4), ("revnet-tiny", "reconstruct+recompute", 4), ("revnet-tiny", "stored", 4), ("resnet-tiny", "stored", 4),
            ("revnet-tiny", "reconstruct", 8), ("revnet-tiny", "reconstruct+recompute", 8), ("revnet-tiny", "stored", 8), ("resnet-tiny", "stored", 8),
        }), "batches outermost, then every RevNet mode `revnet train` offers, reconstructing ones first; ResNets only stored");
        foreach (int batch in new[] { 4, 8 })
        {
            var reconstruct = reports.Single(r => r.Batch == batch && r.Mode == "reconstruct");
            var stored = reports.Single(r => r.Batch == batch && r.Model == "revnet-tiny" && r.Mode == "stored");
            Assert.That(reconstruct.PeakStepBytes, Is.LessThan(stored.PeakStepBytes), $"reconstructing peak below stored at batch {batch}");
            Assert.That(reconstruct.Params, Is.EqualTo(stored.Params), "one model, two modes");
            var recompute = reports.Single(r => r.Batch == batch && r.Mode == "reconstruct+recompute");
            Assert.That(recompute.PeakStepBytes, Is.LessThan(reconstruct.PeakStepBytes), $"recomputing transitions lowers the peak at batch {batch}");
        }
        Assert.That(reports, Has.All.Matches<RevNet.Training.MemoryReport>(r => r.Params > 0 && r.ActivationBytesAfterForward > 0 && r.PeakStepBytes >= r.ActivationBytesAfterForward));
        Assert.That(reports, Has.All.Matches<RevNet.Training.MemoryReport>(r => r.PeakHeldBytes >= r.PeakInUseBytes && r.PeakInUseBytes == r.HeldBeforeStepBytes + r.PeakStepBytes),
            "the device holds at least what is in use at the peak");
    }

    [Test]
    public void MetaFigures_EqualTheCpuAccelerator()
    {
        using var meta = Device.Create("meta");
        using var cpu = Device.Create("cpu");
        var onMeta = MemoryBenchmark.Run(meta, Tiny, batches: [2], image: 8);
        var onCpu = MemoryBenchmark.Run(cpu, Tiny, batches: [2], image: 8);
        Assert.That(onMeta, Is.EqualTo(onCpu), "the meta device counts the same allocations the cpu device makes");
    }

    [Test]
    public void PyTorchReference_CoversEveryPaperModelAtBatch64_AndNothingElse()
    {
        foreach (var config in MemoryBenchmark.PaperModels)
        {
            Assert.That(PyTorchMemoryReference.Find(config.Name, "stored", 64), Is.Not.Null, $"{config.Name} stored");
            if (config.Reversible) Assert.That(PyTorchMemoryReference.Find(config.Name, "reconstruct", 64)?.PeakProcessMiB, Is.Not.Null, $"{config.Name} reconstructing");
        }
        Assert.That(PyTorchMemoryReference.Find("revnet38", "stored", 128), Is.Null, "figures exist for batch 64 only");
    }
}
