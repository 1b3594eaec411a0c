using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Distributed;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// Mean loss (cross-entropy unless another <see cref="LossFunction"/> is given) and top-1 accuracy of a classifier over a
/// dataset, in evaluation mode (batch norm uses its running statistics) with nothing recorded for backward. Across ranks
/// each evaluates its slice and the totals are summed.
/// </summary>
public sealed class Evaluator(Device device, DataParallel? ranks = null, TimeProvider? clock = null, LossFunction? loss = null)
{
    readonly DataParallel ranks = ranks ?? new DataParallel(new SingleProcess());
    readonly TimeProvider clock = clock ?? TimeProvider.System;
    readonly LossFunction loss = loss ?? Losses.CrossEntropy;

    /// <summary>Mean loss and accuracy over every batch of <paramref name="loader"/>; the model's modes are as they were afterwards.</summary>
    public (double Loss, double Accuracy) Evaluate(Module model, BatchLoader loader)
    {
        using (model.Evaluating(device))
        {
            double lossSum = 0;
            long correct = 0, seen = 0;
            foreach (var batch in loader.Epoch(0).Prefetch(2).Where(b => b.Count > 0))
            {
                using var tensors = batch.ToTensors(device);
                using var logits = model.Forward(tensors.Images);
                using var value = loss(logits, tensors.Labels);
                correct += Functional.CountCorrect(logits, tensors.Labels);
                lossSum += value.ToArray()[0] * batch.Count;
                seen += batch.Count;
            }
            (lossSum, correct, seen) = ranks.Sum(lossSum, correct, seen);
            return (lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1));
        }
    }

    /// <summary>
    /// Wall time of one evaluation of <paramref name="test"/> in batches of <paramref name="batchSize"/>, from its first
    /// batch run twice (the first compiles and allocates what evaluation alone uses) and scaled to the whole set.
    /// Changes no model state.
    /// </summary>
    public double EstimateSeconds(Module model, ImageDataset test, ChannelNormalization normalization, int batchSize)
    {
        var sample = test.Count > batchSize ? test.Take(batchSize) : test;
        var loader = BatchLoader.ForEvaluation(sample, batchSize, normalization);
        Evaluate(model, loader);
        long start = clock.GetTimestamp();
        Evaluate(model, loader);
        device.Synchronize();
        return clock.GetElapsedTime(start).TotalSeconds * test.Count / sample.Count;
    }
}
