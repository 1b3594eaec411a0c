using System.Text.Json;
using NUnit.Framework;
using RevNetIlgpu.Cli;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Benchmarks;

/// <summary>`revnet bench step` on a tiny RevNet on the `cpu` device (host kernels), with and without its PyTorch peer: structure only, never speed.</summary>
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
            AssertSpread(ratio);
        foreach (var timing in new[] { result.Reconstruct, result.Stored, result.Baseline })
            Assert.That(timing.KernelLaunches, Is.GreaterThan(50), $"{timing.Model} {timing.Mode}: a step launches a kernel per op");
        Assert.That(result.Reconstruct.KernelLaunchKind, Is.EqualTo(device.Backend.LaunchKind));
        Assert.That(result.PyTorch, Is.Null);
        Assert.That(result.Ratio, Is.Null);
        Assert.That(result.PyTorchSkipped, Is.Not.Empty, "says why there is no comparison");
    }

    [Test]
    public void Json_KeepsTheFieldsOthersRead()
    {
        using var device = Device.Create("cpu");
        var result = StepBenchmark.Run(device, ModelConfig.Named("revnet-tiny"), ModelConfig.Named("resnet-tiny"), batch: 2, image: 8, steps: 1, warmup: 0);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result, BenchmarkOutput.JsonOptions));
        var root = json.RootElement;
        foreach (string timing in new[] { "reconstruct", "stored", "baseline" })
        {
            Assert.That(root.GetProperty(timing).GetProperty("images_per_second").GetDouble(), Is.Positive, $"{timing}.images_per_second");
            Assert.That(root.GetProperty(timing).GetProperty("kernel_launches").GetInt64(), Is.Positive, $"{timing}.kernel_launches");
            Assert.That(root.GetProperty(timing).GetProperty("kernel_launch_kind").GetString(), Is.AnyOf("ilgpu", "host", "ilgpu+host"));
        }
        Assert.That(root.GetProperty("threads").GetInt32(), Is.EqualTo(HostThreads.Count));
        Assert.That(root.GetProperty("pytorch").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(root.GetProperty("ratio").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(root.GetProperty("pytorch_skipped").GetString(), Is.Not.Empty);
    }

    [Test]
    public void WithPyTorch_BothModesAreTimedEveryRound_OnTheSameNetwork()
    {
        using var peer = StartPeer();
        using var device = Device.Create("cpu");
        var result = StepBenchmark.Run(device, ModelConfig.Named("revnet-tiny"), ModelConfig.Named("resnet-tiny"), batch: 2, image: 8, steps: 2, warmup: 1, peer);

        var torch = result.PyTorch!;
        Assert.That(new[] { torch.Stored.Mode, torch.Reconstruct.Mode }, Is.EqualTo(new[] { "stored", "reconstruct" }));
        foreach (var timing in new[] { torch.Stored, torch.Reconstruct })
        {
            Assert.That(timing.Params, Is.EqualTo(result.Reconstruct.Params), "PyTorch built the same network");
            Assert.That(timing.StepMs, Has.Count.EqualTo(2), "one step per timed round");
            Assert.That(timing.ImagesPerSecond, Is.Positive.And.LessThan(double.PositiveInfinity));
            Assert.That(timing.KernelLaunches, Is.Null, "PyTorch's launches are not counted");
        }
        Assert.That(torch.Threads, Is.EqualTo(HostThreads.Count));
        var faster = torch.FasterMode == "stored" ? torch.Stored : torch.Reconstruct;
        Assert.That(faster.MedianMs, Is.EqualTo(Math.Min(torch.Stored.MedianMs, torch.Reconstruct.MedianMs)));
        AssertSpread(result.Ratio!);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result, BenchmarkOutput.JsonOptions));
        Assert.That(json.RootElement.GetProperty("pytorch").GetProperty("reconstruct").GetProperty("images_per_second").GetDouble(), Is.Positive);
        Assert.That(json.RootElement.GetProperty("ratio").GetProperty("median").GetDouble(), Is.Positive);
    }

    [Test]
    public void PyTorchPeer_RefusesANetworkWhoseParameterCountDiffers()
    {
        using var peer = StartPeer();
        var ex = Assert.Throws<InvalidOperationException>(() => peer.Build(ModelConfig.Named("revnet-tiny"), 2, 8, 1, expectedParams: 23_793));
        Assert.That(ex!.Message, Does.Contain("23,794").And.Contain("architectures differ"));
    }

    static PyTorchPeer StartPeer()
    {
        var peer = PyTorchPeer.TryStart(PyTorchPeer.DefaultPython, out string whyNot);
        Assume.That(peer, Is.Not.Null, $"no PyTorch here: {whyNot}");
        return peer!;
    }

    static void AssertSpread(SampleStatistics ratio)
    {
        Assert.That(ratio.Median, Is.Positive.And.LessThan(double.PositiveInfinity));
        Assert.That(ratio.Min, Is.LessThanOrEqualTo(ratio.Median));
        Assert.That(ratio.Max, Is.GreaterThanOrEqualTo(ratio.Median));
    }

    [Test]
    public void HostProfile_CoversEveryHostCallOfEachMode()
    {
        using var device = Device.Create("cpu");
        var result = StepBenchmark.Run(device, ModelConfig.Named("revnet-tiny"), ModelConfig.Named("resnet-tiny"), batch: 2, image: 8, steps: 2, warmup: 1,
            profileHostCalls: true);
        var profile = result.HostProfile!;
        Assert.That(profile.Sum(p => p.ReconstructCalls), Is.EqualTo(result.Reconstruct.KernelLaunches), "every host call of a reconstructing step");
        Assert.That(profile.Sum(p => p.StoredCalls), Is.EqualTo(result.Stored.KernelLaunches), "every host call of a stored step");
        // Reconstructing, a BN-ReLU-conv runs as one fused op; either way a convolution's forward is one call.
        long ConvForwards(Func<HostCallTiming, long> calls) =>
            profile.Where(p => p.EntryPoint is "Conv2dKernels.Forward" or "BatchNormReluConv2dKernels.Forward").Sum(calls);
        Assert.That(ConvForwards(p => p.ReconstructCalls), Is.GreaterThan(ConvForwards(p => p.StoredCalls)), "reconstruction runs the blocks' convolutions again");
        Assert.That(profile.All(p => p.ReconstructMs >= 0 && p.StoredMs >= 0));
    }

    [Test]
    public void HostProfile_NeedsTheHostDevice()
    {
        using var device = Device.Create("ilgpu-cpu");
        Assert.Throws<ArgumentException>(() => StepBenchmark.Run(device, ModelConfig.Named("revnet-tiny"), ModelConfig.Named("resnet-tiny"), 2, 8, 1, 0,
            profileHostCalls: true));
    }

    [Test]
    public void MetaDevice_IsRefused_ItRunsNoKernels()
    {
        using var device = Device.Create("meta");
        Assert.Throws<ArgumentException>(() => StepBenchmark.Run(device, ModelConfig.Named("revnet-tiny"), ModelConfig.Named("resnet-tiny"), 2, 8, 1, 0));
    }
}
