using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="ElementwiseKernels"/>: one grid-stride launch per op, running the operator struct's scalar
/// form (<see cref="IUnaryOp"/>, <see cref="IBinaryOp"/>) per element.
/// </summary>
internal static class ElementwiseIlgpu
{
    static void MapKernel<TOp>(TOp op, ArrayView<float> x, ArrayView<float> y) where TOp : struct, IUnaryOp
    {
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
            y[i] = op.Invoke(x[i]);
    }

    static void ZipKernel<TOp>(TOp op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) where TOp : struct, IBinaryOp
    {
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step)
            y[i] = op.Invoke(a[i], b[i]);
    }

    static void CountNonFiniteKernel(ArrayView<float> x, ArrayView<int> count)
    {
        int local = 0;
        for (int i = GridLoop.Start, end = x.IntLength, step = GridLoop.Stride; i < end; i += step)
            if ((Interop.FloatAsInt(x[i]) & 0x7F800000u) == 0x7F800000u) local++; // all-ones exponent: NaN or ±Inf
        // Integer addition is exact and associative, so the atomic total is the same on every run.
        if (local != 0) Atomic.Add(ref count[0], local);
    }

    internal static void Map<TOp>(KernelContext k, TOp op, ArrayView<float> x, ArrayView<float> y) where TOp : struct, IUnaryOp =>
        k.Load<TOp, ArrayView<float>, ArrayView<float>>(MapKernel)(k.GridStride(y.Length), LaunchCost.Elementwise(y.Length, 1, 1, 1), op, x, y);

    internal static void Zip<TOp>(KernelContext k, TOp op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) where TOp : struct, IBinaryOp =>
        k.Load<TOp, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ZipKernel)(k.GridStride(y.Length), LaunchCost.Elementwise(y.Length, 1, 2, 1), op, a, b, y);

    internal static void CountNonFinite(KernelContext k, ArrayView<float> x, ArrayView<int> count)
    {
        count.MemSetToZero();
        k.Load<ArrayView<float>, ArrayView<int>>(CountNonFiniteKernel)(k.GridStride(x.Length), LaunchCost.Elementwise(x.Length, 1, 1, 0), x, count);
    }
}
