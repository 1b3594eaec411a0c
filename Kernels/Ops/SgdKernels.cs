using ILGPU;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// One SGD update of one weight, written once in both forms side by side (see <see cref="IUnaryOp"/>): d = g + wd·w
/// (decayed weights only); b = d on the first step, else momentum·b + d; w -= lr·b. Products are rounded before the sums
/// (no fused multiply-add), so `cpu` and `ilgpu-cpu` update to the same bits. Public: ILGPU marshals it by reflection.
/// </summary>
public struct SgdUpdate(float learningRate, float momentum, float weightDecay, bool firstStep)
{
    /// <summary>lr: the step size.</summary>
    public float LearningRate = learningRate;

    /// <summary>The momentum factor applied to the buffer.</summary>
    public float Momentum = momentum;

    /// <summary>wd: the L2 penalty added to the gradients of decayed weights.</summary>
    public float WeightDecay = weightDecay;

    /// <summary>1 on the first step (the buffer is only written), else 0; an int because OpenCL kernels take no bool.</summary>
    public int FirstStep = firstStep ? 1 : 0;

    /// <summary>The updated (weight, momentum buffer) from weight w, gradient g and buffer b.</summary>
    public readonly (float Weight, float Buffer) Invoke(float w, float g, float b, bool decay)
    {
        float d = decay ? g + WeightDecay * w : g;
        float buffer = FirstStep != 0 ? d : Momentum * b + d;
        return (w - LearningRate * buffer, buffer);
    }

    /// <summary>The same update over lanes.</summary>
    public readonly (T Weight, T Buffer) Invoke<T>(T w, T g, T b, bool decay) where T : struct, IFloatLanes<T>
    {
        var d = decay ? g + T.Broadcast(WeightDecay) * w : g;
        var buffer = FirstStep != 0 ? d : T.Broadcast(Momentum) * b + d;
        return (w - T.Broadcast(LearningRate) * buffer, buffer);
    }
}

/// <summary>
/// PyTorch SGD with momentum over the whole flat parameter buffer in one call (<see cref="SgdUpdate"/> per element).
/// weights, grads and momentumBuffer are equal-length; weights are laid out decayed first, so elements at or after
/// decayedCount (BN gamma/beta, biases) get no weight decay. Forms: Kernels/Ilgpu/SgdIlgpu.cs, Kernels/Host/SgdHost.cs.
/// </summary>
public abstract class SgdKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>One step (PyTorch's SGD: dampening 0, not Nesterov); on the first step momentumBuffer is only written, so it need not be initialised.</summary>
    public void Step(float learningRate, float momentum, float weightDecay, ArrayView<float> weights, ArrayView<float> grads, ArrayView<float> momentumBuffer,
        int decayedCount, bool firstStep)
    {
        const string op = "sgd step";
        ShapeCheck.Length(op, "grads", grads.Length, weights.Length);
        ShapeCheck.Length(op, "momentumBuffer", momentumBuffer.Length, weights.Length);
        ShapeCheck.NonNegative(op, "decayedCount", decayedCount);
        if (decayedCount > weights.Length)
            throw new ArgumentException($"{op}: decayedCount must be at most the {weights.Length} weights, got {decayedCount}");
        Enter();
        StepCore(new SgdUpdate(learningRate, momentum, weightDecay, firstStep), weights, grads, momentumBuffer, decayedCount);
    }

    /// <summary>The backend's form of <see cref="Step"/>: arguments already checked.</summary>
    protected abstract void StepCore(SgdUpdate update, ArrayView<float> weights, ArrayView<float> grads, ArrayView<float> momentumBuffer, int decayedCount);
}
