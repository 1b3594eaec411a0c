using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>The comparison of one training step run reconstructing against the same step with stored activations.</summary>
public sealed record GradientCheckResult(
    float LossReconstruct,
    float LossStored,
    IReadOnlyDictionary<string, double> RelativeL2ByTensor,
    bool RunningStatsEqual,
    IReadOnlyList<(string Block, double Error)> RebuildErrorByBlock)
{
    /// <summary>The largest relative L2 difference between a parameter's reconstructing and stored gradients (0 without parameters).</summary>
    public double WorstRelativeL2 => RelativeL2ByTensor.Values.DefaultIfEmpty(0).Max();

    /// <summary>The parameter path with that largest difference.</summary>
    public string WorstTensor => RelativeL2ByTensor.MaxBy(kv => kv.Value).Key;

    /// <summary>Whether both runs gave the same loss bit for bit.</summary>
    public bool LossEqual => LossReconstruct == LossStored;

    /// <summary>Over every reversible block: max|x_rebuilt − x_true| / max|x_true| of its input halves (0 without blocks).</summary>
    public double MaxRebuildError => RebuildErrorByBlock.Select(b => b.Error).DefaultIfEmpty(0).Max();
}

/// <summary>
/// Runs one step of a model both ways from the same initial weights and batch, and compares every parameter
/// gradient (relative L2), the loss and the running statistics; the reconstructing run also measures how far
/// each rebuilt block input is from the true one. Both runs use the same couplings: float32, or exact fixed point,
/// where every difference must be zero.
/// </summary>
public static class GradientCheck
{
    /// <summary>A built-in model on square images of side <paramref name="image"/>.</summary>
    public static GradientCheckResult Run(Device device, ModelConfig config, int batch, int image, int seed = 0, FixedPointFormat? exact = null) =>
        Run(device, ModelBlueprint.Of(config, image), batch, seed, exact);

    /// <summary>
    /// Any model: <paramref name="model"/> builds a fresh copy per run, switched to stored or reconstructing activations with
    /// <see cref="ActivationMemorySwitches.WithActivationMemory"/> and to <paramref name="exact"/> couplings (null: float32).
    /// </summary>
    public static GradientCheckResult Run(Device device, ModelBlueprint model, int batch, int seed = 0, FixedPointFormat? exact = null)
    {
        if (batch <= 1) throw new ArgumentException($"gradcheck needs a batch of at least 2 (batch norm), got {batch}");
        var (pixels, labelValues) = model.RandomBatch(batch, seed);
        using var images = Tensor.FromArray(device, pixels, model.InputShape(batch));
        using var labels = Tensor.FromArray(device, labelValues, batch);

        var grads = new Dictionary<bool, Dictionary<string, float[]>>();
        var stats = new Dictionary<bool, Dictionary<string, float[]>>();
        var losses = new Dictionary<bool, float>();
        var blockErrors = new List<(string, double)>();
        foreach (bool reconstruct in new[] { true, false })
        {
            var network = model.Build()
                .WithActivationMemory(reconstruct ? ActivationMemory.Reconstruct : ActivationMemory.Stored)
                .WithExactReconstruction(exact);
            using var store = ParameterStore.Allocate(device, network, seed);
            var sequences = network.Modules().OfType<ReversibleSequence>().ToList();
            foreach (var r in sequences) r.MeasureReconstruction = reconstruct;
            losses[reconstruct] = TrainingStep.Run(network, store, images, labels).Loss;
            var all = network.NamedParameters().Where(p => p.Parameter.Persistent).ToList();
            grads[reconstruct] = all.Where(p => p.Parameter.Learnable).ToDictionary(p => p.Path, p => p.Parameter.Value.Grad!.ToArray());
            stats[reconstruct] = all.Where(p => !p.Parameter.Learnable).ToDictionary(p => p.Path, p => p.Parameter.Value.ToArray());
            if (reconstruct)
                foreach (var r in sequences)
                    blockErrors.AddRange(r.Blocks.Zip(r.ReconstructionErrors, (block, error) => (block.Path, error)));
        }
        var relative = grads[false].ToDictionary(kv => kv.Key, kv => RelativeL2(grads[true][kv.Key], kv.Value));
        bool statsEqual = stats[false].All(kv => kv.Value.AsSpan().SequenceEqual(stats[true][kv.Key]));
        return new GradientCheckResult(losses[true], losses[false], relative, statsEqual, blockErrors);
    }

    /// <summary>‖a − b‖₂ / ‖b‖₂ (0 when both are zero).</summary>
    public static double RelativeL2(float[] a, float[] b)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
            norm += (double)b[i] * b[i];
        }
        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }
}
