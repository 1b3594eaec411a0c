using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// A training loss: a scalar tensor [1] from the model's output and the labels (both borrowed), recorded on the tape so
/// that backward reaches the model. The result is owned by the caller.
/// </summary>
public delegate Tensor LossFunction(Tensor output, Tensor labels);

/// <summary>The losses this library has.</summary>
public static class Losses
{
    /// <summary>Mean softmax cross-entropy of logits [N, classes] against int labels [N] (nn.CrossEntropyLoss): the default.</summary>
    public static LossFunction CrossEntropy { get; } = Functional.CrossEntropy;
}
