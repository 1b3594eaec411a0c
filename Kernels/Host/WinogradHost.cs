using System.Numerics;
using System.Runtime.CompilerServices;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// 3x3 stride-1 convolution on the CPU by Winograd's minimal filtering (Lavin and Gray 2016), F(2x2,3x3) or
/// F(4x4,3x3) (<see cref="IWinogradTile"/>): the same contract as <see cref="Conv2dHost"/>, which calls it where
/// <see cref="HostConvAlgorithm"/> says. Grad-input is the same computation: gx is gy, padded by 2 − pad, correlated
/// with the filters transposed to [C, K] and flipped.
/// <para>The output tiles of every image form one sequence, cut into blocks of TileColumns tiles (the parallel work,
/// each tile's values computed by one fixed sequence of operations, so the bits do not depend on the thread count).
/// Per block: the input transform writes the transformed tiles straight into the GEMM's packed operand V [α², C, tiles]
/// (one lane per tile: each input row is first laid out tile after tile, then shuffled into one register per tile
/// column); for each α² point the register-tiled micro-kernel (<see cref="IConvMicroKernel"/>) multiplies a block of
/// the transformed filters U [α², K, C] by V; and the output transform of those products, plus the bias, is written
/// into y as the epilogue of each block of output channels.</para>
/// </summary>
public static unsafe class WinogradHost
{
    // Scratch slots: the caller thread's transformed filters, their staging and the padded input, then each block's workspace
    // (distinct from Conv2dHost's, whose buffers a caller may still hold).
    const int FiltersSlot = 5, FilterTapsSlot = 6, CanvasSlot = 7, WorkspaceSlot = 12;

    /// <summary>y = conv2d(x, w) + bias by <paramref name="tile"/> (a Winograd algorithm); <paramref name="bias"/> may be empty.</summary>
    public static void Forward(Conv2dShape s, ConvAlgorithm tile, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        const string op = "conv2d forward (host winograd)";
        Validate(op, s, tile);
        Conv2dHost.CheckInput(op, s, "x", x.Length);
        Conv2dHost.CheckWeight(op, s, "w", w.Length);
        if (!bias.IsEmpty) ShapeCheck.Length(op, "bias", bias.Length, s.K);
        Conv2dHost.CheckOutput(op, s, "y", y.Length);
        fixed (float* px = x, pw = w, pb = bias, py = y) Forward(s, tile, px, pw, pb, py);
    }

    /// <summary>gx = dL/dx from gy = dL/dy by <paramref name="tile"/> (a Winograd algorithm); gx is overwritten.</summary>
    public static void BackwardInput(Conv2dShape s, ConvAlgorithm tile, ReadOnlySpan<float> gy, ReadOnlySpan<float> w, Span<float> gx)
    {
        const string op = "conv2d backward input (host winograd)";
        Validate(op, s, tile);
        Conv2dHost.CheckOutput(op, s, "gy", gy.Length);
        Conv2dHost.CheckWeight(op, s, "w", w.Length);
        Conv2dHost.CheckInput(op, s, "gx", gx.Length);
        fixed (float* pgy = gy, pw = w, pgx = gx) BackwardInput(s, tile, pgy, pw, pgx);
    }

    internal static void Forward(Conv2dShape s, ConvAlgorithm tile, float* x, float* w, float* bias, float* y) =>
        Correlate(new Correlation(s.N, s.C, s.H, s.W, s.K, s.OutH, s.OutW, s.Pad), tile, w, transposedFilters: false, bias, x, y);

    internal static void BackwardInput(Conv2dShape s, ConvAlgorithm tile, float* gy, float* w, float* gx) =>
        Correlate(new Correlation(s.N, s.K, s.OutH, s.OutW, s.C, s.H, s.W, 2 - s.Pad), tile, w, transposedFilters: true, null, gy, gx);

    static void Validate(string op, Conv2dShape s, ConvAlgorithm tile)
    {
        s.Validate(op);
        if (!WinogradPlan.Applies(s))
            throw new ArgumentException($"{op}: Winograd needs a 3x3 kernel at stride 1, got {s.KH}x{s.KW} at stride {s.Stride}");
        if (tile == ConvAlgorithm.Direct) throw new ArgumentException($"{op}: {tile} is not a Winograd algorithm");
    }

    /// <summary>
    /// A 3x3 stride-1 correlation: output [Images, OutChannels, OutH, OutW] from input [Images, InChannels, InH, InW]
    /// zero-padded by <see cref="Pad"/> on every side (a negative pad crops).
    /// </summary>
    readonly record struct Correlation(int Images, int InChannels, int InH, int InW, int OutChannels, int OutH, int OutW, int Pad);

    static void Correlate(Correlation p, ConvAlgorithm tile, float* w, bool transposedFilters, float* bias, float* source, float* output)
    {
        switch (HostSimd.Active, tile)
        {
            case (SimdLevel.Vector512, ConvAlgorithm.WinogradF2): Correlate<Avx512MicroKernel, WinogradVector512, WinogradF2>(p, w, transposedFilters, bias, source, output); break;
            case (SimdLevel.Vector512, _): Correlate<Avx512MicroKernel, WinogradVector512, WinogradF4>(p, w, transposedFilters, bias, source, output); break;
            case (SimdLevel.Vector256, ConvAlgorithm.WinogradF2): Correlate<Avx2MicroKernel, WinogradVector256, WinogradF2>(p, w, transposedFilters, bias, source, output); break;
            case (SimdLevel.Vector256, _): Correlate<Avx2MicroKernel, WinogradVector256, WinogradF4>(p, w, transposedFilters, bias, source, output); break;
            case (_, ConvAlgorithm.WinogradF2): Correlate<ScalarMicroKernel, WinogradScalar, WinogradF2>(p, w, transposedFilters, bias, source, output); break;
            default: Correlate<ScalarMicroKernel, WinogradScalar, WinogradF4>(p, w, transposedFilters, bias, source, output); break;
        }
    }

    static void Correlate<TKernel, TVector, TTile>(Correlation p, float* w, bool transposedFilters, float* bias, float* source, float* output)
        where TKernel : struct, IConvMicroKernel where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        var filters = TransformFilters<TKernel, TVector, TTile>(p, w, transposedFilters);
        var tiling = new Tiling(p, TTile.M, TKernel.TileColumns, TVector.Count);
        float* canvas = PadInput(tiling, source);
        HostThreads.For(tiling.Blocks, block => Block<TKernel, TVector, TTile>(tiling, filters, bias, canvas, output, block));
    }

    /// <summary>
    /// U = G g Gᵀ for every filter g [3, 3] (output channel o, input channel c), laid out for the micro-kernel: point e's
    /// matrix at Points + e·Stride, as TileRows-row blocks of output channels each [InChannels][TileRows] (rows past
    /// the last channel zero), followed by TileRows zeros (the products' initial values).
    /// </summary>
    readonly struct TransformedFilters(float* points, long stride)
    {
        public float* Points => points;

        public long Stride => stride;

        public float* Zeros(int pointCount) => points + pointCount * stride;
    }

    static TransformedFilters TransformFilters<TKernel, TVector, TTile>(Correlation p, float* w, bool transposed)
        where TKernel : struct, IConvMicroKernel where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        int tileRows = TKernel.TileRows, alpha = TTile.Alpha, lanes = Vector<double>.Count;
        int inC = p.InChannels, outC = p.OutChannels, outRows = RoundUp(outC, tileRows);
        long filters = (long)outRows * inC, stride = RoundUp(filters, Math.Max(TVector.Count, lanes));
        // Stage each tap across the filters in the packed order, so that the transform runs one filter per lane.
        double* taps = (double*)ThreadScratch.Get(FilterTapsSlot, 2 * 9 * stride);
        new Span<double>(taps, checked((int)(9 * stride))).Clear();
        for (int o = 0; o < outC; o++)
            for (int c = 0; c < inC; c++)
            {
                long j = (long)(o - o % tileRows) * inC + c * tileRows + o % tileRows;
                // Grad-input correlates with w[k, c] flipped: filter (o = c, c = k) is w[c][o] read backwards.
                float* g = transposed ? w + ((long)c * outC + o) * 9 : w + ((long)o * inC + c) * 9;
                for (int t = 0; t < 9; t++) taps[t * stride + j] = transposed ? g[8 - t] : g[t];
            }
        // In float64, rounded once: the transformed filters carry no error of their own into the products.
        float* points = ThreadScratch.Get(FiltersSlot, alpha * alpha * stride + tileRows);
        new Span<float>(points + alpha * alpha * stride, tileRows).Clear();
        ReadOnlySpan<double> gMatrix = TTile.FilterTransform;
        var half = stackalloc Vector<double>[alpha * 3]; // G g: [alpha][3]
        for (long j = 0; j < stride; j += lanes)
        {
            for (int x = 0; x < alpha; x++)
                for (int b = 0; b < 3; b++)
                {
                    var sum = Vector<double>.Zero;
                    for (int a = 0; a < 3; a++) sum += gMatrix[x * 3 + a] * Vector.Load(taps + (a * 3 + b) * stride + j);
                    half[x * 3 + b] = sum;
                }
            for (int x = 0; x < alpha; x++)
                for (int y = 0; y < alpha; y++)
                {
                    var sum = Vector<double>.Zero;
                    for (int b = 0; b < 3; b++) sum += half[x * 3 + b] * gMatrix[y * 3 + b];
                    float* to = points + (x * alpha + y) * stride + j;
                    for (int l = 0; l < lanes; l++) to[l] = (float)sum[l];
                }
        }
        return new TransformedFilters(points, stride);
    }

    /// <summary>
    /// The output tiles, image after image and row after row, cut into blocks of <see cref="Width"/>. A block's tiles
    /// fall into runs, each the consecutive tiles of one tile row of one image. Laid side by side (M floats per tile), a
    /// block's row of tiles is read and written one register at a time; a register holds one run's tiles (loaded
    /// straight from the input's zero-padded canvas, or stored straight into the output) or, for runs shorter than a
    /// register, pieces of several (<see cref="Piece"/>), assembled and scattered lane by lane.
    /// </summary>
    readonly struct Tiling
    {
        public readonly Correlation Problem;
        public readonly int M, Width, Count, TilesH, TilesW, CanvasH, CanvasW;
        public readonly long Tiles;
        public readonly int Blocks;

        public Tiling(Correlation p, int m, int width, int count)
        {
            (Problem, M, Width, Count) = (p, m, width, count);
            TilesH = DivideRoundUp(p.OutH, m);
            TilesW = DivideRoundUp(p.OutW, m);
            // Every tile's α x α inputs, α = M + 2, lie inside the canvas: row i of it is input row i − pad.
            CanvasH = M * TilesH + 2;
            CanvasW = M * TilesW + 2;
            Tiles = (long)p.Images * TilesH * TilesW;
            Blocks = checked((int)((Tiles + width - 1) / width));
        }

        /// <summary>Floats of one channel of one image's canvas.</summary>
        public long CanvasPlane => (long)CanvasH * CanvasW;

        /// <summary>
        /// Floats before and after the canvases: loads of lanes past a run (whose values are discarded) may reach that far.
        /// </summary>
        public int CanvasMargin => Count + M;

        /// <summary>Registers in a block's row of tiles.</summary>
        public int Registers => M * Width / Count;

        /// <summary>Most pieces a block has: one per register plus one more wherever a run ends inside a register.</summary>
        public int MostPieces => Registers + Width;

        /// <summary>
        /// Fills <paramref name="pieces"/> with the pieces of <paramref name="block"/>'s registers, register after register;
        /// register j's are [<paramref name="firstPiece"/>[j], <paramref name="firstPiece"/>[j + 1]).
        /// </summary>
        public void PiecesOf(int block, Piece* pieces, int* firstPiece)
        {
            var p = Problem;
            long first = (long)block * Width, end = Math.Min(Tiles, first + Width);
            int count = 0, register = 0, perImage = TilesH * TilesW;
            for (long t = first; t < end;)
            {
                int image = (int)(t / perImage), inImage = (int)(t % perImage), tileRow = inImage / TilesW, tileColumn = inImage % TilesW;
                int lane = (int)(t - first), length = (int)Math.Min(TilesW - tileColumn, end - t);
                int from = M * lane, to = M * (lane + length);
                for (int j = from / Count; j * Count < to; j++)
                {
                    for (; register <= j; register++) firstPiece[register] = count;
                    // The column, in the canvas and the output row, of the register's first float.
                    int column = M * (tileColumn - lane) + j * Count, low = Math.Max(from - j * Count, 0), high = Math.Min(to - j * Count, Count);
                    pieces[count++] = new Piece
                    {
                        Lanes = new LaneRange(low, high),
                        Out = new LaneRange(low, Math.Max(low, Math.Min(high, p.OutW - column))),
                        Canvas = (long)image * p.InChannels * CanvasPlane + (long)tileRow * M * CanvasW + column,
                        OutputRow = tileRow * M,
                        Output = ((long)image * p.OutChannels * p.OutH + tileRow * M) * p.OutW + column,
                    };
                }
                t += length;
            }
            for (; register <= Registers; register++) firstPiece[register] = count;
        }
    }

    /// <summary>
    /// The lanes of one register of a block's row of tiles that belong to one run, those of them inside the output's width,
    /// and where the register's first float lies for the run: in the canvas (channel 0, the tile row's first input row)
    /// and in the output (channel 0, the tile row's first output row, <see cref="OutputRow"/>).
    /// </summary>
    struct Piece
    {
        public LaneRange Lanes, Out;
        public int OutputRow;
        public long Canvas, Output;
    }

    /// <summary>Lanes [First, End) of a register.</summary>
    readonly record struct LaneRange(int First, int End)
    {
        public bool IsEmpty => End <= First;

        public bool IsWhole(int count) => First == 0 && End == count;
    }

    /// <summary>
    /// The input of every image zero-padded into a canvas [InChannels, CanvasH, CanvasW] (<see cref="ZeroPaddedImage"/>),
    /// image after image with a zeroed margin before and after, in this thread's <see cref="CanvasSlot"/>; returns the first
    /// image's canvas.
    /// </summary>
    static float* PadInput(Tiling tiling, float* source)
    {
        var p = tiling.Problem;
        long perImage = p.InChannels * tiling.CanvasPlane;
        int margin = tiling.CanvasMargin;
        float* canvas = ThreadScratch.Get(CanvasSlot, p.Images * perImage + 2 * margin) + margin;
        new Span<float>(canvas - margin, margin).Clear();
        new Span<float>(canvas + p.Images * perImage, margin).Clear();
        var padded = new ZeroPaddedImage(p.InChannels, p.InH, p.InW, p.Pad, p.Pad, tiling.CanvasH, tiling.CanvasW);
        HostThreads.For(p.Images, n => padded.Fill(source + (long)n * p.InChannels * p.InH * p.InW, canvas + n * perImage));
        return canvas;
    }

    /// <summary>One block of output tiles: input transform into V, then per block of output channels the products and the output transform into the output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block<TKernel, TVector, TTile>(Tiling tiling, TransformedFilters filters, float* bias, float* canvas, float* output, int block)
        where TKernel : struct, IConvMicroKernel where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        var p = tiling.Problem;
        int m = TTile.M, alpha = TTile.Alpha, points = alpha * alpha, count = TVector.Count;
        int width = TKernel.TileColumns, tileRows = TKernel.TileRows, segment = width / 4, vectors = width / count;
        int inC = p.InChannels, outC = p.OutChannels, rowLength = m * width, registers = tiling.Registers;
        // Planes of V and of the products a cache line more than a power of two apart, so that the α² stores of one
        // transform do not all fall into the same few L1 sets.
        int transformedPlane = inC * width + 16, productPlane = tileRows * width + 16;
        long outPlane = (long)p.OutH * p.OutW, transformedLength = (long)points * transformedPlane;
        float* assembled = ThreadScratch.Get(WorkspaceSlot, 3 * rowLength + points * width + transformedLength + points * productPlane + m * alpha * width
            + tiling.MostPieces * count + inC);
        float* assembledShifted = assembled + rowLength;            // registers made of several runs: the tile starts, and M floats on
        float* outputRow = assembledShifted + rowLength;            // output registers stored piece by piece (and registers past the block)
        float* rowPoints = outputRow + rowLength;                   // [α rows][α][tiles]: Bᵀ applied along the rows
        float* transformed = rowPoints + points * width;            // V [α²][InChannels][tiles]
        float* products = transformed + transformedLength;          // [α²][TileRows][tiles]
        float* columns = products + points * productPlane;      // [M][α][tiles]: Aᵀ applied along the columns
        float* masks = columns + m * alpha * width;                 // per piece: the mask of its lanes
        int* rowOffsets = (int*)(masks + tiling.MostPieces * count);
        for (int r = 0; r < inC; r++) rowOffsets[r] = r * width;
        Piece* pieces = stackalloc Piece[tiling.MostPieces];
        int* firstPiece = stackalloc int[registers + 1];
        tiling.PiecesOf(block, pieces, firstPiece);
        for (int i = 0; i < firstPiece[registers]; i++) TVector.Store(TVector.LaneMask(pieces[i].Lanes.First, pieces[i].Lanes.End), masks + i * count);
        // Registers of one run read the canvas in place (any other lanes lie past the block's last tile); those of
        // several runs are assembled. Registers past the last tile read the canvas's start: finite values, discarded.
        float** starts = stackalloc float*[registers], shifted = stackalloc float*[registers];
        long* inPlace = stackalloc long[registers];
        for (int j = 0; j < registers; j++)
        {
            int piecesOfRegister = firstPiece[j + 1] - firstPiece[j];
            inPlace[j] = piecesOfRegister == 1 ? pieces[firstPiece[j]].Canvas : piecesOfRegister == 0 ? 0 : -1;
            starts[j] = assembled + j * count;
            shifted[j] = assembledShifted + j * count;
        }

        for (int c = 0; c < inC; c++)
        {
            for (int r = 0; r < alpha; r++)
            {
                long row = c * tiling.CanvasPlane + r * tiling.CanvasW;
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
                    TTile.InputRow<TVector>(starts + m * v, shifted + m * v, rowPoints + r * alpha * width + v * count, width);
            }
            for (int v = 0; v < vectors; v++)
                for (int k = 0; k < alpha; k++)
                    TTile.InputColumn<TVector>(rowPoints + k * width + v * count, alpha * width, transformed + k * transformedPlane + c * width + v * count, alpha * transformedPlane);
        }

        // Output registers of one run that covers all their lanes go straight into the output row (where it exists).
        float** destinations = stackalloc float*[registers];
        long* direct = stackalloc long[registers];
        for (int j = 0; j < registers; j++)
        {
            bool whole = firstPiece[j + 1] - firstPiece[j] == 1 && pieces[firstPiece[j]].Out.IsWhole(count);
            direct[j] = whole ? pieces[firstPiece[j]].Output : -1;
        }
        float* zeros = filters.Zeros(points);
        for (int m0 = 0; m0 < outC; m0 += tileRows)
        {
            for (int e = 0; e < points; e++)
            {
                float* operand = transformed + (long)e * transformedPlane;
                TKernel.OuterProduct<WholeSegments>(inC, filters.Points + e * filters.Stride + (long)m0 * inC, rowOffsets,
                    operand, operand + segment, operand + 2 * segment, operand + 3 * segment, zeros, products + e * productPlane, width);
            }
            for (int i = 0, rows = Math.Min(tileRows, outC - m0); i < rows; i++)
            {
                int k = m0 + i;
                var offset = TVector.Broadcast(bias is null ? 0f : bias[k]);
                for (int v = 0; v < vectors; v++)
                    for (int kk = 0; kk < alpha; kk++)
                        TTile.OutputColumn<TVector>(products + kk * productPlane + i * width + v * count, alpha * productPlane, columns + kk * width + v * count, alpha * width);
                for (int a = 0; a < m; a++)
                {
                    long row = k * outPlane + a * p.OutW;
                    for (int j = 0; j < registers; j++)
                        destinations[j] = direct[j] >= 0 && pieces[firstPiece[j]].OutputRow + a < p.OutH ? output + direct[j] + row : outputRow + j * count;
                    for (int v = 0; v < vectors; v++)
                        TTile.OutputRow<TVector>(columns + a * alpha * width + v * count, width, offset, destinations + m * v);
                    for (int j = 0; j < registers; j++)
                    {
                        if (direct[j] >= 0) continue;
                        var value = TVector.Load(outputRow + j * count);
                        for (int n = firstPiece[j]; n < firstPiece[j + 1]; n++)
                        {
                            ref var piece = ref pieces[n];
                            if (piece.Out.IsEmpty || piece.OutputRow + a >= p.OutH) continue;
                            TVector.StoreLanes(value, output + piece.Output + row, piece.Out.First, piece.Out.End);
                        }
                    }
                }
            }
        }
    }

    static int RoundUp(int value, int multiple) => DivideRoundUp(value, multiple) * multiple;

    static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;

    static int DivideRoundUp(int value, int divisor) => (value + divisor - 1) / divisor;
}
