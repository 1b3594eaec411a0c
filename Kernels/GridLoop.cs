using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>Indices for grid-stride loops inside 1-D kernels: start at the global thread index, step by the grid's thread count.</summary>
public static class GridLoop
{
    public static int Start => Grid.GlobalIndex.X;

    public static int Stride => Grid.DimX * Group.DimX;
}
