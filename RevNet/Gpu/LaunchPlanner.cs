using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.RevNet.Gpu;

/// <summary>
/// The launches a GPU would make for one training step, found without one: the step runs on ILGPU's CPU accelerator
/// with the GPU's launch shapes (<see cref="KernelContext.UseGpuProfile"/>: 256-thread groups, GPU tilings, splits to
/// two groups per SM) in planning mode (<see cref="KernelContext.Planning"/>: every launch is recorded, none runs), so the
/// tilings, K splits, grids and specialisations are those the CUDA backend would launch at that batch. Values are
/// never computed; memory is allocated as on the device.
/// </summary>
public static class LaunchPlanner
{
    /// <summary>
    /// One steady-state step (forward, backward, SGD) of <paramref name="config"/> at <paramref name="batch"/> images of
    /// <paramref name="image"/>², reconstructing or storing activations, as <paramref name="gpu"/> would launch it.
    /// </summary>
    public static IReadOnlyList<LaunchRecord> Step(ModelConfig config, int batch, int image, GpuProfile gpu, ActivationMemory memory)
    {
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}");
        if (image <= 0) throw new ArgumentException($"image size must be positive, got {image}");
        using var device = Device.Create("ilgpu-cpu");
        var context = ((IlgpuBackend)device.Backend).Context;
        context.UseGpuProfile(gpu.Multiprocessors);
        context.Planning = true;
        var model = new ResidualNetwork(config) { Memory = memory };
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var sgd = new SgdOptimizer(store, new SgdSettings(0.01f, 0.9f, 0f));
        using var images = Tensor.Zeros(device, batch, config.InputChannels, image, image);
        using var labels = Tensor.FromArray(device, Enumerable.Range(0, batch).Select(i => i % config.Classes).ToArray(), batch);
        // A first step makes the optimizer's buffers; the second is the steady state a training run repeats.
        TrainingStep.Run(model, store, images, labels);
        sgd.Step();
        var recorder = new LaunchRecorder();
        context.Recorder = recorder;
        TrainingStep.Run(model, store, images, labels);
        sgd.Step();
        context.Recorder = null;
        return recorder.Launches;
    }
}
