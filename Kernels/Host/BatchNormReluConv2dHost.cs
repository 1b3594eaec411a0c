namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The host form of <see cref="BatchNormReluConv2dKernels"/>: batch norm and ReLU are applied to x as the convolution pads
/// each image for its passes (<see cref="InputActivation"/>), so the activation is never written out: the forward and
/// the weight gradient each read x once, where normalising into a buffer first cost a write and a read more of every
/// element. The bits are the separate ops' (same arithmetic per element).
/// </summary>
internal static unsafe class BatchNormReluConv2dHost
{
    public static void Forward(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        var scale = BatchNormHost.Scales(gamma[..s.C], invstd);
        fixed (float* pm = mean, ps = scale, pb = beta)
            Conv2dHost.Forward(s, x, w, bias, y, new InputActivation(pm, ps, pb));
    }

    public static void Backward(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, ReadOnlySpan<float> w, ReadOnlySpan<float> gy, Span<float> ga, Span<float> gw)
    {
        var scale = BatchNormHost.Scales(gamma[..s.C], invstd);
        fixed (float* pm = mean, ps = scale, pb = beta)
            Conv2dHost.BackwardWeight(s, x, gy, gw, new InputActivation(pm, ps, pb));
        Conv2dHost.BackwardInput(s, gy, w, ga);
    }
}
