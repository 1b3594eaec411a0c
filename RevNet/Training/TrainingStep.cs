using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>What one forward-backward pass measured: the loss, correct predictions and the allocator's view of it.</summary>
public sealed record StepStatistics(float Loss, int Correct, long HeldBeforeBytes, long ActivationBytesAfterForward, long PeakStepBytes);

/// <summary>
/// One forward and backward pass of a classifier; gradients land in the model's gradient buffer. Memory is read from the
/// allocator's exact counters: activation bytes after forward and the step's peak, both relative to what was held
/// before the step.
/// </summary>
public static class TrainingStep
{
    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="images"/>, takes <paramref name="loss"/> (mean cross-entropy by
    /// default) against <paramref name="labels"/> and back-propagates it. Gradients are zeroed first unless
    /// <paramref name="accumulate"/> (to sum several batches' gradients before one optimizer step). Correct predictions are
    /// counted by top-1 of the output.
    /// </summary>
    public static StepStatistics Run(Module model, ParameterStore parameters, Tensor images, Tensor labels, LossFunction? loss = null, bool accumulate = false)
    {
        var device = images.Device;
        var allocator = device.Allocator;
        if (!accumulate) parameters.ZeroGrad();
        long before = allocator.BytesInUse;
        allocator.ResetPeak();
        Tensor? value = null;
        try
        {
            int correct;
            using (var logits = model.Forward(images))
            {
                correct = Functional.CountCorrect(logits, labels);
                value = (loss ?? Losses.CrossEntropy)(logits, labels);
            }
            if (value.Length != 1) throw new ArgumentException($"a loss must be a scalar [1], got {value.ShapeString}");
            long afterForward = allocator.BytesInUse - before;
            float lossValue = value.ToArray()[0];
            using (var one = Tensor.FromArray(device, [1f], 1))
                device.Tape.Backward(value, one);
            value.Release();
            value = null;
            return new StepStatistics(lossValue, correct, before, afterForward, allocator.PeakBytesInUse - before);
        }
        finally
        {
            device.Tape.Clear();
            value?.Release();
        }
    }
}
