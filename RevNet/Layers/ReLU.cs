using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>nn.ReLU: max(x, 0) element by element, any shape; no parameters.</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Functional.Relu(x);
}
