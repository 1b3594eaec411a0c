using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Gpu;

/// <summary>
/// ILGPU's PTX backend assumes every view a kernel receives starts 256-byte aligned, and the GPU GEMM loads operands in
/// 16-byte words, which fault on a misaligned address; ILGPU's CPU accelerator never shows it. So every view handed to
/// any kernel during whole training steps is recorded and its offset checked: on ilgpu-cpu as it runs (direct kernels),
/// and planned as a GPU launches the same steps (tiled GEMMs, split-K partials, split reductions), for RevNet-38 and
/// RevNet-164 in all three activation modes.
/// </summary>
[TestFixture]
public sealed class ViewAlignmentTests
{
    static IEnumerable<TestCaseData> Steps() =>
        from model in new[] { "revnet38", "revnet164" }
        from memory in new[] { ActivationMemory.Reconstruct, ActivationMemory.Stored, ActivationMemory.ReconstructAndRecompute }
        from planned in new[] { false, true }
        select new TestCaseData(model, memory, planned).SetName($"EveryViewHandedToAKernel_Starts256ByteAligned({model},{memory},{(planned ? "GPU plan" : "ilgpu-cpu")})");

    [TestCaseSource(nameof(Steps))]
    public void EveryViewHandedToAKernel_Starts256ByteAligned(string name, ActivationMemory memory, bool planned)
    {
        using var device = Device.Create("ilgpu-cpu");
        var context = ((IlgpuBackend)device.Backend).Context;
        if (planned)
        {
            context.UseGpuProfile(GpuProfile.H200.Multiprocessors);
            context.Planning = true;
        }
        var config = ModelConfig.Named(name);
        var model = new ResidualNetwork(config) { Memory = memory };
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var sgd = new SgdOptimizer(store, new SgdSettings(0.1f, 0.9f, 1e-4f));
        var random = new Random(3);
        int batch = planned ? 8 : 2, image = 8;
        using var images = Tensor.FromArray(device, Enumerable.Range(0, batch * 3 * image * image).Select(_ => (float)random.NextDouble()).ToArray(), batch, 3, image, image);
        using var labels = Tensor.FromArray(device, Enumerable.Range(0, batch).Select(i => i % config.Classes).ToArray(), batch);
        var recorder = new LaunchRecorder { RecordViews = true };
        context.Recorder = recorder;
        TrainingStep.Run(model, store, images, labels);
        sgd.Step();
        context.Recorder = null;

        Assert.That(recorder.Launches, Has.Count.GreaterThan(100), "a whole step was recorded");
        Assert.That(recorder.Views, Has.Count.GreaterThan(3 * recorder.Launches.Count / 2), "the views inside every launch's arguments were found");
        Assert.That(recorder.Views.Any(v => v.Argument.Contains(".A.") || v.Argument.Contains(".x") || v.Argument == "x"), "views nested in argument structs are walked");
        var misaligned = recorder.Views.Where(v => v.ByteOffset % 256 != 0)
            .Select(v => $"{v.Kernel.DeclaringType!.Name}.{v.Kernel.Name} {v.Argument} at byte {v.ByteOffset}").Distinct().Take(20).ToList();
        Assert.That(misaligned, Is.Empty, "views that do not start on a 256-byte boundary");
    }

    [Test]
    public void ParameterStore_StartsEverySliceOn256Bytes_AndCountsOnlyTheParameters()
    {
        using var device = Device.Create("meta");
        var model = new ResidualNetwork(ModelConfig.Named("revnet38"));
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        var all = store.Learnable.Concat(store.BufferList).ToList();
        Assert.That(all.Select(p => store.Offset(p.Parameter) % ParameterStore.AlignmentFloats), Has.All.Zero);
        Assert.That(store.ParameterCount, Is.EqualTo(model.ParameterCount()), "the parameter count leaves the gaps out");
        Assert.That(store.PaddingFloats, Is.InRange(0, (ParameterStore.AlignmentFloats - 1) * store.Learnable.Count));
        long lastDecayed = store.Learnable.Where(p => p.Parameter.WeightDecay).Max(p => store.Offset(p.Parameter) + p.Parameter.Length);
        Assert.That(store.DecayedCount, Is.EqualTo(lastDecayed), "decay covers exactly the decayed parameters (and the gaps between them)");
        Assert.That(store.Learnable.Where(p => !p.Parameter.WeightDecay).Select(p => store.Offset(p.Parameter)), Has.All.GreaterThanOrEqualTo(store.DecayedCount));
    }
}
