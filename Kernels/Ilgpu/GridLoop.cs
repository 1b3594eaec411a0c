using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// Indices for grid-stride loops inside 1-D kernels: start at the global thread index, step by the grid's thread
/// count. Read <see cref="Stride"/> and the loop bound once, into locals: on ILGPU's CPU accelerator each read of a
/// grid or group dimension costs ~0.3 µs, which in a loop condition made element-wise kernels 30-50x slower.
/// </summary>
internal static class GridLoop
{
    public static int Start => Grid.GlobalIndex.X;

    public static int Stride => Grid.DimX * Group.DimX;
}

/// <summary>
/// A grid-stride walk over a flat index seen as mixed-radix digits, <see cref="D0"/> fastest: index =
/// ((D3·R2 + D2)·R1 + D1)·R0 + D0 (an NCHW element is (w or hw, h or c, c or n, n)). The start and the grid stride are
/// split into digits once (a division per digit); <see cref="Advance"/> then adds digit by digit with carries, so the
/// loop divides nothing however the index is decomposed. Unused radices are int.MaxValue.
/// </summary>
internal struct Odometer
{
    public int D0, D1, D2, D3;
    readonly int r0, r1, r2, s0, s1, s2, s3;

    /// <summary>The calling thread's walk: digits of <see cref="GridLoop.Start"/>, steps of <see cref="GridLoop.Stride"/>.</summary>
    public static Odometer OfThread(int r0, int r1 = int.MaxValue, int r2 = int.MaxValue) => new(GridLoop.Start, GridLoop.Stride, r0, r1, r2);

    public Odometer(int start, int step, int r0, int r1 = int.MaxValue, int r2 = int.MaxValue)
    {
        (this.r0, this.r1, this.r2) = (r0, r1, r2);
        (D0, D1, D2, D3) = Split(start, r0, r1, r2);
        (s0, s1, s2, s3) = Split(step, r0, r1, r2);
    }

    static (int, int, int, int) Split(int value, int r0, int r1, int r2)
    {
        int q0 = value / r0, q1 = q0 / r1, q2 = q1 / r2;
        return (value - q0 * r0, q0 - q1 * r1, q1 - q2 * r2, q2);
    }

    /// <summary>Moves to the index one grid stride further.</summary>
    public void Advance()
    {
        D0 += s0;
        int carry = D0 >= r0 ? 1 : 0;
        D0 -= carry * r0;
        D1 += s1 + carry;
        carry = D1 >= r1 ? 1 : 0;
        D1 -= carry * r1;
        D2 += s2 + carry;
        carry = D2 >= r2 ? 1 : 0;
        D2 -= carry * r2;
        D3 += s3 + carry;
    }
}
