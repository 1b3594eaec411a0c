namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Which Winograd tile a 3x3 stride-1 convolution pass takes: a fixed function of the shape (and whether Winograd is
/// forced), drawn from `revnet bench kernels --device cpu` and the error table (docs/benchmarks/winograd.md).
/// </summary>
public static class WinogradPlan
{
    /// <summary>Winograd computes 3x3 kernels at stride 1 (any padding, any map and channel counts).</summary>
    public static bool Applies(Conv2dShape s) => s.KH == 3 && s.KW == 3 && s.Stride == 1;

    /// <summary>
    /// The tile for <paramref name="pass"/> of <paramref name="s"/> (which <see cref="Applies"/>); with
    /// <paramref name="forced"/> false (auto) direct where Winograd did not measure faster.
    /// </summary>
    public static ConvAlgorithm TileFor(Conv2dShape s, ConvPass pass, bool forced)
    {
        if (pass == ConvPass.GradWeight && !forced) return ConvAlgorithm.Direct;
        return ConvAlgorithm.WinogradF4;
    }
}
