namespace RevNetIlgpu.Kernels.Host;

/// <summary>Which algorithm the host convolution may use for 3x3 stride-1 layers (every other layer is always direct).</summary>
public enum ConvAlgorithmSetting
{
    /// <summary>
    /// The default: Winograd for the gradient passes (grad-input, grad-weight) where it measured faster than direct on this
    /// project's machine, direct elsewhere and for every forward. A reconstructing network rebuilds its activations by
    /// forwards, so they stay direct's bits and its float32 drift; the gradient passes' larger rounding does not compound.
    /// </summary>
    Auto,

    /// <summary>
    /// Winograd for every pass, forward included, where it measured faster than direct, direct elsewhere: the fastest
    /// setting, with several times direct's reconstruction drift (the forward's rounding compounds block after block).
    /// </summary>
    Fastest,

    /// <summary>The implicit GEMM of <see cref="Conv2dHost"/> for every layer.</summary>
    Direct,

    /// <summary>Winograd for every 3x3 stride-1 layer and pass it implements (forward, grad-input, grad-weight).</summary>
    Winograd,
}

/// <summary>What one host convolution pass runs: the direct implicit GEMM or Winograd with one of two tile sizes.</summary>
public enum ConvAlgorithm
{
    /// <summary>The implicit GEMM of the host convolution.</summary>
    Direct,

    /// <summary>Winograd F(2x2,3x3): 16 products per 4 outputs (2.25x fewer than direct), about direct's error.</summary>
    WinogradF2,

    /// <summary>Winograd F(4x4,3x3): 36 products per 16 outputs (4x fewer), several times direct's error.</summary>
    WinogradF4,
}

/// <summary>The three passes of a convolution.</summary>
public enum ConvPass
{
    /// <summary>y from x and w.</summary>
    Forward,
    /// <summary>dL/dx from dL/dy and w.</summary>
    GradInput,
    /// <summary>dL/dw from x and dL/dy.</summary>
    GradWeight,
}

/// <summary>
/// The process-wide <see cref="ConvAlgorithmSetting"/> of the host convolution: REVNET_CONV_ALGORITHM (auto, fastest,
/// direct or winograd) if set, else auto; the CLI's --conv-algorithm sets it too. <see cref="Choose(Conv2dShape, ConvPass)"/> turns it and a shape into
/// the algorithm a pass runs, a function of those two alone (never of timings taken at run time), so a recompute runs
/// the very algorithm, and gives the very bits, of the forward it repeats.
/// </summary>
public static class HostConvAlgorithm
{
    /// <summary>The environment variable read when nothing has set the algorithm.</summary>
    public const string EnvironmentVariable = "REVNET_CONV_ALGORITHM";

    // Read on first use rather than in a static initialiser, so a bad value surfaces as the ArgumentException that
    // names it (the CLI's one-line error), not as a TypeInitializationException.
    static ConvAlgorithmSetting? active;

    /// <summary>The setting the host convolution follows now; an <see cref="ArgumentException"/> while REVNET_CONV_ALGORITHM is bad and nothing has been set.</summary>
    public static ConvAlgorithmSetting Active
    {
        get => active ??= FromEnvironment();
        set => active = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), $"unknown conv algorithm setting {value}");
    }

    /// <summary>auto, fastest, direct or winograd (any case); otherwise an <see cref="ArgumentException"/> naming <paramref name="source"/>.</summary>
    public static ConvAlgorithmSetting Parse(string text, string source) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => ConvAlgorithmSetting.Auto,
        "fastest" => ConvAlgorithmSetting.Fastest,
        "direct" => ConvAlgorithmSetting.Direct,
        "winograd" => ConvAlgorithmSetting.Winograd,
        _ => throw new ArgumentException($"{source}='{text}': expected auto, fastest, direct or winograd"),
    };

    static ConvAlgorithm? pinned;

    /// <summary>
    /// Until the returned scope is disposed, every pass that <paramref name="algorithm"/> applies to runs it, whatever the
    /// setting (Winograd applies to 3x3 stride-1 layers only): `bench kernels` times and checks each algorithm through the
    /// Conv2d contract this way. Not for concurrent use.
    /// </summary>
    public static PinnedAlgorithm Pin(ConvAlgorithm algorithm)
    {
        var scope = new PinnedAlgorithm(pinned);
        pinned = algorithm;
        return scope;
    }

    /// <summary>Restores the pin that was in force before <see cref="Pin"/>.</summary>
    public readonly struct PinnedAlgorithm(ConvAlgorithm? previous) : IDisposable
    {
        /// <summary>Puts the previous pin back.</summary>
        public void Dispose() => pinned = previous;
    }

    /// <summary>The algorithm <paramref name="pass"/> of <paramref name="s"/> runs now: the pinned one where it applies, else the <see cref="Active"/> setting's.</summary>
    public static ConvAlgorithm Choose(Conv2dShape s, ConvPass pass) => pinned switch
    {
        ConvAlgorithm.Direct => ConvAlgorithm.Direct,
        { } tile when WinogradPlan.Applies(s) => tile,
        _ => Choose(s, pass, Active),
    };

    /// <summary>
    /// The algorithm <paramref name="pass"/> of <paramref name="s"/> runs under <paramref name="setting"/>: direct unless the
    /// layer is 3x3 at stride 1 (and, under auto, unless the pass is a gradient's); then the tile of
    /// <see cref="WinogradPlan.TileFor"/>, which under auto and fastest may also say direct.
    /// </summary>
    public static ConvAlgorithm Choose(Conv2dShape s, ConvPass pass, ConvAlgorithmSetting setting)
    {
        if (setting == ConvAlgorithmSetting.Direct || !WinogradPlan.Applies(s)) return ConvAlgorithm.Direct;
        if (setting == ConvAlgorithmSetting.Auto && pass == ConvPass.Forward) return ConvAlgorithm.Direct;
        return WinogradPlan.TileFor(s, pass, forced: setting == ConvAlgorithmSetting.Winograd);
    }

    static ConvAlgorithmSetting FromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(text) ? ConvAlgorithmSetting.Auto : Parse(text, EnvironmentVariable);
    }
}
