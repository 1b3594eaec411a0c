using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>KernelContext's launch counters, which `revnet bench step` reports as kernel launches per step.</summary>
public class KernelLaunchCountTests : KernelTestBase
{
    [Test]
    public void IlgpuLaunches_CountEachLaunchOnce_AndNoHostCalls()
    {
        using var x = Upload(RandomArray(37));
        using var y = Poisoned(37);
        long before = K.IlgpuLaunches, hostBefore = K.HostKernelCalls;
        for (int i = 0; i < 3; i++) ReluKernels.Forward(K, x.View, y.View);
        ReluKernels.Backward(K, x.View, x.View, y.View);
        Assert.That(K.IlgpuLaunches - before, Is.EqualTo(4), "three forward and one backward launch");
        Assert.That(K.HostKernelCalls - hostBefore, Is.EqualTo(0), "ILGPU launches are not host kernel calls");
    }

    [Test]
    public void HostKernelCalls_CountEachOpCallOnce_AndNoIlgpuLaunches()
    {
        var host = new KernelContext(Accelerator, isHost: true);
        using var x = Upload(RandomArray(37));
        using var y = Poisoned(37);
        for (int i = 0; i < 3; i++) ReluKernels.Forward(host, x.View, y.View);
        ReluKernels.Backward(host, x.View, x.View, y.View);
        Assert.That(host.HostKernelCalls, Is.EqualTo(4), "three forward and one backward call");
        Assert.That(host.IlgpuLaunches, Is.EqualTo(0), "the host device loads no ILGPU kernel");
    }

    [Test]
    public void HostCallProfile_CountsEachEntryPoint_AndChargesUntilStop()
    {
        var host = new KernelContext(Accelerator, isHost: true);
        using var x = Upload(RandomArray(37));
        using var y = Poisoned(37);
        var profile = new HostCallProfile();
        host.HostProfile = profile;
        for (int i = 0; i < 3; i++) ReluKernels.Forward(host, x.View, y.View);
        ReluKernels.Backward(host, x.View, x.View, y.View);
        host.HostProfile = null;
        ReluKernels.Forward(host, x.View, y.View);
        Assert.That(profile.Entries["ReluKernels.Forward"].Calls, Is.EqualTo(3));
        Assert.That(profile.Entries.ContainsKey("ReluKernels.Backward"), Is.False, "the last call is open until Stop");
        Thread.Sleep(20);
        profile.Stop();
        Assert.That(profile.Entries["ReluKernels.Backward"].Calls, Is.EqualTo(1));
        Assert.That(profile.Entries["ReluKernels.Backward"].Time, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(15)), "charged until Stop");
        Assert.That(profile.Entries.Count, Is.EqualTo(2));
        Assert.That(host.HostKernelCalls, Is.EqualTo(5), "the profile changes no count");
    }

    [Test]
    public void TrainingStep_LaunchCount_EqualsTheProfilersCount_EvenWhileProfiling()
    {
        // The profiler counts through its own wrapper around each launch: an independent tally of the same launches.
        using var device = Device.Create("ilgpu-cpu");
        var model = new ResidualNetwork(ModelConfig.Named("revnet-tiny"));
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var images = Tensor.FromArray(device, RandomArray(2 * 3 * 8 * 8), 2, 3, 8, 8);
        using var labels = Tensor.FromArray(device, [1, 7], 2);
        var profile = new KernelProfile();
        device.K.Profile = profile;
        long before = device.K.IlgpuLaunches;
        TrainingStep.Run(model, store, images, labels);
        device.K.Profile = null;
        long counted = device.K.IlgpuLaunches - before;
        Assert.That(counted, Is.EqualTo(profile.Entries.Values.Sum(e => e.Launches)));
        Assert.That(counted, Is.GreaterThan(100), "a RevNet step launches a kernel per op");
    }

    /// <summary>Issue 10's floor: a reconstructing RevNet-38 step (forward, backward, SGD) as `revnet bench step` counts it.</summary>
    [Test]
    public void ReconstructingRevNet38Step_LaunchesAtMost400Kernels()
    {
        const int floor = 400;
        using var device = Device.Create("ilgpu-cpu");
        var model = new ResidualNetwork(ModelConfig.Named("revnet38")) { Reconstruct = true };
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var sgd = new SgdOptimizer(store, new SgdSettings(0.01f, 0.9f, 0f));
        using var images = Tensor.FromArray(device, RandomArray(2 * 3 * 8 * 8), 2, 3, 8, 8);
        using var labels = Tensor.FromArray(device, [1, 7], 2);
        // A first step creates the momentum buffers; the second is the steady state the bench reports.
        TrainingStep.Run(model, store, images, labels);
        sgd.Step();
        var profile = new KernelProfile();
        device.K.Profile = profile;
        long before = device.K.IlgpuLaunches;
        TrainingStep.Run(model, store, images, labels);
        sgd.Step();
        device.K.Profile = null;
        long launches = device.K.IlgpuLaunches - before;
        var breakdown = string.Join(", ", profile.Entries.OrderByDescending(e => e.Value.Launches).Select(e => $"{e.Value.Launches} {e.Key}"));
        Assert.That(launches, Is.LessThanOrEqualTo(floor), $"launches per step: {breakdown}");
        Assert.That(launches, Is.GreaterThan(100), "a RevNet-38 step launches a kernel per op");
        TestContext.Out.WriteLine($"{launches} launches: {breakdown}");
    }

    [Test]
    public void HostTrainingStep_CountsHostCalls_AndLaunchesNoIlgpuKernel()
    {
        using var device = Device.Create("cpu");
        var model = new ResidualNetwork(ModelConfig.Named("revnet-tiny"));
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var images = Tensor.FromArray(device, RandomArray(2 * 3 * 8 * 8), 2, 3, 8, 8);
        using var labels = Tensor.FromArray(device, [1, 7], 2);
        long ilgpuBefore = device.K.IlgpuLaunches, hostBefore = device.K.HostKernelCalls;
        TrainingStep.Run(model, store, images, labels);
        Assert.That(device.K.IlgpuLaunches - ilgpuBefore, Is.EqualTo(0));
        Assert.That(device.K.HostKernelCalls - hostBefore, Is.GreaterThan(100), "a RevNet step calls a host kernel per op");
    }
}
