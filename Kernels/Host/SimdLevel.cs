using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>The vector instructions a host kernel runs: 512-bit AVX-512F, 256-bit AVX2 with FMA, or plain scalar code.</summary>
public enum SimdLevel
{
    /// <summary>One float at a time.</summary>
    Scalar,
    /// <summary>256-bit vectors (AVX2 with FMA on x86, or two 128-bit registers elsewhere).</summary>
    Vector256,
    /// <summary>512-bit vectors (AVX-512F).</summary>
    Vector512,
}

/// <summary>
/// Which <see cref="SimdLevel"/> every host kernel runs: REVNET_SIMD (vector512, vector256 or scalar) or the `--simd`
/// option if given, else the widest level the processor supports. A narrower level runs the code an older processor
/// runs (most laptops have AVX2 but no AVX-512), so the tests run every kernel at every level this machine has.
/// </summary>
public static class HostSimd
{
    /// <summary>The environment variable that caps the level (vector512, vector256 or scalar).</summary>
    public const string EnvironmentVariable = "REVNET_SIMD";

    static SimdLevel? active;

    /// <summary>The widest level this processor runs with fused multiply-add.</summary>
    public static SimdLevel Best =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? SimdLevel.Vector512
        : Fma.IsSupported && Avx2.IsSupported ? SimdLevel.Vector256
        : SimdLevel.Scalar;

    /// <summary>Every level this processor can run, narrowest first.</summary>
    public static IReadOnlyList<SimdLevel> Supported => Enum.GetValues<SimdLevel>().Where(l => l <= Best).ToArray();

    /// <summary>
    /// The level the host kernels run now: on first use REVNET_SIMD's, else <see cref="Best"/>. Setting a level the
    /// processor lacks throws, naming what it has.
    /// </summary>
    public static SimdLevel Active
    {
        get => active ??= Parse(Environment.GetEnvironmentVariable(EnvironmentVariable), EnvironmentVariable);
        set => active = value <= Best ? value : throw Unsupported(value.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// Selects the level named by <paramref name="name"/> (vector512, vector256 or scalar; the `--simd` option), or REVNET_SIMD's
    /// or the best when it is null. Throws <see cref="ArgumentException"/> with one line for an unknown or unsupported name.
    /// </summary>
    public static void Select(string? name) =>
        active = name is null ? Parse(Environment.GetEnvironmentVariable(EnvironmentVariable), EnvironmentVariable) : Parse(name, "--simd");

    static SimdLevel Parse(string? name, string source)
    {
        if (string.IsNullOrWhiteSpace(name)) return Best;
        var level = name.Trim().ToLowerInvariant() switch
        {
            "vector512" => SimdLevel.Vector512,
            "vector256" => SimdLevel.Vector256,
            "scalar" => SimdLevel.Scalar,
            _ => throw new ArgumentException($"{source}='{name}': expected vector512, vector256 or scalar"),
        };
        return level <= Best ? level : throw Unsupported($"{source}='{name}'");
    }

    static ArgumentException Unsupported(string what) => new(
        $"{what}: this processor runs {string.Join(", ", Supported.Reverse().Select(l => l.ToString().ToLowerInvariant()))} " +
        $"(AVX-512F {(Avx512F.IsSupported ? "yes" : "no")}, AVX2 {(Avx2.IsSupported ? "yes" : "no")}, FMA {(Fma.IsSupported ? "yes" : "no")})");
}
