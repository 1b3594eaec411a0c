using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Reliability;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Engine;

/// <summary>The two CPU devices: `cpu` has the host backend (no ILGPU kernel loader at all); `ilgpu-cpu` the ILGPU backend.</summary>
public class HostDeviceTests
{
    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    [Test]
    public void Names_CpuHasTheHostBackend_IlgpuCpuTheIlgpuOne_UnknownNameListsBoth()
    {
        using (var cpu = Device.Create("cpu"))
        {
            Assert.That((cpu.Kind, cpu.Backend is HostBackend), Is.EqualTo((DeviceKind.Cpu, true)));
            Assert.That(cpu.Name, Does.StartWith("cpu: SIMD host kernels"));
        }
        using (var ilgpu = Device.Create("ilgpu-cpu"))
        {
            Assert.That((ilgpu.Kind, ilgpu.Backend is IlgpuBackend), Is.EqualTo((DeviceKind.IlgpuCpu, true)));
            Assert.That(ilgpu.Name, Does.StartWith("ilgpu-cpu: ILGPU kernels"));
        }
        var error = Assert.Throws<ArgumentException>(() => Device.Create("gpu0"))!;
        Assert.That(error.Message, Does.Contain("'gpu0'").And.Contain("cpu, ilgpu-cpu"));
    }

    /// <summary>A training step with every op's NaN check, an SGD step and an evaluation forward: every kernel the engine has.</summary>
    static void TrainStepAndEvaluate(Device device)
    {
        device.CheckEveryOp = true;
        var config = ModelConfig.Named("revnet-tiny");
        var model = new ResidualNetwork(config);
        var random = new Random(5);
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var images = Tensor.FromArray(device, Enumerable.Range(0, 2 * config.InputChannels * 64).Select(_ => (float)random.NextDouble()).ToArray(),
            2, config.InputChannels, 8, 8);
        using var labels = Tensor.FromArray(device, [1, 3], 2);
        var statistics = TrainingStep.Run(model, store, images, labels);
        Assert.That(float.IsFinite(statistics.Loss), $"loss {statistics.Loss}");
        using (var sgd = new SgdOptimizer(store, new SgdSettings(0.1f, 0.9f, 1e-4f)))
            sgd.Step();
        model.Eval();
        device.Tape.IsRecording = false;
        using var logits = model.Forward(images);
        Assert.That(logits.ToArray(), Has.All.Matches<float>(float.IsFinite));
    }

    [Test]
    public void TrainingStep_OnCpu_RunsHostCalls_WhileIlgpuCpuLoadsIlgpuKernels()
    {
        using var cpu = Device.Create("cpu");
        TrainStepAndEvaluate(cpu);
        Assert.That((cpu.Backend.LaunchKind, cpu.Backend.KernelLaunches), Is.EqualTo(("host", cpu.Backend.Calls.Count)), "every op ran a host kernel");
        Assert.That(cpu.Backend.KernelLaunches, Is.GreaterThan(100));

        using var ilgpu = Device.Create("ilgpu-cpu");
        TrainStepAndEvaluate(ilgpu);
        Assert.That(((IlgpuBackend)ilgpu.Backend).Context.LoadedKernels, Is.Not.Empty, "the same workload on ilgpu-cpu launches ILGPU kernels");
    }

    [Test]
    public void TensorFillsAndCopies_OnCpu_RoundTrip()
    {
        using var cpu = Device.Create("cpu");
        using var t = Tensor.FromArray(cpu, [1f, -2f, 3.5f], 3);
        Assert.That(t.ToArray(), Is.EqualTo(new[] { 1f, -2f, 3.5f }));
        t.FillZero();
        Assert.That(t.ToArray(), Is.EqualTo(new[] { 0f, 0f, 0f }));
        using var ints = Tensor.FromArray(cpu, [7, -1], 2);
        Assert.That(ints.ToIntArray(), Is.EqualTo(new[] { 7, -1 }));
    }

    [TestCase("cpu")]
    [TestCase("ilgpu-cpu")]
    public void GoldenCases_AllPass(string device)
    {
        string directory = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "golden");
        var result = RevnetCli.RunInProcess("golden", directory, "--device", device);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(result.ExitCode, Is.Zero, result.StandardOutput + result.StandardError);
        Assert.That(lines[^1], Does.Match(@"^[1-9]\d* passed, 0 failed$"), $"revnet golden --device {device}");
        Assert.That(result.StandardError, Does.Contain($"device: {device}:"), "the command ran on the device asked for");
    }
}
