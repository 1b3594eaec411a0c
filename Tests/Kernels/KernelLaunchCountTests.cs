using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>Each backend's launch counter (<see cref="Backend.KernelLaunches"/>), which `revnet bench step` reports as kernel launches per step.</summary>
public class KernelLaunchCountTests : KernelTestBase
{
    [Test]
    public void IlgpuLaunches_CountEachLaunchOnce()
    {
        using var x = Upload(RandomArray(37));
        using var y = Poisoned(37);
        long before = Backend.KernelLaunches;
        for (int i = 0; i < 3; i++) K.Elementwise.Map(new ReluOp(), x.View, y.View);
        K.Elementwise.Zip(new ReluBackwardOp(), x.View, x.View, y.View);
        Assert.That(Backend.KernelLaunches - before, Is.EqualTo(4), "three forward and one backward launch");
        Assert.That(Backend.LaunchKind, Is.EqualTo("ilgpu"));
    }

    [Test]
    public void HostKernelCalls_CountEachOpCallOnce()
    {
        var host = new HostBackend(Accelerator);
        using var x = Upload(RandomArray(37));
        using var y = Poisoned(37);
        for (int i = 0; i < 3; i++) host.Kernels.Elementwise.Map(new ReluOp(), x.View, y.View);
        host.Kernels.Elementwise.Zip(new ReluBackwardOp(), x.View, x.View, y.View);
        Assert.That(host.KernelLaunches, Is.EqualTo(4), "three forward and one backward call");
        Assert.That(host.LaunchKind, Is.EqualTo("host"));
    }

    [Test]
    public void CallProfile_CountsEachEntryPoint_AndChargesUntilStop()
    {
        var host = new HostBackend(Accelerator);
        using var x = Upload(RandomArray(37));
        using var y = Poisoned(37);
        var profile = new KernelCallProfile();
        host.Calls.Profile = profile;
        for (int i = 0; i < 3; i++) host.Kernels.Elementwise.Map(new ReluOp(), x.View, y.View);
        host.Kernels.Elementwise.Zip(new ReluBackwardOp(), x.View, x.View, y.View);
        host.Calls.Profile = null;
        host.Kernels.Elementwise.Map(new ReluOp(), x.View, y.View);
        Assert.That(profile.Entries["ElementwiseKernels.ReluOp"].Calls, Is.EqualTo(3));
        Assert.That(profile.Entries.ContainsKey("ElementwiseKernels.ReluBackwardOp"), Is.False, "the last call is open until Stop");
        Thread.Sleep(20);
        profile.Stop();
        Assert.That(profile.Entries["ElementwiseKernels.ReluBackwardOp"].Calls, Is.EqualTo(1));
        Assert.That(profile.Entries["ElementwiseKernels.ReluBackwardOp"].Time, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(15)), "charged until Stop");
        Assert.That(profile.Entries.Count, Is.EqualTo(2));
        Assert.That(host.KernelLaunches, Is.EqualTo(5), "the profile changes no count");
    }

    [Test]
    public void TrainingStep_LaunchCount_EqualsTheProfilersCount_EvenWhileProfiling()
    {
        // The profiler counts through its own wrapper around each launch: an independent tally of the same launches.
        using var device = Device.Create("ilgpu-cpu");
        var context = ((IlgpuBackend)device.Backend).Context;
        var model = new ResidualNetwork(ModelConfig.Named("revnet-tiny"));
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var images = Tensor.FromArray(device, RandomArray(2 * 3 * 8 * 8), 2, 3, 8, 8);
        using var labels = Tensor.FromArray(device, [1, 7], 2);
        var profile = new KernelProfile();
        context.Profile = profile;
        long before = device.Backend.KernelLaunches;
        TrainingStep.Run(model, store, images, labels);
        context.Profile = null;
        long counted = device.Backend.KernelLaunches - before;
        Assert.That(counted, Is.EqualTo(profile.Entries.Values.Sum(e => e.Launches)));
        Assert.That(counted, Is.GreaterThan(100), "a RevNet step launches a kernel per op");
    }

    /// <summary>
    /// Issue 10's floor, lowered by issue 19 (BN-ReLU normalised in the convolution's operand loads, both convolution
    /// gradients in one launch): a reconstructing RevNet-38 step (forward, backward, SGD) as `revnet bench step` counts it.
    /// </summary>
    [Test]
    public void ReconstructingRevNet38Step_LaunchesAtMost268Kernels()
    {
        const int floor = 268;
        using var device = Device.Create("ilgpu-cpu");
        var model = new ResidualNetwork(ModelConfig.Named("revnet38")) { Memory = ActivationMemory.Reconstruct };
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var sgd = new SgdOptimizer(store, new SgdSettings(0.01f, 0.9f, 0f));
        using var images = Tensor.FromArray(device, RandomArray(2 * 3 * 8 * 8), 2, 3, 8, 8);
        using var labels = Tensor.FromArray(device, [1, 7], 2);
        // A first step creates the momentum buffers; the second is the steady state the bench reports.
        TrainingStep.Run(model, store, images, labels);
        sgd.Step();
        var context = ((IlgpuBackend)device.Backend).Context;
        var profile = new KernelProfile();
        context.Profile = profile;
        long before = device.Backend.KernelLaunches;
        TrainingStep.Run(model, store, images, labels);
        sgd.Step();
        context.Profile = null;
        long launches = device.Backend.KernelLaunches - before;
        var breakdown = string.Join(", ", profile.Entries.OrderByDescending(e => e.Value.Launches).Select(e => $"{e.Value.Launches} {e.Key}"));
        Assert.That(launches, Is.LessThanOrEqualTo(floor), $"launches per step: {breakdown}");
        Assert.That(launches, Is.GreaterThan(100), "a RevNet-38 step launches a kernel per op");
        TestContext.Out.WriteLine($"{launches} launches: {breakdown}");
    }

    [Test]
    public void HostTrainingStep_CountsHostCalls()
    {
        using var device = Device.Create("cpu");
        var model = new ResidualNetwork(ModelConfig.Named("revnet-tiny"));
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var images = Tensor.FromArray(device, RandomArray(2 * 3 * 8 * 8), 2, 3, 8, 8);
        using var labels = Tensor.FromArray(device, [1, 7], 2);
        long before = device.Backend.KernelLaunches;
        TrainingStep.Run(model, store, images, labels);
        Assert.That(device.Backend.LaunchKind, Is.EqualTo("host"));
        Assert.That(device.Backend.KernelLaunches - before, Is.GreaterThan(100), "a RevNet step calls a host kernel per op");
    }
}
