using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>nn.Conv2d with square kernel, stride and zero padding; weight [out,in,k,k], optional bias.</summary>
public sealed class Conv2d : Module
{
    readonly Parameter weight;
    readonly Parameter? bias;

    /// <summary>A convolution of [N, in, H, W] inputs to [N, out, (H + 2·padding − k) / stride + 1, ...].</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels (filters).</param>
    /// <param name="kernelSize">k, the square kernel's side.</param>
    /// <param name="stride">Step on both axes.</param>
    /// <param name="padding">Zeros added on every side.</param>
    /// <param name="bias">Whether to add a learnable bias per output channel (starts at 0).</param>
    /// <exception cref="ArgumentException">A size or the stride is not positive, or the padding is negative.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = false)
    {
        foreach (var (name, v) in new[] { ("in channels", inChannels), ("out channels", outChannels), ("kernel size", kernelSize), ("stride", stride) })
            if (v <= 0) throw new ArgumentException($"Conv2d: {name} must be positive, got {v}");
        if (padding < 0) throw new ArgumentException($"Conv2d: padding must be non-negative, got {padding}");
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        Padding = padding;
        weight = AddParameter("weight", [outChannels, inChannels, kernelSize, kernelSize], Parameter.KaimingNormalFanOut, weightDecay: true);
        if (bias) this.bias = AddParameter("bias", [outChannels], Parameter.Constant(0f), weightDecay: false);
    }

    /// <summary>The kernel [out, in, k, k] (Kaiming normal, fan-out, by default); set its <see cref="Parameter.Init"/> to choose another.</summary>
    public Parameter Weight => weight;

    /// <summary>The bias [out], or null for a convolution without one.</summary>
    public Parameter? Bias => bias;

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Step of the kernel on both axes.</summary>
    public int Stride { get; }

    /// <summary>Zeros added on every side of the input.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Functional.Conv2d(x, weight.Value, bias?.Value, Stride, Padding);

    /// <summary>This convolution of relu(batchnorm(x)), keeping only x for backward (<see cref="Functional.BatchNormReluConv2d"/>).</summary>
    public Tensor ForwardAfterBatchNormRelu(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor invstd, bool batchStatistics) =>
        Functional.BatchNormReluConv2d(x, gamma, beta, mean, invstd, batchStatistics, weight.Value, bias?.Value, Stride, Padding);
}
