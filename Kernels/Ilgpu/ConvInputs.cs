using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// What a convolution reads as its input: x itself (<see cref="RawInput"/>) or relu(batchnorm(x)) computed on the fly
/// as the operand is loaded (<see cref="BatchNormReluInput"/>), so a pre-activation unit's BN-ReLU never writes its
/// activation out. A channel's parameters come as one <see cref="Quad"/>; <see cref="Apply(float, Quad)"/> transforms one value of
/// that channel. Zero padding stays zero: loaders transform only elements that lie inside the input.
/// </summary>
internal interface IConvInput
{
    /// <summary>True when values pass through unchanged (a constant: the transform compiles away).</summary>
    bool Identity { get; }

    /// <summary>The parameters of channel <paramref name="c"/>.</summary>
    Quad Channel(int c);

    /// <summary>One value of a channel with parameters <paramref name="p"/>.</summary>
    float Apply(float x, Quad p);

    /// <summary>Four values of one channel.</summary>
    Quad Apply(Quad x, Quad p);
}

/// <summary>The input as it is.</summary>
internal struct RawInput : IConvInput
{
    public readonly bool Identity => true;

    public readonly Quad Channel(int c) => default;

    public readonly float Apply(float x, Quad p) => x;

    public readonly Quad Apply(Quad x, Quad p) => x;
}

/// <summary>
/// max(0, gamma·(x − mean)·invstd + beta) per channel, with the operations in the order <see cref="BatchNormReluIlgpu"/>'s
/// forward uses (so the same bits wherever float multiply-adds are not contracted). Parameters as (mean, invstd, gamma, beta).
/// </summary>
internal struct BatchNormReluInput : IConvInput
{
    public ArrayView<float> Mean, Invstd, Gamma, Beta;

    public BatchNormReluInput(ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta) =>
        (Mean, Invstd, Gamma, Beta) = (mean, invstd, gamma, beta);

    public readonly bool Identity => false;

    public readonly Quad Channel(int c) => new(Mean[c], Invstd[c], Gamma[c], Beta[c]);

    public readonly float Apply(float x, Quad p) => IntrinsicMath.Max(p.V2 * (x - p.V0) * p.V1 + p.V3, 0f);

    public readonly Quad Apply(Quad x, Quad p) => new(Apply(x.V0, p), Apply(x.V1, p), Apply(x.V2, p), Apply(x.V3, p));
}
