using System.Numerics;
using System.Runtime.CompilerServices;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// 3x3 stride-1 convolution on the CPU by Winograd's minimal filtering (Lavin and Gray 2016), F(2x2,3x3) or
/// F(4x4,3x3) (<see cref="IWinogradTile"/>): the same contract as <see cref="Conv2dHost"/>, which calls it where
/// <see cref="HostConvAlgorithm"/> says. Every pass is a <see cref="WinogradCorrelation"/> over the output tiles, cut into
/// blocks of TileColumns tiles (<see cref="WinogradTiling"/>, <see cref="WinogradBlock"/>), with the input zero-padded once
/// into a canvas; each tile's values come from one fixed sequence of operations, so the bits do not depend on the
/// thread count.
/// <list type="bullet">
/// <item>forward: per block (the parallel work) the input transform writes V [α², C, tiles] straight into the GEMM's packed
/// operand; for each α² point the register-tiled micro-kernel (<see cref="IConvMicroKernel"/>) multiplies a block of the
/// transformed filters U [α², K, C] by V; the output transform of those products, plus the bias, is written into y as
/// the epilogue of each block of output channels;</item>
/// <item>grad-input: the same computation on gy padded by 2 − pad, with the filters transposed to [C, K] and flipped;</item>
/// <item>grad-weight: dU_e [K, C] = Σ_tiles (A gy Aᵀ)_e (Bᵀ x B)_eᵀ by the dot-product micro-kernel over groups of blocks
/// fixed by the shape (the parallel work), the groups' sums added in group order, then gw += Gᵀ dU G.</item>
/// </list>
/// </summary>
internal static unsafe class WinogradHost
{
    // Scratch slots: the caller thread's transformed filters, the canvases and the groups' sums, then
    // each work item's own (all distinct from Conv2dHost's, whose buffers a caller may still hold).
    const int FiltersSlot = 5, CanvasSlot = 7, GradientCanvasSlot = 13, PartialsSlot = 14, BlockSlot = 12, WorkspaceSlot = 15;

    /// <summary>y = conv2d(x, w) + bias by <paramref name="tile"/> (a Winograd algorithm); <paramref name="bias"/> may be empty.</summary>
    public static void Forward(Conv2dShape s, ConvAlgorithm tile, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        const string op = "conv2d forward (host winograd)";
        Validate(op, s, tile);
        CheckInput(op, s, "x", x.Length);
        CheckWeight(op, s, "w", w.Length);
        if (!bias.IsEmpty) ShapeCheck.Length(op, "bias", bias.Length, s.K);
        CheckOutput(op, s, "y", y.Length);
        fixed (float* px = x, pw = w, pb = bias, py = y) Forward(s, tile, px, pw, pb, py);
    }

    /// <summary>gx = dL/dx from gy = dL/dy by <paramref name="tile"/> (a Winograd algorithm); gx is overwritten.</summary>
    public static void BackwardInput(Conv2dShape s, ConvAlgorithm tile, ReadOnlySpan<float> gy, ReadOnlySpan<float> w, Span<float> gx)
    {
        const string op = "conv2d backward input (host winograd)";
        Validate(op, s, tile);
        CheckOutput(op, s, "gy", gy.Length);
        CheckWeight(op, s, "w", w.Length);
        CheckInput(op, s, "gx", gx.Length);
        fixed (float* pgy = gy, pw = w, pgx = gx) BackwardInput(s, tile, pgy, pw, pgx);
    }

    /// <summary>gw += dL/dw from x and gy = dL/dy by <paramref name="tile"/> (a Winograd algorithm).</summary>
    public static void BackwardWeight(Conv2dShape s, ConvAlgorithm tile, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gw)
    {
        const string op = "conv2d backward weight (host winograd)";
        Validate(op, s, tile);
        CheckInput(op, s, "x", x.Length);
        CheckOutput(op, s, "gy", gy.Length);
        CheckWeight(op, s, "gw", gw.Length);
        fixed (float* px = x, pgy = gy, pgw = gw) BackwardWeight(s, tile, px, pgy, pgw);
    }

    // The span entries serve tests and `bench kernels`, which force a tile past the Conv2d contract and its checks.
    static void CheckInput(string op, Conv2dShape s, string name, int length) => ShapeCheck.Length(op, name, length, (long)s.N * s.C * s.H * s.W);

    static void CheckWeight(string op, Conv2dShape s, string name, int length) => ShapeCheck.Length(op, name, length, (long)s.K * s.C * s.KH * s.KW);

    static void CheckOutput(string op, Conv2dShape s, string name, int length) => ShapeCheck.Length(op, name, length, (long)s.N * s.K * s.OutH * s.OutW);

    /// <summary>y = conv2d(<paramref name="activation"/>(x), w) + bias, the activation applied as x is padded.</summary>
    internal static void Forward(Conv2dShape s, ConvAlgorithm tile, float* x, float* w, float* bias, float* y, in InputActivation activation = default) =>
        Correlate(WinogradCorrelation.Forward(s), tile, w, transposedFilters: false, bias, x, activation, y);

    internal static void BackwardInput(Conv2dShape s, ConvAlgorithm tile, float* gy, float* w, float* gx) =>
        Correlate(WinogradCorrelation.GradInput(s), tile, w, transposedFilters: true, null, gy, default, gx);

    /// <summary>gw += dL/dw of a convolution of <paramref name="activation"/>(x).</summary>
    internal static void BackwardWeight(Conv2dShape s, ConvAlgorithm tile, float* x, float* gy, float* gw, in InputActivation activation = default)
    {
        var p = WinogradCorrelation.Forward(s);
        switch (HostSimd.Active, tile)
        {
            case (SimdLevel.Vector512, ConvAlgorithm.WinogradF2): WeightGradient<Avx512MicroKernel, WinogradVector512, WinogradF2>(p, x, activation, gy, gw); break;
            case (SimdLevel.Vector512, _): WeightGradient<Avx512MicroKernel, WinogradVector512, WinogradF4>(p, x, activation, gy, gw); break;
            case (SimdLevel.Vector256, ConvAlgorithm.WinogradF2): WeightGradient<Avx2MicroKernel, WinogradVector256, WinogradF2>(p, x, activation, gy, gw); break;
            case (SimdLevel.Vector256, _): WeightGradient<Avx2MicroKernel, WinogradVector256, WinogradF4>(p, x, activation, gy, gw); break;
            case (_, ConvAlgorithm.WinogradF2): WeightGradient<ScalarMicroKernel, WinogradScalar, WinogradF2>(p, x, activation, gy, gw); break;
            default: WeightGradient<ScalarMicroKernel, WinogradScalar, WinogradF4>(p, x, activation, gy, gw); break;
        }
    }

    static void Validate(string op, Conv2dShape s, ConvAlgorithm tile)
    {
        s.Validate(op);
        if (!WinogradPlan.Applies(s))
            throw new ArgumentException($"{op}: Winograd needs a 3x3 kernel at stride 1, got {s.KH}x{s.KW} at stride {s.Stride}");
        if (tile == ConvAlgorithm.Direct) throw new ArgumentException($"{op}: {tile} is not a Winograd algorithm");
    }

    static void Correlate(WinogradCorrelation p, ConvAlgorithm tile, float* w, bool transposedFilters, float* bias, float* source, InputActivation activation, float* output)
    {
        switch (HostSimd.Active, tile)
        {
            case (SimdLevel.Vector512, ConvAlgorithm.WinogradF2): Correlate<Avx512MicroKernel, WinogradVector512, WinogradF2>(p, w, transposedFilters, bias, source, activation, output); break;
            case (SimdLevel.Vector512, _): Correlate<Avx512MicroKernel, WinogradVector512, WinogradF4>(p, w, transposedFilters, bias, source, activation, output); break;
            case (SimdLevel.Vector256, ConvAlgorithm.WinogradF2): Correlate<Avx2MicroKernel, WinogradVector256, WinogradF2>(p, w, transposedFilters, bias, source, activation, output); break;
            case (SimdLevel.Vector256, _): Correlate<Avx2MicroKernel, WinogradVector256, WinogradF4>(p, w, transposedFilters, bias, source, activation, output); break;
            case (_, ConvAlgorithm.WinogradF2): Correlate<ScalarMicroKernel, WinogradScalar, WinogradF2>(p, w, transposedFilters, bias, source, activation, output); break;
            default: Correlate<ScalarMicroKernel, WinogradScalar, WinogradF4>(p, w, transposedFilters, bias, source, activation, output); break;
        }
    }

    static void Correlate<TKernel, TVector, TTile>(WinogradCorrelation p, float* w, bool transposedFilters, float* bias, float* source, InputActivation activation, float* output)
        where TKernel : struct, IConvMicroKernel where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        var filters = TransformFilters<TKernel, TVector, TTile>(p, w, transposedFilters);
        var tiling = new WinogradTiling(p, TTile.M, TKernel.TileColumns, TVector.Count);
        float* canvas = PadInput(tiling, source, activation);
        HostThreads.For(tiling.Blocks, block => ForwardBlock<TKernel, TVector, TTile>(tiling, filters, bias, canvas, output, block));
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

    static TransformedFilters TransformFilters<TKernel, TVector, TTile>(WinogradCorrelation p, float* w, bool transposed)
        where TKernel : struct, IConvMicroKernel where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        int tileRows = TKernel.TileRows, alpha = TTile.Alpha, count = TVector.Count;
        long filters = (long)RoundUp(p.OutChannels, tileRows) * p.InChannels, stride = RoundUp(filters, count);
        float* points = ThreadScratch.Get(FiltersSlot, alpha * alpha * stride + tileRows);
        new Span<float>(points + alpha * alpha * stride, tileRows).Clear();
        // Chunks of lanes fixed by the shape; each filter's transform is the same whichever thread runs it.
        const int vectorsPerChunk = 16;
        int chunks = checked((int)DivideRoundUp(stride, (long)count * vectorsPerChunk));
        HostThreads.For(chunks, chunk => TransformFilterChunk<TVector, TTile>(p, w, transposed, tileRows, points, stride,
            (long)chunk * count * vectorsPerChunk, Math.Min(stride, (long)(chunk + 1) * count * vectorsPerChunk)));
        return new TransformedFilters(points, stride);
    }

    /// <summary>
    /// Lanes [first, end) of the transformed filters (<see cref="TransformedFilters"/>), Count at a time: lane j is filter
    /// (o, c) of the packed order, o − o % TileRows = j / (InChannels·TileRows)·TileRows, c = j / TileRows % InChannels.
    /// In float32: against a float64 transform rounded once, the error of the products against float64 moved by less than
    /// its spread between shapes (2.0-2.2e-6 at 56 and 64 channels, F(4x4,3x3)), and the transform took a twelfth of the time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TransformFilterChunk<TVector, TTile>(WinogradCorrelation p, float* w, bool transposed, int tileRows, float* points, long stride, long first, long end)
        where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        int alpha = TTile.Alpha, count = TVector.Count, inC = p.InChannels, outC = p.OutChannels;
        float* g = stackalloc float[alpha * 3];
        for (int i = 0; i < alpha * 3; i++) g[i] = (float)TTile.FilterTransform[i];
        float* taps = stackalloc float[9 * count];  // [tap][lane]
        float* half = stackalloc float[alpha * 3 * count]; // G g: [alpha][3][lane]
        // Lane j's filter, counted up from the chunk's first lane: row r of its block of output channels, input channel c.
        long blocks = first / ((long)inC * tileRows);
        int c = (int)(first / tileRows % inC), r = (int)(first % tileRows);
        for (long j0 = first; j0 < end; j0 += count)
        {
            for (int l = 0; l < count; l++)
            {
                int o = (int)(blocks * tileRows) + r;
                if (o >= outC)
                    for (int t = 0; t < 9; t++) taps[t * count + l] = 0f;
                // Grad-input correlates with w[k, c] flipped: filter (o = c, c = k) is w[c][o] read backwards.
                else if (transposed)
                    for (int t = 0; t < 9; t++) taps[t * count + l] = w[((long)c * outC + o) * 9 + 8 - t];
                else
                    for (int t = 0; t < 9; t++) taps[t * count + l] = w[((long)o * inC + c) * 9 + t];
                if (++r == tileRows)
                {
                    r = 0;
                    if (++c == inC) (c, blocks) = (0, blocks + 1);
                }
            }
            for (int x = 0; x < alpha; x++)
                for (int b = 0; b < 3; b++)
                {
                    var sum = TVector.Broadcast(0f);
                    for (int a = 0; a < 3; a++)
                        if (g[x * 3 + a] != 0f) sum = TVector.MultiplyAdd(TVector.Broadcast(g[x * 3 + a]), TVector.Load(taps + (a * 3 + b) * count), sum);
                    TVector.Store(sum, half + (x * 3 + b) * count);
                }
            for (int x = 0; x < alpha; x++)
                for (int y = 0; y < alpha; y++)
                {
                    var sum = TVector.Broadcast(0f);
                    for (int b = 0; b < 3; b++)
                        if (g[y * 3 + b] != 0f) sum = TVector.MultiplyAdd(TVector.Load(half + (x * 3 + b) * count), TVector.Broadcast(g[y * 3 + b]), sum);
                    TVector.Store(sum, points + (x * alpha + y) * stride + j0);
                }
        }
    }

    /// <summary>
    /// The input of every image zero-padded into its canvas (<see cref="WinogradTiling"/>), image after image with a zeroed
    /// margin before and after, in this thread's <see cref="CanvasSlot"/>, through <paramref name="activation"/>; returns the
    /// first image's canvas.
    /// </summary>
    static float* PadInput(WinogradTiling tiling, float* source, InputActivation activation)
    {
        var p = tiling.Problem;
        long length = p.Images * p.InChannels * tiling.CanvasPlane;
        int margin = tiling.CanvasMargin;
        float* canvas = ThreadScratch.Get(CanvasSlot, length + 2 * margin) + margin;
        new Span<float>(canvas - margin, margin).Clear();
        new Span<float>(canvas + length, margin).Clear();
        HostThreads.For(p.Images, n => tiling.PadInput(source, canvas, n, activation));
        return canvas;
    }

    /// <summary>One block of output tiles: input transform into V, then per block of output channels the products and the output transform into the output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ForwardBlock<TKernel, TVector, TTile>(WinogradTiling tiling, TransformedFilters filters, float* bias, float* canvas, float* output, int block)
        where TKernel : struct, IConvMicroKernel where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        var p = tiling.Problem;
        int alpha = TTile.Alpha, points = alpha * alpha, width = TKernel.TileColumns, tileRows = TKernel.TileRows, segment = width / 4;
        int inC = p.InChannels, outC = p.OutChannels;
        // Planes of V and of the products a cache line more than a power of two apart, so that the α² stores of one
        // transform do not all fall into the same few L1 sets.
        int transformedPlane = inC * width + 16, productPlane = tileRows * width + 16;
        var layout = WinogradBlock.Create<TVector>(tiling, block, ThreadScratch.Get(BlockSlot, WinogradBlock.WorkspaceFloats(tiling, alpha)), alpha);
        float* transformed = ThreadScratch.Get(WorkspaceSlot, (long)points * (transformedPlane + productPlane) + inC);
        float* products = transformed + (long)points * transformedPlane;
        int* rowOffsets = (int*)(products + points * productPlane);
        for (int r = 0; r < inC; r++) rowOffsets[r] = r * width;

        layout.InputTransform<TVector, TTile>(canvas, transformed, transformedPlane, width);
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
                layout.OutputTransform<TVector, TTile>(products, productPlane, i, bias is null ? 0f : bias[m0 + i], output, m0 + i);
        }
    }

    /// <summary>Bytes of transformed tiles (input and output gradient) a weight-gradient group holds: about half this machine's L2.</summary>
    const int GroupBytes = 512 * 1024;

    static void WeightGradient<TKernel, TVector, TTile>(WinogradCorrelation p, float* x, InputActivation activation, float* gy, float* gw)
        where TKernel : struct, IConvMicroKernel where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        int alpha = TTile.Alpha, points = alpha * alpha, width = TKernel.TileColumns;
        int outRows = RoundUp(p.OutChannels, TKernel.DotRows), inRows = RoundUp(p.InChannels, TKernel.DotColumns);
        var tiling = new WinogradTiling(p, TTile.M, width, TVector.Count);
        float* canvas = PadInput(tiling, x, activation), gradient = gy;
        if (!tiling.GradientIsOutput)
        {
            gradient = ThreadScratch.Get(GradientCanvasSlot, p.Images * p.OutChannels * tiling.GradientPlane);
            HostThreads.For(p.Images, n => tiling.PadGradient(gy, gradient, n));
        }
        // Groups of blocks fixed by the shape (never by the thread count): each sums its tiles in a fixed order, and the
        // groups' sums are added in group order, so the bits repeat on any number of threads.
        long bytesPerBlock = (long)points * (inRows + outRows) * width * sizeof(float);
        int blocksPerGroup = (int)Math.Clamp(GroupBytes / bytesPerBlock, 1, tiling.Blocks);
        int groups = DivideRoundUp(tiling.Blocks, blocksPerGroup);
        long partialLength = (long)points * outRows * inRows;
        float* partials = ThreadScratch.Get(PartialsSlot, groups * partialLength);
        HostThreads.For(groups, g => WeightGradientOfGroup<TKernel, TVector, TTile>(tiling, canvas, gradient, g * blocksPerGroup,
            Math.Min(tiling.Blocks, (g + 1) * blocksPerGroup), blocksPerGroup, partials + g * partialLength, outRows, inRows));
        // The groups' sums into the first group's, in group order (vectors across the partial, so the order per element is fixed).
        for (int g = 1; g < groups; g++) AddTo(partials, partials + g * partialLength, partialLength);
        HostThreads.For(p.OutChannels, k => AddFilterGradients<TTile>(p, partials, outRows, inRows, k, gw));
    }

    /// <summary>
    /// partial[e][k][c] = Σ over blocks [firstBlock, endBlock) and their tiles of (A gy Aᵀ)_e at output channel k times
    /// (Bᵀ x B)_e at input channel c (rows past the channels zero), by the dot-product micro-kernel over the group's tiles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WeightGradientOfGroup<TKernel, TVector, TTile>(WinogradTiling tiling, float* canvas, float* gradient, int firstBlock, int endBlock,
        int blocksPerGroup, float* partial, int outRows, int inRows)
        where TKernel : struct, IConvMicroKernel where TVector : struct, IWinogradVector<TVector> where TTile : struct, IWinogradTile
    {
        var p = tiling.Problem;
        int alpha = TTile.Alpha, points = alpha * alpha, width = TKernel.TileColumns, dotRows = TKernel.DotRows, dotColumns = TKernel.DotColumns;
        int row = blocksPerGroup * width, used = (endBlock - firstBlock) * width, vectors = used / TKernel.VectorWidth;
        int inPlane = checked(inRows * row + 16), outPlane = checked(outRows * row + 16);
        float* transformed = ThreadScratch.Get(WorkspaceSlot, (long)points * (inPlane + outPlane) + 2 * vectors + dotColumns);
        float* gradients = transformed + (long)points * inPlane;
        int* segmentOffsets = (int*)(gradients + (long)points * outPlane), rowOffsets = segmentOffsets + 2 * vectors;
        for (int e = 0; e < points; e++)
        {
            new Span<float>(transformed + (long)e * inPlane + (long)p.InChannels * row, (inRows - p.InChannels) * row).Clear();
            new Span<float>(gradients + (long)e * outPlane + (long)p.OutChannels * row, (outRows - p.OutChannels) * row).Clear();
        }
        float* workspace = ThreadScratch.Get(BlockSlot, WinogradBlock.WorkspaceFloats(tiling, alpha));
        for (int block = firstBlock; block < endBlock; block++)
        {
            var layout = WinogradBlock.Create<TVector>(tiling, block, workspace, alpha);
            int column = (block - firstBlock) * width;
            layout.InputTransform<TVector, TTile>(canvas, transformed + column, inPlane, row);
            layout.GradientTransform<TVector, TTile>(gradient, gradients + column, outPlane, row);
        }
        // Each DotColumns x DotRows block of sums runs along the group's tiles, TileColumns-wide halves of a vector apart.
        int half = TKernel.VectorWidth / 2;
        for (int v = 0; v < 2 * vectors; v++) segmentOffsets[v] = v * half;
        new Span<float>(partial, checked((int)((long)points * outRows * inRows))).Clear();
        for (int e = 0; e < points; e++)
            for (int c0 = 0; c0 < inRows; c0 += dotColumns)
            {
                for (int j = 0; j < dotColumns; j++) rowOffsets[j] = (c0 + j) * row;
                for (int k0 = 0; k0 < outRows; k0 += dotRows)
                    TKernel.DotProducts<WholeSegments>(vectors, gradients + (long)e * outPlane + (long)k0 * row, row, transformed + (long)e * inPlane, segmentOffsets, rowOffsets,
                        partial + ((long)e * outRows + k0) * inRows + c0, inRows);
            }
    }

    /// <summary>sum[i] += addend[i] for i &lt; length.</summary>
    static void AddTo(float* sum, float* addend, long length)
    {
        long i = 0;
        for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
            Vector.Store(Vector.Load(sum + i) + Vector.Load(addend + i), sum + i);
        for (; i < length; i++) sum[i] += addend[i];
    }

    /// <summary>gw[k, c] += Gᵀ dU G for output channel <paramref name="k"/> and every input channel c, dU_e = dU[e][k][c]; in float64, rounded once.</summary>
    static void AddFilterGradients<TTile>(WinogradCorrelation p, float* dU, int outRows, int inRows, int k, float* gw) where TTile : struct, IWinogradTile
    {
        int alpha = TTile.Alpha, lanes = Vector<double>.Count;
        ReadOnlySpan<double> g = TTile.FilterTransform;
        var point = stackalloc Vector<double>[alpha * alpha];
        var half = stackalloc Vector<double>[alpha * 3]; // dU G: [alpha][3]
        double* lane = stackalloc double[lanes];
        // Lanes run over input channels; past the last channel they read the zero rows of the padded partial.
        for (int c0 = 0; c0 < p.InChannels; c0 += lanes)
        {
            for (int e = 0; e < alpha * alpha; e++)
            {
                float* from = dU + ((long)e * outRows + k) * inRows + c0;
                for (int l = 0; l < lanes; l++) lane[l] = c0 + l < inRows ? from[l] : 0;
                point[e] = Vector.Load(lane);
            }
            for (int x = 0; x < alpha; x++)
                for (int b = 0; b < 3; b++)
                {
                    var sum = Vector<double>.Zero;
                    for (int y = 0; y < alpha; y++) sum += point[x * alpha + y] * g[y * 3 + b];
                    half[x * 3 + b] = sum;
                }
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                {
                    var sum = Vector<double>.Zero;
                    for (int x = 0; x < alpha; x++) sum += g[x * 3 + a] * half[x * 3 + b];
                    for (int l = 0; l < lanes && c0 + l < p.InChannels; l++) gw[((long)k * p.InChannels + c0 + l) * 9 + a * 3 + b] += (float)sum[l];
                }
        }
    }

    static int RoundUp(int value, int multiple) => DivideRoundUp(value, multiple) * multiple;

    static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;

    static long DivideRoundUp(long value, long divisor) => (value + divisor - 1) / divisor;

    static int DivideRoundUp(int value, int divisor) => (value + divisor - 1) / divisor;
}
