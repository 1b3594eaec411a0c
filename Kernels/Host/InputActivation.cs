namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Batch norm and ReLU applied to a convolution's input as each image is zero-padded for it, a = max(0, (x − mean)·scale
/// + beta) per channel with scale = gamma·invstd (the fused <see cref="BatchNormReluConv2dHost"/>): the padding copy reads
/// every element once anyway, so the activation never makes its own pass through memory. The arithmetic is
/// <see cref="BatchNormHost.NormalizeRelu"/>'s, so the bits are the separate ops'. The default value applies nothing.
/// </summary>
internal readonly unsafe struct InputActivation
{
    readonly float* mean, scale, beta;

    /// <summary>Per-channel arrays of the channel count, pinned (or native) for as long as the convolution runs.</summary>
    public InputActivation(float* mean, float* scale, float* beta)
    {
        this.mean = mean;
        this.scale = scale;
        this.beta = beta;
    }

    /// <summary>True for the default value: the input is copied as it is.</summary>
    public bool IsNone => scale == null;

    /// <summary>to = max(0, (from − mean[c])·scale[c] + beta[c]).</summary>
    public void Apply(int channel, ReadOnlySpan<float> from, Span<float> to) =>
        BatchNormHost.NormalizeReluRun(from, to, mean[channel], scale[channel], beta[channel]);
}
