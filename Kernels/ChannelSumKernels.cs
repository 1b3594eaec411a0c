using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Per-channel sums of a [N, C, Spatial] tensor (NCHW with H·W flattened; [N, C] with Spatial 1), added
/// into sums[C]: the bias gradient of conv and linear layers. One group per channel reduces in a fixed
/// order (strided partial sums, then a shared-memory tree), so it is deterministic without atomics.
/// </summary>
public static class ChannelSumKernels
{
    static void AccumulateKernel(ArrayView<float> src, ArrayView<float> sums, int batch, int spatial)
    {
        int channels = sums.IntLength, c = Grid.IdxX, lane = Group.IdxX;
        var partial = SharedMemory.GetDynamic<float>();
        float s = 0f;
        for (int i = lane, end = batch * spatial, step = Group.DimX; i < end; i += step)
        {
            int n = i / spatial;
            s += src[(n * channels + c) * spatial + (i - n * spatial)];
        }
        partial[lane] = s;
        Group.Barrier();
        // Halve the active range each step; rounding up keeps any group size (not only powers of two) correct.
        for (int active = Group.DimX; active > 1;)
        {
            int half = (active + 1) / 2;
            if (lane + half < active) partial[lane] += partial[lane + half];
            Group.Barrier();
            active = half;
        }
        if (lane == 0) sums[c] += partial[0];
    }

    /// <summary>sums[c] += Σ over n, p of src[n, c, p]; src is [batch, sums.Length, spatial]; callers check lengths.</summary>
    internal static void Accumulate(KernelContext k, int batch, int spatial, ArrayView<float> src, ArrayView<float> sums) =>
        k.Load<ArrayView<float>, ArrayView<float>, int, int>(AccumulateKernel)(
            k.GroupPerItem(sums.IntLength), src, sums, batch, spatial);
}
