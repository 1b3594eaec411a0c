namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// A GEMM operand as the tiled kernel reads it: one thread walks one line of it along the reduction axis K, with the
/// other index i fixed (i is the row of A or the column of B). <see cref="Seek"/> runs once per thread and may divide;
/// <see cref="Advance"/> runs inside the K loop and only adds and compares, so im2col-style index decoding costs
/// nothing per step. Implementations are mutable cursor structs: <c>Seek</c> returns a copy positioned at (i, k).
/// </summary>
internal interface IKStream<TSelf> where TSelf : struct, IKStream<TSelf>
{
    /// <summary>A cursor at element (i, k); 0 ≤ i &lt; the operand's non-K extent, 0 ≤ k.</summary>
    TSelf Seek(int i, int k);

    /// <summary>The element at the cursor (zero where it lies in padding); read only while k &lt; K.</summary>
    float Value { get; }

    /// <summary>Moves the cursor <paramref name="steps"/> along K (steps ≥ 0, small).</summary>
    void Advance(int steps);
}

/// <summary>A of a GEMM from any <see cref="IGemmOperand"/>: element (i, k) = Inner.Load(i, k). Its index arithmetic is the operand's.</summary>
internal struct RowStream<T> : IKStream<RowStream<T>> where T : struct, IGemmOperand
{
    readonly T inner;
    int row, k;

    public RowStream(T inner)
    {
        this.inner = inner;
        row = k = 0;
    }

    RowStream(T inner, int row, int k)
    {
        this.inner = inner;
        this.row = row;
        this.k = k;
    }

    public readonly RowStream<T> Seek(int i, int k) => new(inner, i, k);

    public readonly float Value => inner.Load(row, k);

    public void Advance(int steps) => k += steps;
}

/// <summary>B of a GEMM from any <see cref="IGemmOperand"/>: element (i, k) = Inner.Load(k, i).</summary>
internal struct ColumnStream<T> : IKStream<ColumnStream<T>> where T : struct, IGemmOperand
{
    readonly T inner;
    int column, k;

    public ColumnStream(T inner)
    {
        this.inner = inner;
        column = k = 0;
    }

    ColumnStream(T inner, int column, int k)
    {
        this.inner = inner;
        this.column = column;
        this.k = k;
    }

    public readonly ColumnStream<T> Seek(int i, int k) => new(inner, i, k);

    public readonly float Value => inner.Load(k, column);

    public void Advance(int steps) => k += steps;
}

/// <summary>Carries for mixed-radix counters that the streams step without dividing.</summary>
static class Carry
{
    /// <summary>Brings <paramref name="digit"/> back into [0, radix), moving the overflow into <paramref name="next"/>.</summary>
    public static void Wrap(ref int digit, ref int next, int radix)
    {
        while (digit >= radix)
        {
            digit -= radix;
            next++;
        }
    }
}
