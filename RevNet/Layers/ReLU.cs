using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

public sealed class ReLU : Module
{
    public override Tensor Forward(Tensor x) => Functional.Relu(x);
}
