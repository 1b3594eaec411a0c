using ILGPU;
using ILGPU.Algorithms;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// A per-element function of one value, written once in both forms side by side (as .NET's TensorPrimitives operators
/// are): <c>Invoke(float)</c> is what the ILGPU kernels run per thread, <c>Invoke&lt;T&gt;</c> what the host kernels run
/// over SIMD lanes. Both forms do the same operations in the same order with no fused multiply-add (ILGPU has none), so
/// `cpu` and `ilgpu-cpu` give the same bits; a test holds every op to that. Fields are launch-time constants; the
/// types are public because ILGPU marshals kernel arguments by reflection.
/// </summary>
public interface IUnaryOp
{
    /// <summary>The function of one element: the ILGPU form.</summary>
    float Invoke(float x);

    /// <summary>The same function of every lane: the host SIMD form.</summary>
    T Invoke<T>(T x) where T : struct, IFloatLanes<T>;
}

/// <summary>A per-element function of two values, in both forms (see <see cref="IUnaryOp"/>).</summary>
public interface IBinaryOp
{
    /// <summary>The function of one pair of elements: the ILGPU form.</summary>
    float Invoke(float a, float b);

    /// <summary>The same function lane by lane: the host SIMD form.</summary>
    T Invoke<T>(T a, T b) where T : struct, IFloatLanes<T>;
}

/// <summary>a + b.</summary>
public struct AddOp : IBinaryOp
{
    /// <inheritdoc/>
    public readonly float Invoke(float a, float b) => a + b;

    /// <inheritdoc/>
    public readonly T Invoke<T>(T a, T b) where T : struct, IFloatLanes<T> => a + b;
}

/// <summary>a − b.</summary>
public struct SubtractOp : IBinaryOp
{
    /// <inheritdoc/>
    public readonly float Invoke(float a, float b) => a - b;

    /// <inheritdoc/>
    public readonly T Invoke<T>(T a, T b) where T : struct, IFloatLanes<T> => a - b;
}

/// <summary>a · b.</summary>
public struct MultiplyOp : IBinaryOp
{
    /// <inheritdoc/>
    public readonly float Invoke(float a, float b) => a * b;

    /// <inheritdoc/>
    public readonly T Invoke<T>(T a, T b) where T : struct, IFloatLanes<T> => a * b;
}

/// <summary>b + Alpha·a, the product rounded before the sum: with b the output, y += alpha·x.</summary>
public struct AxpyOp(float alpha) : IBinaryOp
{
    /// <summary>The factor on a (on x in y += alpha·x).</summary>
    public float Alpha = alpha;

    /// <inheritdoc/>
    public readonly float Invoke(float a, float b) => b + Alpha * a;

    /// <inheritdoc/>
    public readonly T Invoke<T>(T a, T b) where T : struct, IFloatLanes<T> => b + T.Broadcast(Alpha) * a;
}

/// <summary>Alpha · x.</summary>
public struct ScaleOp(float alpha) : IUnaryOp
{
    /// <summary>The factor applied to each element.</summary>
    public float Alpha = alpha;

    /// <inheritdoc/>
    public readonly float Invoke(float x) => Alpha * x;

    /// <inheritdoc/>
    public readonly T Invoke<T>(T x) where T : struct, IFloatLanes<T> => T.Broadcast(Alpha) * x;
}

/// <summary>x unchanged.</summary>
public struct CopyOp : IUnaryOp
{
    /// <inheritdoc/>
    public readonly float Invoke(float x) => x;

    /// <inheritdoc/>
    public readonly T Invoke<T>(T x) where T : struct, IFloatLanes<T> => x;
}

/// <see cref="Value"/>, whatever x is.
public struct FillOp(float value) : IUnaryOp
{
    /// <summary>The value every element gets.</summary>
    public float Value = value;

    /// <inheritdoc/>
    public readonly float Invoke(float x) => Value;

    /// <inheritdoc/>
    public readonly T Invoke<T>(T x) where T : struct, IFloatLanes<T> => T.Broadcast(Value);
}

/// <summary>max(x, 0); NaN stays NaN.</summary>
public struct ReluOp : IUnaryOp
{
    /// <inheritdoc/>
    public readonly float Invoke(float x) => IntrinsicMath.Max(x, 0f);

    /// <inheritdoc/>
    public readonly T Invoke<T>(T x) where T : struct, IFloatLanes<T> => T.Max(x, T.Zero);
}

/// <summary>ReLU's backward: b (the output gradient) where a (the input or the output) &gt; 0, else 0.</summary>
public struct ReluBackwardOp : IBinaryOp
{
    /// <inheritdoc/>
    public readonly float Invoke(float a, float b) => a > 0f ? b : 0f;

    /// <inheritdoc/>
    public readonly T Invoke<T>(T a, T b) where T : struct, IFloatLanes<T> => T.WherePositive(a, b);
}

/// <summary>
/// exp(x) by Cephes' expf (Moshier): x = n·ln 2 + r with n = ⌊x·log₂e + ½⌋ and r taken off in two parts (Cody-Waite),
/// a degree-7 polynomial in r, then ·2ⁿ built from n's bits: within 2 ulp of the true exp. Written out so that both forms
/// compute the same bits (the libraries' exp differ between the ILGPU and the host backends). Below −87.336 (where 2ⁿ
/// would be subnormal) it gives 0, above 88.37 (near where n would reach 128) +∞; NaN stays NaN.
/// </summary>
public struct ExpOp : IUnaryOp
{
    const float Log2E = 1.44269504088896341f, Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;
    const float Lowest = -87.33654f, Highest = 88.37f;
    const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <inheritdoc/>
    public readonly float Invoke(float x)
    {
        float n = XMath.Floor(x * Log2E + 0.5f);
        float r = x - n * Ln2High;
        r = r - n * Ln2Low;
        float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
        p = p * (r * r) + r + 1f;
        float inRange = x > Highest ? float.PositiveInfinity : p * Interop.IntAsFloat((uint)((int)n + 127) << 23);
        return x < Lowest ? 0f : inRange;
    }

    /// <inheritdoc/>
    public readonly T Invoke<T>(T x) where T : struct, IFloatLanes<T>
    {
        // Lanes out of range still run the polynomial (on a clamped x, so 2ⁿ stays a normal number), then are replaced.
        var clamped = T.WhereLess(x, T.Broadcast(Lowest), T.Broadcast(Lowest), T.WhereLess(T.Broadcast(Highest), x, T.Broadcast(Highest), x));
        var n = T.Floor(clamped * T.Broadcast(Log2E) + T.Broadcast(0.5f));
        var r = clamped - n * T.Broadcast(Ln2High);
        r = r - n * T.Broadcast(Ln2Low);
        var p = ((((T.Broadcast(P0) * r + T.Broadcast(P1)) * r + T.Broadcast(P2)) * r + T.Broadcast(P3)) * r + T.Broadcast(P4)) * r + T.Broadcast(P5);
        p = p * (r * r) + r + T.Broadcast(1f);
        var inRange = T.WhereLess(T.Broadcast(Highest), x, T.Broadcast(float.PositiveInfinity), p * T.Pow2(n));
        return T.WhereLess(x, T.Broadcast(Lowest), T.Zero, inRange);
    }
}

/// <summary>
/// The logistic function 1 / (1 + exp(−x)) with <see cref="ExpOp"/>'s exp and one IEEE division, so both forms give the same
/// bits: the bounded scale of affine couplings (memcnn's AffineAdapterSigmoid, Glow). Saturates to 0 and 1; NaN stays NaN.
/// </summary>
public struct SigmoidOp : IUnaryOp
{
    /// <inheritdoc/>
    public readonly float Invoke(float x) => 1f / (1f + new ExpOp().Invoke(0f - x));

    /// <inheritdoc/>
    public readonly T Invoke<T>(T x) where T : struct, IFloatLanes<T> => T.Broadcast(1f) / (T.Broadcast(1f) + new ExpOp().Invoke(T.Zero - x));
}
