using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>[N,C,H,W] → [N,C], the mean over each feature map.</summary>
public sealed class GlobalAvgPool : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Functional.GlobalAvgPool(x);
}
