using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// How the micro-kernels (<see cref="IConvMicroKernel"/>) load a vector of im2col positions made of two half-vector
/// segments, chosen at compile time (a generic argument) from where the segments lie.
/// </summary>
internal unsafe interface ISegmentLayout
{
    /// <summary>16 lanes: 8 positions starting at <paramref name="low"/>, then 8 starting at <paramref name="high"/>.</summary>
    static abstract Vector512<float> Load512(float* low, float* high);

    /// <summary>8 lanes: 4 positions starting at <paramref name="low"/>, then 4 starting at <paramref name="high"/>.</summary>
    static abstract Vector256<float> Load256(float* low, float* high);
}

/// <summary>Positions consecutive and the high half right after the low one (output rows of a whole vector, packed panels): one load.</summary>
internal readonly unsafe struct WholeSegments : ISegmentLayout
{
    public static Vector512<float> Load512(float* low, float* high) => Vector512.Load(low);

    public static Vector256<float> Load256(float* low, float* high) => Vector256.Load(low);
}

/// <summary>Positions consecutive, halves apart (output rows of half a vector, e.g. 8x8 maps under AVX-512): two half loads.</summary>
internal readonly unsafe struct SplitSegments : ISegmentLayout
{
    public static Vector512<float> Load512(float* low, float* high) => Vector512.Create(Vector256.Load(low), Vector256.Load(high));

    public static Vector256<float> Load256(float* low, float* high) => Vector256.Create(Vector128.Load(low), Vector128.Load(high));
}

/// <summary>
/// Stride 2: a segment's positions are every other float. Each half loads twice its width and keeps the even lanes,
/// so it reads one float past its last position (the padded image keeps slack for that).
/// </summary>
internal readonly unsafe struct EvenLanes : ISegmentLayout
{
    // vpmovqd keeps the low 32 bits of each 64-bit lane: the even floats.
    public static Vector512<float> Load512(float* low, float* high) => Vector512.Create(
        Avx512F.ConvertToVector256Int32(Vector512.Load(low).AsInt64()).AsSingle(),
        Avx512F.ConvertToVector256Int32(Vector512.Load(high).AsInt64()).AsSingle());

    public static Vector256<float> Load256(float* low, float* high) => Vector256.Create(
        Avx2.PermuteVar8x32(Vector256.Load(low), EvenIndices()).GetLower(),
        Avx2.PermuteVar8x32(Vector256.Load(high), EvenIndices()).GetLower());

    // A constant the JIT embeds; a static readonly field would cost a class-initialisation check in the
    // AggressiveOptimization micro-kernels, which are compiled before the class is initialised.
    static Vector256<int> EvenIndices() => Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
}
