using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// Indices for grid-stride loops inside 1-D kernels: start at the global thread index, step by the grid's thread
/// count. Read <see cref="Stride"/> and the loop bound once, into locals: on ILGPU's CPU accelerator each read of a
/// grid or group dimension costs ~0.3 µs, which in a loop condition made element-wise kernels 30-50x slower.
/// </summary>
public static class GridLoop
{
    public static int Start => Grid.GlobalIndex.X;

    public static int Stride => Grid.DimX * Group.DimX;
}
