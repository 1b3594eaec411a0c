using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>The vector instructions a host kernel runs: 512-bit AVX-512F, 256-bit AVX2 with FMA, or plain scalar code.</summary>
public enum SimdLevel
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>
/// Which <see cref="SimdLevel"/> the host kernels use: the widest the processor supports, chosen at run time.
/// Tests set <see cref="Active"/> lower to check every path on one machine.
/// </summary>
public static class HostSimd
{
    static SimdLevel active = Best;

    /// <summary>The widest level this processor runs with fused multiply-add.</summary>
    public static SimdLevel Best =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? SimdLevel.Vector512
        : Fma.IsSupported && Avx2.IsSupported ? SimdLevel.Vector256
        : SimdLevel.Scalar;

    /// <summary>Every level this processor can run, narrowest first.</summary>
    public static IReadOnlyList<SimdLevel> Supported => Enum.GetValues<SimdLevel>().Where(l => l <= Best).ToArray();

    /// <summary>The level the host kernels run now (default <see cref="Best"/>).</summary>
    public static SimdLevel Active
    {
        get => active;
        set => active = value <= Best ? value : throw new ArgumentOutOfRangeException(nameof(value), $"this processor supports up to {Best}, not {value}");
    }
}
