namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Which algorithm a 3x3 stride-1 convolution pass takes: a fixed function of the shape and of whether Winograd is
/// forced, drawn from `revnet bench kernels --device cpu` and its error column (docs/benchmarks/winograd.md). Measured on
/// this project's 2-core AVX-512 machine at RevNet-38's and RevNet-110's shapes, batch 32:
/// <list type="bullet">
/// <item>F(4x4,3x3) ran forward and grad-input 1.2-1.7x faster than direct wherever both channel counts were 16 or more,
/// and faster than F(2x2,3x3) at every shape; its error against float64 stayed within 1.2-2.6e-6 of the largest output
/// (direct 0.4-1.0e-6, F(2x2,3x3) 0.2-0.4e-6), well inside the float32 tolerance of the tests (1e-5);</item>
/// <item>with few channels the transforms outweigh the saved products: direct was faster with 3 input channels (the
/// stem) and with 8 in and out (1.25x at 32x32 and 16x16, where its 8-row micro-tile fits exactly), F(4x4,3x3) 1.1x
/// faster with 10 and 12;</item>
/// <item>grad-weight by Winograd (either tile) was slower than direct at every shape: the transformed tiles of x and gy
/// are 2.25-4x their size, and sums over a few hundred tiles at a time leave the dot-product micro-kernel short rows.</item>
/// </list>
/// </summary>
public static class WinogradPlan
{
    /// <summary>Fewest input and output channels at which auto takes Winograd (measured: 10 and more faster, 8 and 3 slower).</summary>
    public const int MinChannels = 9;

    /// <summary>Winograd computes 3x3 kernels at stride 1 (any padding, any map and channel counts).</summary>
    public static bool Applies(Conv2dShape s) => s.KH == 3 && s.KW == 3 && s.Stride == 1;

    /// <summary>
    /// The algorithm for <paramref name="pass"/> of <paramref name="s"/> (which <see cref="Applies"/>): with
    /// <paramref name="forced"/>, F(4x4,3x3) for every pass; under auto, F(4x4,3x3) for forward and grad-input when
    /// both channel counts reach <see cref="MinChannels"/>, direct otherwise.
    /// </summary>
    public static ConvAlgorithm TileFor(Conv2dShape s, ConvPass pass, bool forced)
    {
        if (forced) return ConvAlgorithm.WinogradF4;
        if (pass == ConvPass.GradWeight || Math.Min(s.C, s.K) < MinChannels) return ConvAlgorithm.Direct;
        return ConvAlgorithm.WinogradF4;
    }
}
