using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// PyTorch's SGD with momentum and weight decay over the model's one parameter buffer: one launch per step.
/// Weight decay applies to conv and linear weights only (they are stored first).
/// </summary>
public sealed class SgdOptimizer : IDisposable
{
    readonly ParameterStore parameters;

    /// <summary>An optimizer over the allocated <paramref name="parameters"/> (borrowed: dispose them separately) with a zeroed momentum buffer it owns.</summary>
    public SgdOptimizer(ParameterStore parameters, SgdSettings settings)
    {
        this.parameters = parameters;
        Settings = settings;
        MomentumBuffer = Tensor.Zeros(parameters.Values.Device, (int)parameters.Values.Length);
    }

    /// <summary>Learning rate, momentum and weight decay of the next step; a schedule sets the rate before each step.</summary>
    public SgdSettings Settings { get; set; }

    /// <summary>The velocity of every parameter (checkpointed so a resumed run continues exactly).</summary>
    public Tensor MomentumBuffer { get; }

    /// <summary>Steps taken; the first step initialises the momentum buffer with the gradient, as PyTorch does.</summary>
    public long StepCount { get; set; }

    /// <summary>One update of every parameter from its accumulated gradient; the gradients are left as they are (zero them before the next backward).</summary>
    public void Step()
    {
        var device = parameters.Values.Device;
        bool firstStep = StepCount == 0;
        var s = Settings;
        device.Run(k => k.Sgd.Step(s.LearningRate, s.Momentum, s.WeightDecay, parameters.Values.View, parameters.Grads.View, MomentumBuffer.View, parameters.DecayedCount, firstStep));
        StepCount++;
    }

    /// <summary>Releases the momentum buffer.</summary>
    public void Dispose() => MomentumBuffer.Release();
}
