using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="LinearKernels"/>: all three products are the one GEMM (<see cref="GemmKernels"/>) with
/// transposes read in place.
/// </summary>
internal static class LinearIlgpu
{
    internal static void Forward(KernelContext k, int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y) =>
        GemmKernels.Multiply(k, n, outFeatures, inFeatures,
            new DenseOperand<RowMajor>(x, new RowMajor(inFeatures)),
            new TransposedOperand<DenseOperand<RowMajor>>(new DenseOperand<RowMajor>(w, new RowMajor(inFeatures))),
            new DenseOutput<RowMajor>(y, new RowMajor(outFeatures), OutputMode.Overwrite, b, BiasAxis.Column));

    internal static void BackwardInput(KernelContext k, int n, int inFeatures, int outFeatures, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx) =>
        GemmKernels.Multiply(k, n, inFeatures, outFeatures,
            new DenseOperand<RowMajor>(gy, new RowMajor(outFeatures)),
            new DenseOperand<RowMajor>(w, new RowMajor(inFeatures)),
            new DenseOutput<RowMajor>(gx, new RowMajor(inFeatures), OutputMode.Overwrite));

    internal static void BackwardParams(KernelContext k, int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, ArrayView<float> gb)
    {
        GemmKernels.Multiply(k, outFeatures, inFeatures, n,
            new TransposedOperand<DenseOperand<RowMajor>>(new DenseOperand<RowMajor>(gy, new RowMajor(outFeatures))),
            new DenseOperand<RowMajor>(x, new RowMajor(inFeatures)),
            new DenseOutput<RowMajor>(gw, new RowMajor(inFeatures), OutputMode.Accumulate));
        ChannelIlgpu.SumPerChannel(k, outFeatures, 1, gy, gb, accumulate: true);
    }
}
