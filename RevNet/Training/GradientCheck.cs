using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>The comparison of one training step run reconstructing against the same step with stored activations.</summary>
public sealed record GradientCheckResult(
    float LossReconstruct,
    float LossStored,
    IReadOnlyDictionary<string, double> RelativeL2ByTensor,
    bool RunningStatsEqual,
    IReadOnlyList<double> ReconstructionErrorByStage)
{
    public double WorstRelativeL2 => RelativeL2ByTensor.Values.DefaultIfEmpty(0).Max();

    public string WorstTensor => RelativeL2ByTensor.MaxBy(kv => kv.Value).Key;

    public bool LossEqual => LossReconstruct == LossStored;
}

/// <summary>
/// Runs one step of a model both ways from the same initial weights and batch, and compares every parameter
/// gradient (relative L2), the loss and the running statistics; the reconstructing run also measures how far
/// each rebuilt block input is from the true one.
/// </summary>
public static class GradientCheck
{
    public static GradientCheckResult Run(Device device, ModelConfig config, int batch, int image, int seed = 0)
    {
        if (batch <= 1) throw new ArgumentException($"gradcheck needs a batch of at least 2 (batch norm), got {batch}");
        var random = new Random(seed);
        var pixels = new float[(long)batch * config.InputChannels * image * image];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        var labelValues = Enumerable.Range(0, batch).Select(_ => random.Next(config.Classes)).ToArray();
        using var images = Tensor.FromArray(device, pixels, batch, config.InputChannels, image, image);
        using var labels = Tensor.FromArray(device, labelValues, batch);

        var grads = new Dictionary<bool, Dictionary<string, float[]>>();
        var stats = new Dictionary<bool, Dictionary<string, float[]>>();
        var losses = new Dictionary<bool, float>();
        var stageErrors = new List<double>();
        foreach (bool reconstruct in new[] { true, false })
        {
            var model = new ResidualNetwork(config) { Memory = reconstruct ? ActivationMemory.Reconstruct : ActivationMemory.Stored };
            using var store = ParameterStore.Allocate(device, model, seed);
            foreach (var r in model.ReversibleSequences) r.MeasureReconstruction = reconstruct;
            losses[reconstruct] = TrainingStep.Run(model, store, images, labels).Loss;
            var all = model.NamedParameters().Where(p => p.Parameter.Persistent).ToList();
            grads[reconstruct] = all.Where(p => p.Parameter.Learnable).ToDictionary(p => p.Path, p => p.Parameter.Value.Grad!.ToArray());
            stats[reconstruct] = all.Where(p => !p.Parameter.Learnable).ToDictionary(p => p.Path, p => p.Parameter.Value.ToArray());
            if (reconstruct)
                stageErrors.AddRange(model.ReversibleSequences.Select(r => r.ReconstructionErrors.DefaultIfEmpty(0).Max()));
        }
        var relative = grads[false].ToDictionary(kv => kv.Key, kv => RelativeL2(grads[true][kv.Key], kv.Value));
        bool statsEqual = stats[false].All(kv => kv.Value.AsSpan().SequenceEqual(stats[true][kv.Key]));
        return new GradientCheckResult(losses[true], losses[false], relative, statsEqual, stageErrors);
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
