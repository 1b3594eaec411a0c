using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>What one forward-backward pass measured: the loss, correct predictions and the allocator's view of it.</summary>
public sealed record StepStatistics(float Loss, int Correct, long HeldBeforeBytes, long ActivationBytesAfterForward, long PeakStepBytes);

/// <summary>
/// One forward and backward pass of a classifier with mean cross-entropy; gradients land in the model's
/// gradient buffer (zeroed first). Memory is read from the allocator's exact counters: activation bytes after
/// forward and the step's peak, both relative to what was held before the step.
/// </summary>
public static class TrainingStep
{
    public static StepStatistics Run(Module model, ParameterStore parameters, Tensor images, Tensor labels)
    {
        var device = images.Device;
        var allocator = device.Allocator;
        parameters.ZeroGrad();
        long before = allocator.BytesInUse;
        allocator.ResetPeak();
        Tensor? loss = null;
        try
        {
            int correct;
            using (var logits = model.Forward(images))
            {
                correct = Functional.CountCorrect(logits, labels);
                loss = Functional.CrossEntropy(logits, labels);
            }
            long afterForward = allocator.BytesInUse - before;
            float lossValue = loss.ToArray()[0];
            using (var one = Tensor.FromArray(device, [1f], 1))
                device.Tape.Backward(loss, one);
            loss.Release();
            loss = null;
            return new StepStatistics(lossValue, correct, before, afterForward, allocator.PeakBytesInUse - before);
        }
        finally
        {
            device.Tape.Clear();
            loss?.Release();
        }
    }
}
