using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;

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
    long PeakHeldBytes,
    bool Exact = false)
{
    /// <summary>The step's peak of all bytes in use: parameters, gradients, optimizer state and the batch included.</summary>
    public long PeakInUseBytes => HeldBeforeStepBytes + PeakStepBytes;
}

/// <summary>
/// Measures a training step's memory: builds the model, allocates parameters, gradients, optimizer state and a
/// batch, then runs forward-backward steps with SGD between them. On the meta device this takes seconds even for
/// paper-size models, and gives the same figures as a real device (tests check that).
/// </summary>
public static class MemoryProfile
{
    /// <summary>Every mode `revnet train` offers a RevNet, reconstructing ones first, then stored.</summary>
    public static IReadOnlyList<ActivationMemory> RevNetModes { get; } =
        [ActivationMemory.Reconstruct, ActivationMemory.ReconstructAndRecompute, ActivationMemory.Stored];

    /// <summary>One report per mode the model can train in: <see cref="RevNetModes"/> for a RevNet, stored for a ResNet.</summary>
    public static IEnumerable<MemoryReport> MeasureEveryMode(Device device, ModelConfig config, int batch, int image) =>
        MeasureEveryMode(device, ModelBlueprint.Of(config, image), batch);

    /// <summary>One report per mode the model can train in (<see cref="ActivationMemorySwitches.ModesOf"/>).</summary>
    public static IEnumerable<MemoryReport> MeasureEveryMode(Device device, ModelBlueprint model, int batch)
    {
        foreach (var mode in ActivationMemorySwitches.ModesOf(model.Build()))
            yield return Measure(device, model, mode, batch);
    }

    /// <summary>A built-in model on square images of side <paramref name="image"/>.</summary>
    public static MemoryReport Measure(Device device, ModelConfig config, ActivationMemory memory, int batch, int image, int steps = 1) =>
        Measure(device, ModelBlueprint.Of(config, image), memory, batch, steps);

    /// <summary>
    /// Any model in one mode, its reversible blocks coupling in <paramref name="exact"/> fixed point (null: float32); peak held is
    /// the most the device held over <paramref name="steps"/> steps.
    /// </summary>
    public static MemoryReport Measure(Device device, ModelBlueprint model, ActivationMemory memory, int batch, int steps = 1, FixedPointFormat? exact = null)
    {
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}");
        device.Allocator.ReleaseCached(); // peak held measures this model alone, as in a fresh process
        var network = model.Build().WithActivationMemory(memory).WithExactReconstruction(exact);
        using var store = ParameterStore.Allocate(device, network, seed: 0);
        using var sgd = new SgdOptimizer(store, new SgdSettings(0.01f, 0.9f, 0f));
        using var x = Tensor.Empty(device, model.InputShape(batch));
        device.Run(_ => x.CopyFrom(model.RandomBatch(batch, 0).Pixels)); // only where the device holds values: planning huge batches stays fast
        using var y = Tensor.FromArray(device, Enumerable.Range(0, batch).Select(i => i % model.Classes).ToArray(), batch);
        StepStatistics step = null!;
        long peakHeld = 0;
        for (int s = 0; s < steps; s++)
        {
            step = TrainingStep.Run(network, store, x, y);
            peakHeld = Math.Max(peakHeld, device.Allocator.PeakBytesReserved); // TrainingStep reset the peaks at its start
            sgd.Step();
        }
        long paramBytes = CachingAllocator.RoundUp(store.Values.Length * sizeof(float));
        var mode = network.HasReversibleBlocks() ? memory : ActivationMemory.Stored;
        return new MemoryReport(model.Name, mode.Name(), batch, model.Height, store.ParameterCount, paramBytes,
            step.ActivationBytesAfterForward, step.PeakStepBytes, step.HeldBeforeBytes, peakHeld, exact is not null && network.HasReversibleBlocks());
    }
}
