using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>nn.Linear: weight [out,in], bias [out], PyTorch's default uniform initialisation.</summary>
public sealed class Linear : Module
{
    readonly Parameter weight;
    readonly Parameter bias;

    public Linear(int inFeatures, int outFeatures)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear: feature counts must be positive, got in={inFeatures}, out={outFeatures}");
        weight = AddParameter("weight", [outFeatures, inFeatures], Parameter.UniformFanIn(inFeatures), weightDecay: true);
        bias = AddParameter("bias", [outFeatures], Parameter.UniformFanIn(inFeatures), weightDecay: false);
    }

    public override Tensor Forward(Tensor x) => Functional.Linear(x, weight.Value, bias.Value);
}
