using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>nn.Linear: weight [out,in], bias [out], PyTorch's default uniform initialisation.</summary>
public sealed class Linear : Module
{
    readonly Parameter weight;
    readonly Parameter bias;

    /// <summary>A fully connected layer from [N, <paramref name="inFeatures"/>] to [N, <paramref name="outFeatures"/>].</summary>
    /// <param name="inFeatures">Input features.</param>
    /// <param name="outFeatures">Output features.</param>
    /// <exception cref="ArgumentException">A feature count is not positive.</exception>
    public Linear(int inFeatures, int outFeatures)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear: feature counts must be positive, got in={inFeatures}, out={outFeatures}");
        weight = AddParameter("weight", [outFeatures, inFeatures], Parameter.UniformFanIn(inFeatures), weightDecay: true);
        bias = AddParameter("bias", [outFeatures], Parameter.UniformFanIn(inFeatures), weightDecay: false);
    }

    /// <summary>The weight [out, in] (uniform ±1/√in by default); set its <see cref="Parameter.Init"/> to choose another.</summary>
    public Parameter Weight => weight;

    /// <summary>The bias [out] (uniform ±1/√in by default).</summary>
    public Parameter Bias => bias;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Functional.Linear(x, weight.Value, bias.Value);
}
