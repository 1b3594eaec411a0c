using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// How <see cref="GemmKernels"/> reads a logical matrix operand. Implementations are small structs that
/// map (row, col) to wherever the value lives, or compute it (zero padding, im2col), so no operand is
/// ever copied into a GEMM-friendly buffer.
/// </summary>
internal interface IGemmOperand
{
    float Load(int row, int col);
}

/// <summary>How <see cref="GemmKernels"/> writes finished output elements (overwrite, accumulate, add bias...).</summary>
internal interface IGemmOutput
{
    void Store(int row, int col, float sum);

    /// <summary>Elements (row, col .. col + 3) at once, one 16-byte store; only where <see cref="QuadColumns"/> holds and col is a multiple of 4.</summary>
    void StoreQuad(int row, int col, Quad sums);

    /// <summary>True when four consecutive columns from a multiple of 4 are one aligned 16-byte word of the output.</summary>
    bool QuadColumns { get; }
}

/// <summary>Where element (row, col) of a logical matrix sits in a flat view.</summary>
internal interface IMatrixLayout
{
    int Index(int row, int col);

    /// <summary>True when columns col .. col + 3 (col a multiple of 4) are consecutive floats starting at a multiple of 4.</summary>
    bool QuadColumns { get; }
}

/// <summary>A row-major [rows, Cols] matrix.</summary>
internal readonly record struct RowMajor(int Cols) : IMatrixLayout
{
    public int Index(int row, int col) => row * Cols + col;

    public bool QuadColumns => (Cols & 3) == 0;
}

/// <summary>
/// A [N, Channels, Spatial] tensor (NCHW with H·W flattened) seen as the matrix [Channels, N·Spatial]:
/// row = channel, col = n·Spatial + p. Conv activations and gradients are GEMM operands in this shape,
/// and so is a conv weight [K, C, KH, KW] seen as [C, K·KH·KW].
/// </summary>
internal readonly record struct ChannelRows(int Channels, int Spatial) : IMatrixLayout
{
    public int Index(int row, int col)
    {
        int n = col / Spatial;
        return (n * Channels + row) * Spatial + (col - n * Spatial);
    }

    public bool QuadColumns => (Spatial & 3) == 0;
}

/// <summary>A matrix stored in a view with the given layout.</summary>
internal readonly record struct DenseOperand<TLayout>(ArrayView<float> Data, TLayout Layout) : IGemmOperand
    where TLayout : struct, IMatrixLayout
{
    public float Load(int row, int col) => Data[Layout.Index(row, col)];
}

/// <summary>The transpose of another operand, read without moving data.</summary>
internal readonly record struct TransposedOperand<T>(T Inner) : IGemmOperand
    where T : struct, IGemmOperand
{
    public float Load(int row, int col) => Inner.Load(col, row);
}

/// <summary>Whether a GEMM output replaces what is there (activations) or adds to it (parameter gradients).</summary>
internal enum OutputMode
{
    Overwrite,
    Accumulate,
}

/// <summary>Which index of the output picks the bias element.</summary>
public enum BiasAxis
{
    /// <summary>One bias value per row of C (per output channel of a forward GEMM).</summary>
    Row,
    /// <summary>One bias value per column of C.</summary>
    Column,
}

/// <summary>
/// A matrix stored in a view with the given layout: each element becomes sum, plus the old value under
/// <see cref="OutputMode.Accumulate"/>, plus <c>Bias[row or col]</c> when <paramref name="Bias"/> is non-empty.
/// </summary>
/// <remarks>Enums, not bools: kernel parameters must be blittable and bool is not.</remarks>
internal readonly record struct DenseOutput<TLayout>(
    ArrayView<float> Data, TLayout Layout, OutputMode Mode, ArrayView<float> Bias, BiasAxis BiasAxis) : IGemmOutput
    where TLayout : struct, IMatrixLayout
{
    /// <summary>Output without bias.</summary>
    public DenseOutput(ArrayView<float> data, TLayout layout, OutputMode mode)
        : this(data, layout, mode, ArrayView<float>.Empty, BiasAxis.Row) { }

    public void Store(int row, int col, float sum)
    {
        int i = Layout.Index(row, col);
        if (Bias.Length > 0) sum += Bias[BiasAxis == BiasAxis.Row ? row : col];
        Data[i] = Mode == OutputMode.Accumulate ? Data[i] + sum : sum;
    }

    public void StoreQuad(int row, int col, Quad sums)
    {
        var quads = Data.Cast<Quad>();
        int i = Layout.Index(row, col) >> 2;
        if (Bias.Length > 0)
        {
            if (BiasAxis == BiasAxis.Row)
            {
                float b = Bias[row];
                sums = new Quad(sums.V0 + b, sums.V1 + b, sums.V2 + b, sums.V3 + b);
            }
            else sums = new Quad(sums.V0 + Bias[col], sums.V1 + Bias[col + 1], sums.V2 + Bias[col + 2], sums.V3 + Bias[col + 3]);
        }
        if (Mode == OutputMode.Accumulate)
        {
            var old = quads[i];
            sums = new Quad(old.V0 + sums.V0, old.V1 + sums.V1, old.V2 + sums.V2, old.V3 + sums.V3);
        }
        quads[i] = sums;
    }

    public bool QuadColumns => Layout.QuadColumns;
}
