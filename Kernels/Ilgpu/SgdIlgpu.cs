using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>The ILGPU form of <see cref="SgdKernels"/>: one grid-stride launch over the flat buffer, <see cref="SgdUpdate"/> per element.</summary>
internal static class SgdIlgpu
{
    static void StepKernel(SgdUpdate update, ArrayView<float> weights, ArrayView<float> grads, ArrayView<float> buffer, int decayedCount)
    {
        for (int i = GridLoop.Start, end = weights.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            var (w, b) = update.Invoke(weights[i], grads[i], buffer[i], i < decayedCount);
            buffer[i] = b;
            weights[i] = w;
        }
    }

    internal static void Step(KernelContext k, SgdUpdate update, ArrayView<float> weights, ArrayView<float> grads, ArrayView<float> momentumBuffer, int decayedCount) =>
        k.Load<SgdUpdate, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(StepKernel)(
            k.GridStride(weights.Length), LaunchCost.Elementwise(weights.Length, 6, 3, 2), update, weights, grads, momentumBuffer, decayedCount);
}
