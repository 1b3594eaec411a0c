namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The host form of <see cref="BatchNormReluConv2dKernels"/>: the activation is normalised (<see cref="BatchNormHost.NormalizeRelu"/>)
/// into the caller's workspace (forward) or into ga before the input gradient overwrites it (backward), then the host
/// convolution runs on it, so the fused op costs on the CPU what the separate ops did (the packed SIMD convolution reads a
/// dense input; a normalising read would slow its inner loop).
/// </summary>
internal static class BatchNormReluConv2dHost
{
    public static void Forward(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> workspace, Span<float> y)
    {
        BatchNormHost.NormalizeRelu(s.N, s.C, s.H * s.W, x, mean, invstd, gamma, beta, workspace);
        Conv2dHost.Forward(s, workspace, w, bias, y);
    }

    public static void Backward(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> invstd, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, ReadOnlySpan<float> w, ReadOnlySpan<float> gy, Span<float> ga, Span<float> gw)
    {
        // The activation lives in ga until the weight gradient has read it.
        BatchNormHost.NormalizeRelu(s.N, s.C, s.H * s.W, x, mean, invstd, gamma, beta, ga);
        Conv2dHost.BackwardWeight(s, ga, gy, gw);
        Conv2dHost.BackwardInput(s, gy, w, ga);
    }
}
