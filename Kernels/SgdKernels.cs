using ILGPU;
using ILGPU.Runtime;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>SGD hyperparameters as PyTorch names them (dampening 0, not Nesterov).</summary>
public readonly record struct SgdSettings(float LearningRate, float Momentum, float WeightDecay);

/// <summary>
/// PyTorch SGD with momentum over the whole flat parameter buffer in one launch. weights, grads and momentumBuffer are
/// equal-length; weights are laid out decayed first, so elements at or after decayedCount (BN gamma/beta, biases) get no weight decay.
/// </summary>
public static class SgdKernels
{
    static void StepKernel(SgdSettings s, ArrayView<float> weights, ArrayView<float> grads, ArrayView<float> buffer, int decayedCount, int firstStep)
    {
        for (int i = GridLoop.Start, end = weights.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            float w = weights[i];
            float d = grads[i] + (i < decayedCount ? s.WeightDecay * w : 0f);
            float b = firstStep != 0 ? d : s.Momentum * buffer[i] + d;
            buffer[i] = b;
            weights[i] = w - s.LearningRate * b;
        }
    }

    /// <summary>
    /// One step: d = g + wd*w (only for i &lt; decayedCount); buf = d on the first step, else momentum*buf + d; w -= lr*buf.
    /// On the first step momentumBuffer is only written, so it need not be initialised.
    /// </summary>
    public static void Step(KernelContext k, SgdSettings s, ArrayView<float> weights, ArrayView<float> grads, ArrayView<float> momentumBuffer,
        int decayedCount, bool firstStep)
    {
        const string op = "sgd step";
        ShapeCheck.Length(op, "grads", grads.Length, weights.Length);
        ShapeCheck.Length(op, "momentumBuffer", momentumBuffer.Length, weights.Length);
        ShapeCheck.NonNegative(op, "decayedCount", decayedCount);
        if (decayedCount > weights.Length)
            throw new ArgumentException($"{op}: decayedCount must be at most the {weights.Length} weights, got {decayedCount}");
        if (k.DispatchToHost()) { SgdHost.Step(s, HostMemory.Span(weights), HostMemory.Span(grads), HostMemory.Span(momentumBuffer), decayedCount, firstStep); return; }
        k.Load<SgdSettings, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(StepKernel)(
            k.GridStride(weights.Length), s, weights, grads, momentumBuffer, decayedCount, firstStep ? 1 : 0); // int: OpenCL kernels take no bool
    }
}
