using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="BatchNormReluConv2dKernels"/>: the convolution kernels of <see cref="Conv2dIlgpu"/> with
/// <see cref="BatchNormReluInput"/> as their input, so relu(batchnorm(x)) is computed as the convolution loads x (in the
/// GEMM's operand loaders on GPUs, in the direct kernels' inner loops on the CPU accelerator) and never written out.
/// The workspace is not used. One launch per call, where the unfused ops took two (forward) and three (backward: the
/// activation again, then the two gradients).
/// </summary>
internal static class BatchNormReluConv2dIlgpu
{
    internal static void Forward(KernelContext k, Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y) =>
        Conv2dIlgpu.Forward(k, s, x, new BatchNormReluInput(mean, invstd, gamma, beta), w, bias, y);

    internal static void Backward(KernelContext k, Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> w, ArrayView<float> gy, ArrayView<float> ga, ArrayView<float> gw) =>
        Conv2dIlgpu.Backward(k, s, x, new BatchNormReluInput(mean, invstd, gamma, beta), gy, w, ga, gw);
}
