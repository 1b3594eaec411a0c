using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// Deterministic sums across one thread group, for kernels launched with
/// <see cref="KernelContext.GroupPerItem"/> (which requests one float of dynamic shared memory per thread).
/// The tree's order is fixed by the group size alone, so equal inputs give equal bits on every run (no float atomics).
/// </summary>
internal static class GroupReduction
{
    /// <summary>Sum of <paramref name="value"/> over the group's threads; every thread receives the total.</summary>
    public static float Sum(float value)
    {
        if (Group.DimX == 1) return value; // a one-thread group (the CPU accelerator's choice) needs no barrier
        var shared = SharedMemory.GetDynamic<float>();
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        // Halving with a rounded-up half handles group sizes that are not powers of two.
        for (int width = Group.DimX; width > 1;)
        {
            int half = (width + 1) / 2;
            if (t < width - half) shared[t] += shared[t + half];
            Group.Barrier();
            width = half;
        }
        float total = shared[0];
        // A following Sum overwrites shared[0]; every thread must have read it first.
        Group.Barrier();
        return total;
    }
}
