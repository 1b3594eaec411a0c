using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>One model's memory in one mode, from the allocator's exact counters (bytes).</summary>
public sealed record MemoryReport(
    string Model,
    string Mode,
    int Batch,
    int Image,
    long Params,
    long ParameterBytes,
    long ActivationBytesAfterForward,
    long PeakStepBytes,
    long HeldBeforeStepBytes,
    long PeakHeldBytes)
{
    /// <summary>The step's peak of all bytes in use: parameters, gradients, optimizer state and the batch included.</summary>
    public long PeakInUseBytes => HeldBeforeStepBytes + PeakStepBytes;
}

/// <summary>
/// Measures a training step's memory: builds the model, allocates parameters, gradients, optimizer state and a
/// batch, then runs one forward-backward step. On the meta device this takes seconds even for paper-size
/// models, and gives the same figures as a real device (tests check that).
/// </summary>
public static class MemoryProfile
{
    /// <summary>Every mode `revnet train` offers a RevNet, reconstructing ones first, then stored.</summary>
    public static IReadOnlyList<ActivationMemory> RevNetModes { get; } =
        [ActivationMemory.Reconstruct, ActivationMemory.ReconstructAndRecompute, ActivationMemory.Stored];

    /// <summary>One report per mode the model can train in: <see cref="RevNetModes"/> for a RevNet, stored for a ResNet.</summary>
    public static IEnumerable<MemoryReport> MeasureEveryMode(Device device, ModelConfig config, int batch, int image)
    {
        foreach (var mode in RevNetModes.Where(m => config.Reversible || m == ActivationMemory.Stored))
            yield return Measure(device, config, mode, batch, image);
    }

    public static MemoryReport Measure(Device device, ModelConfig config, ActivationMemory memory, int batch, int image, int steps = 1)
    {
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}");
        if (image < 4) throw new ArgumentException($"image size must be at least 4, got {image}");
        device.Allocator.ReleaseCached(); // peak held measures this model alone, as in a fresh process
        var model = new ResidualNetwork(config) { Memory = memory };
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var sgd = new SgdOptimizer(store, new SgdSettings(0.01f, 0.9f, 0f));
        var random = new Random(0);
        var pixels = new float[(long)batch * config.InputChannels * image * image];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        var labels = Enumerable.Range(0, batch).Select(i => i % config.Classes).ToArray();
        using var x = Tensor.FromArray(device, pixels, batch, config.InputChannels, image, image);
        using var y = Tensor.FromArray(device, labels, batch);
        StepStatistics step = null!;
        long peakHeld = 0;
        for (int s = 0; s < steps; s++)
        {
            step = TrainingStep.Run(model, store, x, y);
            peakHeld = device.Allocator.PeakBytesReserved; // TrainingStep reset the peaks at its start
            sgd.Step();
        }
        long paramBytes = CachingAllocator.RoundUp(store.Values.Length * sizeof(float));
        return new MemoryReport(config.Name, model.Memory.Name(), batch, image, store.ParameterCount, paramBytes,
            step.ActivationBytesAfterForward, step.PeakStepBytes, step.HeldBeforeBytes, peakHeld);
    }
}
