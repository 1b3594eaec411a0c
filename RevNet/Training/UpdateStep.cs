using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Distributed;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// One update of the weights from one batch: forward and backward (<see cref="TrainingStep"/>), gradients averaged
/// over the ranks, then the SGD step at the given learning rate. A NaN/Inf stops the run with the step named before
/// any bad value reaches a checkpoint: a non-finite loss or gradient before the update (the weights stay as they
/// were), a non-finite weight after it (finite gradients times a huge rate can still overflow).
/// </summary>
public sealed class UpdateStep(Device device, TrainingSetup setup, DataParallel ranks)
{
    readonly Module model = setup.Model;
    readonly ParameterStore store = setup.Store;
    readonly SgdOptimizer optimizer = setup.Optimizer;
    readonly TrainOptions options = setup.Options;
    readonly IReadOnlyList<ReversibleSequence> reversibleSequences = setup.Model.Modules().OfType<ReversibleSequence>().ToList();

    /// <summary>
    /// Trains on <paramref name="batch"/> as the run's step number <paramref name="step"/> (counted from 1) and returns
    /// what it measured once the device has finished. With <paramref name="measureReconstruction"/> the reversible
    /// sequences also measure how far their rebuilt inputs drift (<see cref="ReconstructionDrift"/>).
    /// </summary>
    public StepStatistics Run(Batch batch, long step, float learningRate, bool measureReconstruction)
    {
        optimizer.Settings = optimizer.Settings with { LearningRate = learningRate };
        foreach (var r in reversibleSequences) r.MeasureReconstruction = measureReconstruction;
        StepStatistics stats;
        using (var tensors = batch.ToTensors(device))
        {
            try
            {
                stats = TrainingStep.Run(model, store, tensors.Images, tensors.Labels, setup.Loss);
                ranks.AverageGradients(store);
            }
            catch (NonFiniteException e) when (options.CheckEveryOp)
            {
                throw new NonFiniteException($"step {step}: {e.Message}; weights were not updated. The last good checkpoint is in {options.OutputDirectory}");
            }
        }
        if (!float.IsFinite(stats.Loss)) throw new NonFiniteException($"step {step}: loss is {stats.Loss}; {FirstBadGradient()}. The last good checkpoint is in {options.OutputDirectory}");
        ThrowIfGradientsNonFinite(step);
        optimizer.Step();
        ThrowIfWeightsNonFinite(step);
        device.Synchronize();
        return stats;
    }

    /// <summary>The largest relative error of a rebuilt input in the last step run with reconstruction measured (0 without reversible blocks).</summary>
    public double ReconstructionDrift => reversibleSequences.SelectMany(r => r.ReconstructionErrors).DefaultIfEmpty(0).Max();

    void ThrowIfGradientsNonFinite(long step)
    {
        try
        {
            device.ThrowIfNonFinite(store.Grads, "gradients");
        }
        catch (NonFiniteException)
        {
            throw new NonFiniteException($"step {step}: {FirstBadGradient()}; weights were not updated. The last good checkpoint is in {options.OutputDirectory}");
        }
    }

    /// <summary>Finite gradients times a huge learning rate can still overflow a weight; stop before any checkpoint saves it.</summary>
    void ThrowIfWeightsNonFinite(long step)
    {
        try
        {
            device.ThrowIfNonFinite(store.Values, "weights");
        }
        catch (NonFiniteException e)
        {
            throw new NonFiniteException($"step {step}: the update made {e.Message}. The last good checkpoint is in {options.OutputDirectory}");
        }
    }

    string FirstBadGradient()
    {
        foreach (var (path, p) in store.Learnable)
            if (p.Value.Grad!.ToArray().Any(v => !float.IsFinite(v))) return $"first non-finite gradient: {path}";
        return "all gradients finite";
    }
}
