namespace RevNetIlgpu.Kernels.Host;

/// <summary>A loop body over lanes: handles elements [i, i + T.Count). Usually a ref struct holding the spans it reads and writes.</summary>
internal interface ILaneBody
{
    void Apply<T>(int i) where T : struct, IFloatLanes<T>;
}

/// <summary>A summand over lanes: the terms of elements [i, i + T.Count).</summary>
internal interface ILaneTerm
{
    T At<T>(int i) where T : struct, IFloatLanes<T>;
}

/// <summary>Two summands over lanes at once: for passes that would otherwise read the same inputs twice.</summary>
internal interface ILaneTermPair
{
    void At<T>(int i, out T first, out T second) where T : struct, IFloatLanes<T>;
}

/// <summary>
/// The two loops every host kernel is built from, each written once: the width of <see cref="HostSimd.Active"/>
/// (Vector512, Vector256 or scalar) steps through the bulk and <see cref="Lane1"/> finishes the tail with the same body.
/// Both run on the calling thread; kernels parallelise over whole rows, planes or blocks around them.
/// </summary>
internal static class Lanes
{
    /// <summary>body.Apply for every element of [0, count).</summary>
    public static void ForEach<TBody>(int count, ref TBody body) where TBody : ILaneBody, allows ref struct
    {
        switch (HostSimd.Active)
        {
            case SimdLevel.Vector512: ForEach<TBody, Lanes512>(count, ref body); break;
            case SimdLevel.Vector256: ForEach<TBody, Lanes256>(count, ref body); break;
            default: ForEach<TBody, Lane1>(count, ref body); break;
        }
    }

    /// <summary>
    /// Σ term over [0, count) in a fixed order: lane-wise partial sums over the bulk, their lanes summed, then the tail in
    /// index order. The order depends only on count and the vector width, never on threads, so the bits repeat.
    /// </summary>
    public static float Sum<TTerm>(int count, ref TTerm term) where TTerm : ILaneTerm, allows ref struct
    {
        return HostSimd.Active switch
        {
            SimdLevel.Vector512 => Sum<TTerm, Lanes512>(count, ref term),
            SimdLevel.Vector256 => Sum<TTerm, Lanes256>(count, ref term),
            _ => Sum<TTerm, Lane1>(count, ref term),
        };
    }

    /// <summary>
    /// (Σ first, Σ second) over [0, count) in one pass, each in exactly the order of <see cref="Sum{TTerm}"/>, so each
    /// is bit for bit the sum two separate passes would give.
    /// </summary>
    public static (float First, float Second) SumPair<TTerms>(int count, ref TTerms terms) where TTerms : ILaneTermPair, allows ref struct
    {
        return HostSimd.Active switch
        {
            SimdLevel.Vector512 => SumPair<TTerms, Lanes512>(count, ref terms),
            SimdLevel.Vector256 => SumPair<TTerms, Lanes256>(count, ref terms),
            _ => SumPair<TTerms, Lane1>(count, ref terms),
        };
    }

    /// <summary>Σ x in the fixed order of <see cref="Sum{TTerm}"/>.</summary>
    public static float Sum(ReadOnlySpan<float> x)
    {
        var term = new ValuesTerm(x);
        return Sum(x.Length, ref term);
    }

    /// <summary>Σ a·b in the fixed order of <see cref="Sum{TTerm}"/> (products rounded before they are added).</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"dot: lengths differ ({a.Length}, {b.Length})");
        var term = new ProductTerm(a, b);
        return Sum(a.Length, ref term);
    }

    static void ForEach<TBody, T>(int count, ref TBody body) where TBody : ILaneBody, allows ref struct where T : struct, IFloatLanes<T>
    {
        int i = 0;
        for (; i <= count - T.Count; i += T.Count) body.Apply<T>(i);
        for (; i < count; i++) body.Apply<Lane1>(i);
    }

    static float Sum<TTerm, T>(int count, ref TTerm term) where TTerm : ILaneTerm, allows ref struct where T : struct, IFloatLanes<T>
    {
        var partial = T.Zero;
        int i = 0;
        for (; i <= count - T.Count; i += T.Count) partial += term.At<T>(i);
        float sum = T.Sum(partial);
        for (; i < count; i++) sum += Lane1.Sum(term.At<Lane1>(i));
        return sum;
    }

    static (float, float) SumPair<TTerms, T>(int count, ref TTerms terms) where TTerms : ILaneTermPair, allows ref struct where T : struct, IFloatLanes<T>
    {
        T partialFirst = T.Zero, partialSecond = T.Zero;
        int i = 0;
        for (; i <= count - T.Count; i += T.Count)
        {
            terms.At<T>(i, out var first, out var second);
            partialFirst += first;
            partialSecond += second;
        }
        float sumFirst = T.Sum(partialFirst), sumSecond = T.Sum(partialSecond);
        for (; i < count; i++)
        {
            terms.At<Lane1>(i, out var first, out var second);
            sumFirst += Lane1.Sum(first);
            sumSecond += Lane1.Sum(second);
        }
        return (sumFirst, sumSecond);
    }
}

ref struct ValuesTerm(ReadOnlySpan<float> x) : ILaneTerm
{
    readonly ReadOnlySpan<float> x = x;

    public T At<T>(int i) where T : struct, IFloatLanes<T> => T.Load(x, i);
}

ref struct ProductTerm(ReadOnlySpan<float> a, ReadOnlySpan<float> b) : ILaneTerm
{
    readonly ReadOnlySpan<float> a = a, b = b;

    public T At<T>(int i) where T : struct, IFloatLanes<T> => T.Load(a, i) * T.Load(b, i);
}
