using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// A register of float lanes for the Winograd transforms (<see cref="WinogradHost"/>), one lane per tile: pointer loads
/// and stores, the few arithmetic forms the transforms need, and the shuffles that turn a row of tiles (m floats per
/// tile, side by side) into one register per tile column and back. One implementation per <see cref="SimdLevel"/>,
/// chosen by the caller as a generic argument.
/// </summary>
internal unsafe interface IWinogradVector<TSelf> where TSelf : struct, IWinogradVector<TSelf>
{
    static abstract int Count { get; }

    static abstract TSelf Load(float* source);

    static abstract void Store(TSelf value, float* destination);

    static abstract TSelf Broadcast(float value);

    static abstract TSelf operator +(TSelf a, TSelf b);

    static abstract TSelf operator -(TSelf a, TSelf b);

    /// <summary>a·b + c, one rounding.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>From the 2·Count floats (<paramref name="low"/>, <paramref name="high"/>): even[l] = float 2l, odd[l] = float 2l + 1.</summary>
    static abstract void Deinterleave(TSelf low, TSelf high, out TSelf even, out TSelf odd);

    /// <summary>The inverse of <see cref="Deinterleave"/>: low and high hold even[0], odd[0], even[1], odd[1], …</summary>
    static abstract void Interleave(TSelf even, TSelf odd, out TSelf low, out TSelf high);

    /// <summary>All bits set in lanes [first, end), clear elsewhere: a mask for <see cref="Select"/>.</summary>
    static abstract TSelf LaneMask(int first, int end);

    /// <summary>value's lanes where <paramref name="mask"/> (from <see cref="LaneMask"/>) is set, merge's elsewhere.</summary>
    static abstract TSelf Select(TSelf mask, TSelf value, TSelf merge);

    /// <summary>Lane l in [first, end) is source[l], every other lane merge's; memory outside those lanes is never touched.</summary>
    static abstract TSelf LoadLanes(float* source, int first, int end, TSelf merge);

    /// <summary>destination[l] = value's lane l for l in [first, end); memory outside those lanes is never touched.</summary>
    static abstract void StoreLanes(TSelf value, float* destination, int first, int end);
}

/// <summary>16 lanes (AVX-512F): each shuffle is one two-source permute.</summary>
internal readonly unsafe struct WinogradVector512 : IWinogradVector<WinogradVector512>
{
    readonly Vector512<float> v;

    WinogradVector512(Vector512<float> v) => this.v = v;

    public static int Count => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector512 Load(float* source) => new(Vector512.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(WinogradVector512 value, float* destination) => value.v.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector512 Broadcast(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector512 operator +(WinogradVector512 a, WinogradVector512 b) => new(a.v + b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector512 operator -(WinogradVector512 a, WinogradVector512 b) => new(a.v - b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector512 MultiplyAdd(WinogradVector512 a, WinogradVector512 b, WinogradVector512 c) => new(Avx512F.FusedMultiplyAdd(a.v, b.v, c.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(WinogradVector512 low, WinogradVector512 high, out WinogradVector512 even, out WinogradVector512 odd)
    {
        even = new(Avx512F.PermuteVar16x32x2(low.v, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), high.v));
        odd = new(Avx512F.PermuteVar16x32x2(low.v, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), high.v));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(WinogradVector512 even, WinogradVector512 odd, out WinogradVector512 low, out WinogradVector512 high)
    {
        low = new(Avx512F.PermuteVar16x32x2(even.v, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), odd.v));
        high = new(Avx512F.PermuteVar16x32x2(even.v, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), odd.v));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector512 LaneMask(int first, int end) => new(Lanes(first, end));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector512 Select(WinogradVector512 mask, WinogradVector512 value, WinogradVector512 merge) => new(Vector512.ConditionalSelect(mask.v, value.v, merge.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector512 LoadLanes(float* source, int first, int end, WinogradVector512 merge) =>
        new(Avx512F.MaskLoad(source, Lanes(first, end), merge.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreLanes(WinogradVector512 value, float* destination, int first, int end) => Avx512F.MaskStore(destination, Lanes(first, end), value.v);

    // Masked-off lanes of vmovups neither load nor fault.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Lanes(int first, int end) =>
        (Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(first)) & Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(end))).AsSingle();
}

/// <summary>8 lanes (AVX2 with FMA): in-lane shuffles, then a 64-bit permute across the two 128-bit halves.</summary>
internal readonly unsafe struct WinogradVector256 : IWinogradVector<WinogradVector256>
{
    readonly Vector256<float> v;

    WinogradVector256(Vector256<float> v) => this.v = v;

    public static int Count => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector256 Load(float* source) => new(Vector256.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(WinogradVector256 value, float* destination) => value.v.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector256 Broadcast(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector256 operator +(WinogradVector256 a, WinogradVector256 b) => new(a.v + b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector256 operator -(WinogradVector256 a, WinogradVector256 b) => new(a.v - b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector256 MultiplyAdd(WinogradVector256 a, WinogradVector256 b, WinogradVector256 c) => new(Fma.MultiplyAdd(a.v, b.v, c.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(WinogradVector256 low, WinogradVector256 high, out WinogradVector256 even, out WinogradVector256 odd)
    {
        // shufps picks (l0 l2 h0 h2 | l4 l6 h4 h6); swapping the middle 64-bit pairs puts them in order.
        even = new(Avx2.Permute4x64(Avx.Shuffle(low.v, high.v, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle());
        odd = new(Avx2.Permute4x64(Avx.Shuffle(low.v, high.v, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(WinogradVector256 even, WinogradVector256 odd, out WinogradVector256 low, out WinogradVector256 high)
    {
        // unpck gives (e0 o0 e1 o1 | e4 o4 e5 o5) and (e2 o2 e3 o3 | e6 o6 e7 o7); the 128-bit halves then regroup.
        var first = Avx.UnpackLow(even.v, odd.v);
        var second = Avx.UnpackHigh(even.v, odd.v);
        low = new(Avx.Permute2x128(first, second, 0x20));
        high = new(Avx.Permute2x128(first, second, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector256 LaneMask(int first, int end) => new(Lanes(first, end));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector256 Select(WinogradVector256 mask, WinogradVector256 value, WinogradVector256 merge) => new(Vector256.ConditionalSelect(mask.v, value.v, merge.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WinogradVector256 LoadLanes(float* source, int first, int end, WinogradVector256 merge)
    {
        var lanes = Lanes(first, end);
        return new(Avx.BlendVariable(merge.v, Avx.MaskLoad(source, lanes), lanes));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreLanes(WinogradVector256 value, float* destination, int first, int end) => Avx.MaskStore(destination, Lanes(first, end), value.v);

    // vmaskmovps neither loads nor faults on masked-off lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Lanes(int first, int end) =>
        (Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(first)) & Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(end))).AsSingle();
}

/// <summary>One lane: the transforms as plain scalar code, for processors without AVX2.</summary>
internal readonly unsafe struct WinogradScalar : IWinogradVector<WinogradScalar>
{
    readonly float v;

    WinogradScalar(float v) => this.v = v;

    public static int Count => 1;

    public static WinogradScalar Load(float* source) => new(*source);

    public static void Store(WinogradScalar value, float* destination) => *destination = value.v;

    public static WinogradScalar Broadcast(float value) => new(value);

    public static WinogradScalar operator +(WinogradScalar a, WinogradScalar b) => new(a.v + b.v);

    public static WinogradScalar operator -(WinogradScalar a, WinogradScalar b) => new(a.v - b.v);

    public static WinogradScalar MultiplyAdd(WinogradScalar a, WinogradScalar b, WinogradScalar c) => new(MathF.FusedMultiplyAdd(a.v, b.v, c.v));

    public static void Deinterleave(WinogradScalar low, WinogradScalar high, out WinogradScalar even, out WinogradScalar odd) => (even, odd) = (low, high);

    public static void Interleave(WinogradScalar even, WinogradScalar odd, out WinogradScalar low, out WinogradScalar high) => (low, high) = (even, odd);

    public static WinogradScalar LaneMask(int first, int end) => new(BitConverter.Int32BitsToSingle(first <= 0 && end > 0 ? -1 : 0));

    public static WinogradScalar Select(WinogradScalar mask, WinogradScalar value, WinogradScalar merge) => BitConverter.SingleToInt32Bits(mask.v) != 0 ? value : merge;

    public static WinogradScalar LoadLanes(float* source, int first, int end, WinogradScalar merge) => first <= 0 && end > 0 ? new(*source) : merge;

    public static void StoreLanes(WinogradScalar value, float* destination, int first, int end)
    {
        if (first <= 0 && end > 0) *destination = value.v;
    }
}
