namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Which algorithm a 3x3 stride-1 convolution pass takes where Winograd may run: a fixed function of the shape and of
/// whether Winograd is forced, drawn from `revnet bench kernels --device cpu` and its error column (docs/benchmarks/winograd.md). Each pass
/// is a correlation from In to Out channels whose output rows are OutW wide (forward: C to K over y's rows; grad-input:
/// K to C over x's rows; grad-weight: read as forward). Measured one thread at a time on this project's 2-core AVX-512
/// machine, batch 32 (CIFAR maps) and 64 (Fashion-MNIST maps):
/// <list type="bullet">
/// <item>where OutW is a multiple of 8 the direct convolution reads im2col in place from the padded image; there
/// F(4x4,3x3) ran forward and grad-input 1.1-1.7x faster than direct with 10 to 64 channels in and out, and slower with
/// 3, 4 or 8 (1.1-1.5x); direct grad-weight stayed faster (1.2-1.5x at 16-56 channels);</item>
/// <item>elsewhere (28, 14 and 7 wide) direct packs im2col panels and runs 2-4x slower, and F(4x4,3x3) won every pass
/// from 3 input channels on (forward 1.2-4x, grad-input 2-3x, grad-weight 1.4-2.5x) but lost with 1 or 2;</item>
/// <item>F(4x4,3x3) beat F(2x2,3x3) at every shape but one (grad-weight at 7x7, 32 channels, 1.2x); its error against
/// float64 stayed within 0.7-2.6e-6 of the largest value (direct 0.1-1.0e-6, F(2x2,3x3) 0.2-0.4e-6), well inside the
/// float32 tolerance of the tests (1e-5).</item>
/// </list>
/// </summary>
public static class WinogradPlan
{
    /// <summary>Output widths whose multiples the direct convolution reads in place (whole half-vector segments under AVX-512).</summary>
    public const int DirectSegment = 8;

    /// <summary>Fewest channels, in and out, at which the plan takes Winograd where direct reads in place (measured: 10 faster, 8 slower).</summary>
    public const int MinChannels = 9;

    /// <summary>Fewest input channels at which the plan takes Winograd where direct packs panels (measured: 3 faster, 2 slower).</summary>
    public const int MinInputChannelsPacked = 3;

    /// <summary>Winograd computes 3x3 kernels at stride 1 (any padding, any map and channel counts).</summary>
    public static bool Applies(Conv2dShape s) => s.KH == 3 && s.KW == 3 && s.Stride == 1;

    /// <summary>
    /// The algorithm for <paramref name="pass"/> of <paramref name="s"/> (which <see cref="Applies"/>): with
    /// <paramref name="forced"/>, F(4x4,3x3) for every pass; otherwise F(4x4,3x3) where it measured faster (see the
    /// class), direct elsewhere (the fastest setting follows this for every pass, auto for the gradient passes only).
    /// </summary>
    public static ConvAlgorithm TileFor(Conv2dShape s, ConvPass pass, bool forced)
    {
        if (forced) return ConvAlgorithm.WinogradF4;
        var (inChannels, outChannels, outWidth) = pass == ConvPass.GradInput ? (s.K, s.C, s.W) : (s.C, s.K, s.OutW);
        bool winograd = outWidth % DirectSegment != 0
            ? inChannels >= MinInputChannelsPacked
            : pass != ConvPass.GradWeight && Math.Min(inChannels, outChannels) >= MinChannels;
        return winograd ? ConvAlgorithm.WinogradF4 : ConvAlgorithm.Direct;
    }
}
