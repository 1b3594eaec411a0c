using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// A register of float lanes. Host kernels write each loop body once against this interface; <see cref="Lanes"/> runs it on
/// 16 lanes (<see cref="Lanes512"/>, AVX-512), 8 lanes (<see cref="Lanes256"/>, AVX2) or one lane (<see cref="Lane1"/>, the
/// scalar tail and the scalar level), at the level <see cref="HostSimd.Active"/> selects. Loads and stores are unaligned.
/// </summary>
public interface IFloatLanes<TSelf> where TSelf : struct, IFloatLanes<TSelf>
{
    /// <summary>Floats in one register of this width.</summary>
    static abstract int Count { get; }

    /// <summary>Elements [index, index + Count) of <paramref name="source"/> (bounds-checked).</summary>
    static abstract TSelf Load(ReadOnlySpan<float> source, int index);

    /// <summary>Writes the lanes to elements [index, index + Count) of <paramref name="destination"/> (bounds-checked).</summary>
    static abstract void Store(TSelf value, Span<float> destination, int index);

    /// <summary>Every lane set to <paramref name="value"/>.</summary>
    static abstract TSelf Broadcast(float value);

    /// <summary>Every lane 0.</summary>
    static abstract TSelf Zero { get; }

    /// <summary>a + b lane by lane.</summary>
    static abstract TSelf operator +(TSelf a, TSelf b);

    /// <summary>a − b lane by lane.</summary>
    static abstract TSelf operator -(TSelf a, TSelf b);

    /// <summary>a · b lane by lane.</summary>
    static abstract TSelf operator *(TSelf a, TSelf b);

    /// <summary>a / b lane by lane, correctly rounded (IEEE division, as the ILGPU kernels' scalar division).</summary>
    static abstract TSelf operator /(TSelf a, TSelf b);

    /// <summary>a·b + c, fused (one rounding) where the processor has FMA.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>The larger lane by lane; NaN if either is NaN (like <see cref="MathF.Max(float, float)"/>).</summary>
    static abstract TSelf Max(TSelf a, TSelf b);

    /// <summary>e^x lane by lane (Cephes polynomial, as <see cref="ExpOp"/>).</summary>
    static abstract TSelf Exp(TSelf x);

    /// <summary>The largest integer not above x, lane by lane (exact).</summary>
    static abstract TSelf Floor(TSelf x);

    /// <summary>2ⁿ lane by lane for integral n in [−126, 127], built from n's bits (exact).</summary>
    static abstract TSelf Pow2(TSelf n);

    /// <summary>Lane by lane: <paramref name="ifLess"/> where a &lt; b, else <paramref name="otherwise"/> (NaN compares false).</summary>
    static abstract TSelf WhereLess(TSelf a, TSelf b, TSelf ifLess, TSelf otherwise);

    /// <summary>Lane by lane: <paramref name="value"/> where <paramref name="condition"/> &gt; 0, else 0 (NaN counts as not positive).</summary>
    static abstract TSelf WherePositive(TSelf condition, TSelf value);

    /// <summary>How many lanes hold NaN or ±Inf.</summary>
    static abstract int CountNonFinite(TSelf x);

    /// <summary>The sum of the lanes, in an order fixed for the width (same bits every run).</summary>
    static abstract float Sum(TSelf x);
}

/// <summary>16 float lanes (AVX-512).</summary>
internal readonly struct Lanes512 : IFloatLanes<Lanes512>
{
    readonly Vector512<float> v;

    Lanes512(Vector512<float> v) => this.v = v;

    public static int Count => Vector512<float>.Count;

    public static Lanes512 Zero => new(Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Load(ReadOnlySpan<float> source, int index) => new(Vector512.Create(source.Slice(index)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes512 value, Span<float> destination, int index) => value.v.CopyTo(destination.Slice(index));

    public static Lanes512 Broadcast(float value) => new(Vector512.Create(value));

    public static Lanes512 operator +(Lanes512 a, Lanes512 b) => new(a.v + b.v);

    public static Lanes512 operator -(Lanes512 a, Lanes512 b) => new(a.v - b.v);

    public static Lanes512 operator *(Lanes512 a, Lanes512 b) => new(a.v * b.v);

    public static Lanes512 operator /(Lanes512 a, Lanes512 b) => new(a.v / b.v);

    public static Lanes512 MultiplyAdd(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a.v, b.v, c.v));

    public static Lanes512 Max(Lanes512 a, Lanes512 b) => new(Vector512.Max(a.v, b.v));

    public static Lanes512 Exp(Lanes512 x) => new(Vector512.Exp(x.v));

    public static Lanes512 Floor(Lanes512 x) => new(Vector512.Floor(x.v));

    public static Lanes512 Pow2(Lanes512 n) => new(Vector512.ShiftLeft(Vector512.ConvertToInt32(n.v) + Vector512.Create(127), 23).AsSingle());

    public static Lanes512 WhereLess(Lanes512 a, Lanes512 b, Lanes512 ifLess, Lanes512 otherwise) =>
        new(Vector512.ConditionalSelect(Vector512.LessThan(a.v, b.v), ifLess.v, otherwise.v));

    public static Lanes512 WherePositive(Lanes512 condition, Lanes512 value) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThan(condition.v, Vector512<float>.Zero), value.v, Vector512<float>.Zero));

    // x - x is 0 for finite x and NaN for NaN and ±Inf.
    public static int CountNonFinite(Lanes512 x) =>
        Count - BitOperations.PopCount(Vector512.Equals(x.v - x.v, Vector512<float>.Zero).ExtractMostSignificantBits());

    public static float Sum(Lanes512 x) => Vector512.Sum(x.v);
}

/// <summary>8 float lanes (AVX2).</summary>
internal readonly struct Lanes256 : IFloatLanes<Lanes256>
{
    readonly Vector256<float> v;

    Lanes256(Vector256<float> v) => this.v = v;

    public static int Count => Vector256<float>.Count;

    public static Lanes256 Zero => new(Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Load(ReadOnlySpan<float> source, int index) => new(Vector256.Create(source.Slice(index)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes256 value, Span<float> destination, int index) => value.v.CopyTo(destination.Slice(index));

    public static Lanes256 Broadcast(float value) => new(Vector256.Create(value));

    public static Lanes256 operator +(Lanes256 a, Lanes256 b) => new(a.v + b.v);

    public static Lanes256 operator -(Lanes256 a, Lanes256 b) => new(a.v - b.v);

    public static Lanes256 operator *(Lanes256 a, Lanes256 b) => new(a.v * b.v);

    public static Lanes256 operator /(Lanes256 a, Lanes256 b) => new(a.v / b.v);

    public static Lanes256 MultiplyAdd(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a.v, b.v, c.v));

    public static Lanes256 Max(Lanes256 a, Lanes256 b) => new(Vector256.Max(a.v, b.v));

    public static Lanes256 Exp(Lanes256 x) => new(Vector256.Exp(x.v));

    public static Lanes256 Floor(Lanes256 x) => new(Vector256.Floor(x.v));

    public static Lanes256 Pow2(Lanes256 n) => new(Vector256.ShiftLeft(Vector256.ConvertToInt32(n.v) + Vector256.Create(127), 23).AsSingle());

    public static Lanes256 WhereLess(Lanes256 a, Lanes256 b, Lanes256 ifLess, Lanes256 otherwise) =>
        new(Vector256.ConditionalSelect(Vector256.LessThan(a.v, b.v), ifLess.v, otherwise.v));

    public static Lanes256 WherePositive(Lanes256 condition, Lanes256 value) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThan(condition.v, Vector256<float>.Zero), value.v, Vector256<float>.Zero));

    public static int CountNonFinite(Lanes256 x) =>
        Count - BitOperations.PopCount(Vector256.Equals(x.v - x.v, Vector256<float>.Zero).ExtractMostSignificantBits());

    public static float Sum(Lanes256 x) => Vector256.Sum(x.v);
}

/// <summary>One lane: the scalar tail of every loop, and the whole loop where no vector width is accelerated.</summary>
internal readonly struct Lane1 : IFloatLanes<Lane1>
{
    readonly float v;

    Lane1(float v) => this.v = v;

    public static int Count => 1;

    public static Lane1 Zero => new(0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Load(ReadOnlySpan<float> source, int index) => new(source[index]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lane1 value, Span<float> destination, int index) => destination[index] = value.v;

    public static Lane1 Broadcast(float value) => new(value);

    public static Lane1 operator +(Lane1 a, Lane1 b) => new(a.v + b.v);

    public static Lane1 operator -(Lane1 a, Lane1 b) => new(a.v - b.v);

    public static Lane1 operator *(Lane1 a, Lane1 b) => new(a.v * b.v);

    public static Lane1 operator /(Lane1 a, Lane1 b) => new(a.v / b.v);

    public static Lane1 MultiplyAdd(Lane1 a, Lane1 b, Lane1 c) => new(MathF.FusedMultiplyAdd(a.v, b.v, c.v));

    public static Lane1 Max(Lane1 a, Lane1 b) => new(MathF.Max(a.v, b.v));

    public static Lane1 Exp(Lane1 x) => new(MathF.Exp(x.v));

    public static Lane1 Floor(Lane1 x) => new(MathF.Floor(x.v));

    public static Lane1 Pow2(Lane1 n) => new(BitConverter.Int32BitsToSingle(((int)n.v + 127) << 23));

    public static Lane1 WhereLess(Lane1 a, Lane1 b, Lane1 ifLess, Lane1 otherwise) => a.v < b.v ? ifLess : otherwise;

    public static Lane1 WherePositive(Lane1 condition, Lane1 value) => new(condition.v > 0f ? value.v : 0f);

    public static int CountNonFinite(Lane1 x) => float.IsFinite(x.v) ? 0 : 1;

    public static float Sum(Lane1 x) => x.v;
}
