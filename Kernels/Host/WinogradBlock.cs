using System.Runtime.CompilerServices;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// One block of a <see cref="WinogradTiling"/> laid out for the transforms (its pieces per register, their lane masks,
/// where each register is read or written in place) and the three transforms of a block, each one lane per tile:
/// <list type="bullet">
/// <item><see cref="InputTransform{TVector, TTile}"/>: V = Bᵀ d B of every input tile and channel;</item>
/// <item><see cref="GradientTransform{TVector, TTile}"/>: A g Aᵀ of every output-gradient tile and channel (grad-weight);</item>
/// <item><see cref="OutputTransform{TVector, TTile}"/>: Aᵀ M A + bias of one output channel's products, into the output.</item>
/// </list>
/// Everything lives in a caller-provided workspace of <see cref="WorkspaceFloats"/> floats.
/// </summary>
unsafe readonly struct WinogradBlock
{
    readonly WinogradTiling tiling;
    readonly TilePiece* pieces;
    readonly int* firstPiece;
    readonly float* masks;           // [piece][Count]: all bits set in the piece's lanes
    readonly float** starts, shifted; // per register: where a row transform reads the tile starts, and M floats on
    readonly long* inPlace;          // per register: its offset in the input canvas when one run fills it, else −1
    readonly long* gradientInPlace;  // per register: its offset in the gradient canvas when one run fills every lane, else −1
    readonly long* direct;           // per register: its offset in the output when one run fills every lane, else −1
    readonly float** destinations;   // per register: where the output row transform writes
    readonly float* assembled;       // [2][Registers][Count]: registers made of several pieces
    readonly float* outputRow;       // [Registers][Count]: output registers scattered piece by piece
    readonly float* zero;            // [Count]: a register past the block's last tile
    readonly float* rows;            // [α][α][Width]: a transform applied along the rows
    readonly float* columns;         // [M][α][Width]: Aᵀ applied along the columns
    readonly bool* everyInPlace;     // [3]: every register read in place from the input canvas, from the gradient canvas, written in place to the output
    readonly long floats;            // of workspace, all of the above

    WinogradBlock(WinogradTiling tiling, float* workspace, int alpha)
    {
        this.tiling = tiling;
        int registers = tiling.Registers, count = tiling.Count, width = tiling.Width;
        float* at = workspace;
        pieces = (TilePiece*)Carve(ref at, (long)tiling.MostPieces * sizeof(TilePiece) / sizeof(float) + 1);
        firstPiece = (int*)Carve(ref at, registers + 1);
        masks = Carve(ref at, (long)tiling.MostPieces * count);
        starts = (float**)Carve(ref at, 2 * registers);
        shifted = (float**)Carve(ref at, 2 * registers);
        destinations = (float**)Carve(ref at, 2 * registers);
        inPlace = (long*)Carve(ref at, 2 * registers);
        gradientInPlace = (long*)Carve(ref at, 2 * registers);
        direct = (long*)Carve(ref at, 2 * registers);
        assembled = Carve(ref at, 2L * registers * count);
        outputRow = Carve(ref at, (long)registers * count);
        zero = Carve(ref at, count);
        rows = Carve(ref at, (long)alpha * alpha * width);
        columns = Carve(ref at, (long)alpha * alpha * width);
        everyInPlace = (bool*)Carve(ref at, 1);
        floats = at - workspace;
    }

    /// <summary>Floats of workspace a block of <paramref name="tiling"/> needs (α = <paramref name="alpha"/>).</summary>
    public static long WorkspaceFloats(WinogradTiling tiling, int alpha) => new WinogradBlock(tiling, null, alpha).floats;

    /// <summary>Block <paramref name="block"/> of <paramref name="tiling"/>, laid out in <paramref name="workspace"/>.</summary>
    public static WinogradBlock Create<TVector>(WinogradTiling tiling, int block, float* workspace, int alpha) where TVector : struct, IWinogradVector<TVector>
    {
        var b = new WinogradBlock(tiling, workspace, alpha);
        tiling.PiecesOf(block, b.pieces, b.firstPiece);
        int count = tiling.Count;
        for (int i = 0; i < b.firstPiece[tiling.Registers]; i++) TVector.Store(TVector.LaneMask(b.pieces[i].Lanes.First, b.pieces[i].Lanes.End), b.masks + i * count);
        TVector.Store(default, b.zero);
        (b.everyInPlace[0], b.everyInPlace[1], b.everyInPlace[2]) = (true, true, true);
        for (int j = 0; j < tiling.Registers; j++)
        {
            int first = b.firstPiece[j], piecesOfRegister = b.firstPiece[j + 1] - first;
            bool whole = piecesOfRegister == 1 && b.pieces[first].Lanes.IsWhole(count);
            // Input registers of one run are read in place even when lanes past the block's last tile come with them
            // (their values are discarded); those past the last tile read the canvas's start, finite and discarded too.
            b.inPlace[j] = piecesOfRegister == 1 ? b.pieces[first].Canvas : piecesOfRegister == 0 ? 0 : -1;
            b.gradientInPlace[j] = whole ? b.pieces[first].Gradient : -1;
            b.direct[j] = whole && b.pieces[first].Out.IsWhole(count) ? b.pieces[first].Output : -1;
            b.starts[j] = b.assembled + j * count;
            b.shifted[j] = b.assembled + (tiling.Registers + j) * count;
            // The output rows of the tile row must exist too for the output to be written in place.
            b.everyInPlace[0] &= b.inPlace[j] >= 0;
            b.everyInPlace[1] &= b.gradientInPlace[j] >= 0;
            b.everyInPlace[2] &= b.direct[j] >= 0 && b.pieces[first].OutputRow + tiling.M <= tiling.Problem.OutH;
        }
        return b;
    }

    /// <summary>
    /// destination[e·plane + c·rowStride + l] = V_e of lane l's tile at input channel c (e &lt; α², c &lt; InChannels,
    /// l &lt; Width) from the input canvas. Lanes past the block's last tile hold finite values of no tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void InputTransform<TVector, TTile>(float* canvas, float* destination, int plane, int rowStride)
        where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        int m = TTile.M, alpha = TTile.Alpha, count = TVector.Count, width = tiling.Width, vectors = width / count, registers = tiling.Registers;
        bool fixedRegisters = everyInPlace[0];
        if (fixedRegisters)
            for (int j = 0; j < registers; j++)
            {
                starts[j] = canvas + inPlace[j];
                shifted[j] = starts[j] + m;
            }
        for (int c = 0; c < tiling.Problem.InChannels; c++)
        {
            for (int r = 0; r < alpha; r++)
            {
                long row = c * tiling.CanvasPlane + r * tiling.CanvasW;
                if (fixedRegisters)
                {
                    // Every register in place: the same pointers, moved to this row.
                    for (int v = 0; v < vectors; v++)
                        TTile.InputRow<TVector>(starts + m * v, shifted + m * v, (nint)row, rows + r * alpha * width + v * count, width);
                    continue;
                }
                for (int j = 0; j < registers; j++)
                {
                    if (inPlace[j] >= 0)
                    {
                        starts[j] = canvas + inPlace[j] + row;
                        shifted[j] = starts[j] + m;
                        continue;
                    }
                    TVector start = default, next = default;
                    for (int i = firstPiece[j]; i < firstPiece[j + 1]; i++)
                    {
                        float* at = canvas + pieces[i].Canvas + row;
                        var mask = TVector.Load(masks + i * count);
                        start = TVector.Select(mask, TVector.Load(at), start);
                        next = TVector.Select(mask, TVector.Load(at + m), next);
                    }
                    TVector.Store(start, starts[j]);
                    TVector.Store(next, shifted[j]);
                }
                for (int v = 0; v < vectors; v++)
                    TTile.InputRow<TVector>(starts + m * v, shifted + m * v, 0, rows + r * alpha * width + v * count, width);
            }
            for (int v = 0; v < vectors; v++)
                for (int k = 0; k < alpha; k++)
                    TTile.InputColumn<TVector>(rows + k * width + v * count, alpha * width, destination + k * plane + c * rowStride + v * count, alpha * plane);
        }
    }

    /// <summary>
    /// destination[e·plane + k·rowStride + l] = (A g Aᵀ)_e of lane l's output-gradient tile at output channel k, from the
    /// gradient canvas; zero in lanes past the block's last tile, so that they add nothing to a sum over tiles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void GradientTransform<TVector, TTile>(float* gradient, float* destination, int plane, int rowStride)
        where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        int m = TTile.M, alpha = TTile.Alpha, count = TVector.Count, width = tiling.Width, vectors = width / count, registers = tiling.Registers;
        bool fixedRegisters = everyInPlace[1];
        if (fixedRegisters)
            for (int j = 0; j < registers; j++) starts[j] = gradient + gradientInPlace[j];
        for (int k = 0; k < tiling.Problem.OutChannels; k++)
        {
            for (int a = 0; a < m; a++)
            {
                long row = k * tiling.GradientPlane + a * tiling.GradientW;
                if (fixedRegisters)
                {
                    for (int v = 0; v < vectors; v++)
                        TTile.GradientRow<TVector>(starts + m * v, (nint)row, rows + a * alpha * width + v * count, width);
                    continue;
                }
                for (int j = 0; j < registers; j++)
                {
                    if (gradientInPlace[j] >= 0)
                    {
                        starts[j] = gradient + gradientInPlace[j] + row;
                        continue;
                    }
                    if (firstPiece[j] == firstPiece[j + 1])
                    {
                        starts[j] = zero;
                        continue;
                    }
                    TVector value = default;
                    for (int i = firstPiece[j]; i < firstPiece[j + 1]; i++)
                        value = TVector.Select(TVector.Load(masks + i * count), TVector.Load(gradient + pieces[i].Gradient + row), value);
                    starts[j] = assembled + j * count;
                    TVector.Store(value, starts[j]);
                }
                for (int v = 0; v < vectors; v++)
                    TTile.GradientRow<TVector>(starts + m * v, 0, rows + a * alpha * width + v * count, width);
            }
            for (int v = 0; v < vectors; v++)
                for (int i = 0; i < alpha; i++)
                    TTile.GradientColumn<TVector>(rows + i * width + v * count, alpha * width, destination + i * plane + k * rowStride + v * count, alpha * plane);
        }
    }

    /// <summary>
    /// Output channel <paramref name="k"/> of the block's tiles, Aᵀ M A + <paramref name="bias"/>, into the output (only
    /// the outputs that exist), from its products M_e[l] = products[e·plane + productRow·Width + l].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OutputTransform<TVector, TTile>(float* products, int plane, int productRow, float bias, float* output, int k)
        where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        var p = tiling.Problem;
        int m = TTile.M, alpha = TTile.Alpha, count = TVector.Count, width = tiling.Width, vectors = width / count, registers = tiling.Registers;
        var offset = TVector.Broadcast(bias);
        for (int v = 0; v < vectors; v++)
            for (int kk = 0; kk < alpha; kk++)
                TTile.OutputColumn<TVector>(products + kk * plane + productRow * width + v * count, alpha * plane, columns + kk * width + v * count, alpha * width);
        bool fixedRegisters = everyInPlace[2];
        if (fixedRegisters)
            for (int j = 0; j < registers; j++) destinations[j] = output + direct[j];
        for (int a = 0; a < m; a++)
        {
            long row = k * (long)p.OutH * p.OutW + a * p.OutW;
            if (fixedRegisters)
            {
                for (int v = 0; v < vectors; v++)
                    TTile.OutputRow<TVector>(columns + a * alpha * width + v * count, width, offset, destinations + m * v, (nint)row);
                continue;
            }
            for (int j = 0; j < registers; j++)
                destinations[j] = direct[j] >= 0 && pieces[firstPiece[j]].OutputRow + a < p.OutH ? output + direct[j] + row : outputRow + j * count;
            for (int v = 0; v < vectors; v++)
                TTile.OutputRow<TVector>(columns + a * alpha * width + v * count, width, offset, destinations + m * v, 0);
            for (int j = 0; j < registers; j++)
            {
                if (direct[j] >= 0) continue;
                var value = TVector.Load(outputRow + j * count);
                for (int i = firstPiece[j]; i < firstPiece[j + 1]; i++)
                {
                    ref var piece = ref pieces[i];
                    if (piece.Out.IsEmpty || piece.OutputRow + a >= p.OutH) continue;
                    TVector.StoreLanes(value, output + piece.Output + row, piece.Out.First, piece.Out.End);
                }
            }
        }
    }

    /// <summary>The next <paramref name="floats"/> floats at <paramref name="at"/>, 64-byte aligned (relative to an aligned workspace).</summary>
    static float* Carve(ref float* at, long floats)
    {
        float* start = at;
        at += (floats + 15) / 16 * 16;
        return start;
    }
}
