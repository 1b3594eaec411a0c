using System.Runtime.CompilerServices;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// 2-D convolution on the CPU with SIMD (the host form of <see cref="Conv2dKernels"/>; shapes there, checked by it):
/// x [N, C, H, W], w [K, C, KH, KW], bias [K], y [N, K, OutH, OutW]. Each of the three products is a GEMM with
/// packed weights and a register-tiled micro-kernel (<see cref="IConvMicroKernel"/>), laid out for its own shape.
/// The im2col operand is never built whole: each image is zero-padded once and the micro-kernels read im2col rows
/// from it in place through offset tables (stride 1 and 2, rows of at least half a vector), or a TileColumns-wide
/// panel is packed right before use (other strides and widths).
/// <list type="bullet">
/// <item>forward, per image: y [K, OutH·OutW] = w [K, C·KH·KW] · im2col(x), every block of output channels passing
/// over one panel of positions while it is in L1;</item>
/// <item>grad-input, per image and stride phase: the same product over gy padded by KH−1−pad, with the weights
/// transposed to [C, K·KH·KW] and flipped (a stride-1 correlation gives every input position its sum);</item>
/// <item>grad-weight: gw [K, C·KH·KW] += gy [K, N·OutH·OutW] · im2col(x)ᵀ, a long reduction split into groups of
/// images fixed by the shape; each group's partial is summed in group order, so the bits do not depend on threads.</item>
/// </list>
/// Work is spread over <see cref="HostThreads"/>; scratch comes from <see cref="ThreadScratch"/>. Any pass of a 3x3
/// stride-1 layer goes to <see cref="WinogradHost"/> instead where <see cref="HostConvAlgorithm"/> says.
/// </summary>
internal static unsafe class Conv2dHost
{
    /// <summary>Floats past a padded image that <see cref="EvenLanes"/> loads may touch (their values are discarded).</summary>
    const int OverreadSlack = 16;

    // Scratch slots: the caller thread's shared operands, then each work item's own buffers.
    const int PackedWeightsSlot = 0, PartialsSlot = 1, RowOffsetsSlot = 2, PhaseWeightsSlot = 3, PhaseOutputSlot = 4;
    const int ImageSlot = 8, PanelSlot = 9, GyRowsSlot = 10, SegmentOffsetsSlot = 11;

    /// <summary>y = conv2d(x, w) + bias; <paramref name="bias"/> may be empty (no bias). y is overwritten.</summary>
    public static void Forward(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y) =>
        Forward(s, x, w, bias, y, default);

    /// <summary>y = conv2d(<paramref name="activation"/>(x), w) + bias, the activation applied as each image is padded.</summary>
    public static void Forward(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, in InputActivation activation)
    {
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            if (HostConvAlgorithm.Choose(s, ConvPass.Forward) is not ConvAlgorithm.Direct and var tile)
            {
                WinogradHost.Forward(s, tile, px, pw, pb, py, activation);
                return;
            }
            switch (HostSimd.Active)
            {
                case SimdLevel.Vector512: Forward<Avx512MicroKernel>(s, px, pw, pb, py, activation); break;
                case SimdLevel.Vector256: Forward<Avx2MicroKernel>(s, px, pw, pb, py, activation); break;
                default: Forward<ScalarMicroKernel>(s, px, pw, pb, py, activation); break;
            }
        }
    }

    /// <summary>gx = dL/dx from gy = dL/dy; gx is overwritten.</summary>
    public static void BackwardInput(Conv2dShape s, ReadOnlySpan<float> gy, ReadOnlySpan<float> w, Span<float> gx)
    {
        fixed (float* pgy = gy, pw = w, pgx = gx)
        {
            if (HostConvAlgorithm.Choose(s, ConvPass.GradInput) is not ConvAlgorithm.Direct and var tile)
            {
                WinogradHost.BackwardInput(s, tile, pgy, pw, pgx);
                return;
            }
            switch (HostSimd.Active)
            {
                case SimdLevel.Vector512: BackwardInput<Avx512MicroKernel>(s, pgy, pw, pgx); break;
                case SimdLevel.Vector256: BackwardInput<Avx2MicroKernel>(s, pgy, pw, pgx); break;
                default: BackwardInput<ScalarMicroKernel>(s, pgy, pw, pgx); break;
            }
        }
    }

    /// <summary>gw += dL/dw from x and gy = dL/dy (accumulated, like every parameter gradient).</summary>
    public static void BackwardWeight(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gw) =>
        BackwardWeight(s, x, gy, gw, default);

    /// <summary>gw += dL/dw of a convolution of <paramref name="activation"/>(x), the activation applied as x is padded.</summary>
    public static void BackwardWeight(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gw, in InputActivation activation)
    {
        fixed (float* px = x, pgy = gy, pgw = gw)
        {
            if (HostConvAlgorithm.Choose(s, ConvPass.GradWeight) is not ConvAlgorithm.Direct and var tile)
            {
                WinogradHost.BackwardWeight(s, tile, px, pgy, pgw, activation);
                return;
            }
            switch (HostSimd.Active)
            {
                case SimdLevel.Vector512: BackwardWeight<Avx512MicroKernel>(s, px, pgy, pgw, activation); break;
                case SimdLevel.Vector256: BackwardWeight<Avx2MicroKernel>(s, px, pgy, pgw, activation); break;
                default: BackwardWeight<ScalarMicroKernel>(s, px, pgy, pgw, activation); break;
            }
        }
    }

    static void Forward<TKernel>(Conv2dShape s, float* x, float* w, float* bias, float* y, InputActivation activation) where TKernel : struct, IConvMicroKernel
    {
        int depth = s.C * s.KH * s.KW;
        float* weights = PackWeights<TKernel>(w, s.K, s.C, s.KH * s.KW, depth, s.KH * s.KW, flipTaps: false, bias);
        var padded = new ZeroPaddedImage(s.C, s.H, s.W, s.Pad, s.Pad, s.H + 2 * s.Pad, s.W + 2 * s.Pad);
        var columns = new Im2colMatrix(s.C, padded.Height, padded.Width, s.KH, s.KW, s.Stride, s.OutH, s.OutW);
        OuterProducts<TKernel>(s.N, padded, columns, x, (long)s.C * s.H * s.W, weights, s.K, y, activation);
    }

    /// <summary>
    /// Grad-input one stride phase at a time: input positions (a + S·i, b + S·j) receive only the taps kh ≡ a + pad,
    /// kw ≡ b + pad (mod S), from gy at (i + da − u, j + db − v) for the u-th and v-th of those taps. So each phase is a
    /// stride-1 correlation of gy (zero-padded) with the flipped, transposed sub-kernel: no work on the zeros a dilated
    /// gy would hold (3/4 of it at stride 2). At stride 1 the single phase is all of gx and is written in place; otherwise
    /// the phases are computed side by side in one buffer and interleaved into gx at the end, image by image in parallel.
    /// </summary>
    static void BackwardInput<TKernel>(Conv2dShape s, float* gy, float* w, float* gx) where TKernel : struct, IConvMicroKernel
    {
        int S = s.Stride;
        float* phases = S == 1 ? gx : ThreadScratch.Get(PhaseOutputSlot, (long)s.N * s.C * s.H * s.W), phase = phases;
        for (int a = 0; a < S && a < s.H; a++)
            for (int b = 0; b < S && b < s.W; b++)
            {
                int kh0 = (a + s.Pad) % S, kw0 = (b + s.Pad) % S;
                int tapsH = kh0 < s.KH ? (s.KH - 1 - kh0) / S + 1 : 0, tapsW = kw0 < s.KW ? (s.KW - 1 - kw0) / S + 1 : 0;
                int phaseH = PhaseLength(s.H, S, a), phaseW = PhaseLength(s.W, S, b);
                if (tapsH == 0 || tapsW == 0) new Span<float>(phase, s.N * s.C * phaseH * phaseW).Clear();
                else
                {
                    // A[c, (k, u', v')] = w[k, c, kh0 + S·(tapsH−1−u'), kw0 + S·(tapsW−1−v')]: the phase's taps, transposed and
                    // flipped. At stride 1 that is every tap with its index reversed, packed straight from w.
                    int taps = tapsH * tapsW;
                    float* weights = S == 1
                        ? PackWeights<TKernel>(w, s.C, s.K, taps, taps, s.C * taps, flipTaps: true, null)
                        : PackWeights<TKernel>(PhaseWeights(s, w, kh0, kw0, tapsH, tapsW), s.C, s.K, taps, s.K * taps, taps, flipTaps: false, null);
                    int da = (a + s.Pad - kh0) / S, db = (b + s.Pad - kw0) / S;
                    var padded = new ZeroPaddedImage(s.K, s.OutH, s.OutW, tapsH - 1 - da, tapsW - 1 - db, phaseH + tapsH - 1, phaseW + tapsW - 1);
                    var columns = new Im2colMatrix(s.K, padded.Height, padded.Width, tapsH, tapsW, 1, phaseH, phaseW);
                    OuterProducts<TKernel>(s.N, padded, columns, gy, (long)s.K * s.OutH * s.OutW, weights, s.C, phase, default);
                }
                phase += (long)s.N * s.C * phaseH * phaseW;
            }
        if (S > 1) HostThreads.For(s.N, n => InterleavePhases(s, phases, n, gx));
    }

    /// <summary>Positions p &lt; length with p ≡ phase (mod stride).</summary>
    static int PhaseLength(int length, int stride, int phase) => (length - phase + stride - 1) / stride;

    /// <summary>
    /// gx[n, c, a + S·i, b + S·j] = phase (a, b)[n, c, i, j] for image n, from the phases [N, C, phaseH, phaseW] laid
    /// one after another in (a, b) order. Per image, so it runs on every thread (done serially after each phase, this
    /// copy kept the stride-2 grad-input near one thread's rate on two).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void InterleavePhases(Conv2dShape s, float* phases, int n, float* gx)
    {
        int S = s.Stride, phasesH = Math.Min(S, s.H), phasesW = Math.Min(S, s.W);
        long* offsets = stackalloc long[phasesH * phasesW];
        long offset = 0;
        for (int a = 0; a < phasesH; a++)
            for (int b = 0; b < phasesW; b++)
            {
                offsets[a * phasesW + b] = offset;
                offset += (long)s.N * s.C * PhaseLength(s.H, S, a) * PhaseLength(s.W, S, b);
            }
        for (int c = 0; c < s.C; c++)
        {
            long plane = (long)n * s.C + c;
            for (int row = 0; row < s.H; row++)
            {
                int a = row % S, i = row / S, phaseH = PhaseLength(s.H, S, a);
                float* to = gx + (plane * s.H + row) * s.W;
                for (int b = 0; b < phasesW; b++)
                {
                    int phaseW = PhaseLength(s.W, S, b);
                    float* from = phases + offsets[a * phasesW + b] + (plane * phaseH + i) * phaseW;
                    for (int j = 0; j < phaseW; j++) to[b + S * j] = from[j];
                }
            }
        }
    }

    /// <summary>w_phase [C, K, tapsH, tapsW] = w[k, c, kh0 + S·(tapsH−1−u'), kw0 + S·(tapsW−1−v')], in this thread's <see cref="PhaseWeightsSlot"/>.</summary>
    static float* PhaseWeights(Conv2dShape s, float* w, int kh0, int kw0, int tapsH, int tapsW)
    {
        float* phase = ThreadScratch.Get(PhaseWeightsSlot, (long)s.C * s.K * tapsH * tapsW), to = phase;
        for (int c = 0; c < s.C; c++)
            for (int k = 0; k < s.K; k++)
            {
                float* from = w + ((long)k * s.C + c) * s.KH * s.KW;
                for (int u = tapsH - 1; u >= 0; u--)
                    for (int v = tapsW - 1; v >= 0; v--) *to++ = from[(kh0 + s.Stride * u) * s.KW + kw0 + s.Stride * v];
            }
        return phase;
    }

    /// <summary>
    /// A [rows, groups·taps] with A[m, (g, t)] = w[m·rowStride + g·groupStride + t] (t reversed when
    /// <paramref name="flipTaps"/>), packed as TileRows-row blocks each [depth][TileRows] (rows past the end zero),
    /// followed by the per-row initial values (<paramref name="bias"/> or zero) padded the same way.
    /// Written to this thread's <see cref="PackedWeightsSlot"/>.
    /// </summary>
    static float* PackWeights<TKernel>(float* w, int rows, int groups, int taps, int rowStride, int groupStride, bool flipTaps, float* bias)
        where TKernel : struct, IConvMicroKernel
    {
        int tileRows = TKernel.TileRows, paddedRows = RoundUp(rows, tileRows), depth = groups * taps;
        float* packed = ThreadScratch.Get(PackedWeightsSlot, (long)paddedRows * depth + paddedRows);
        for (int m = 0; m < paddedRows; m++)
        {
            float* to = packed + (long)(m - m % tileRows) * depth + m % tileRows;
            if (m >= rows)
            {
                for (int r = 0; r < depth; r++) to[r * tileRows] = 0f;
                continue;
            }
            for (int g = 0; g < groups; g++)
            {
                float* from = w + (long)m * rowStride + (long)g * groupStride;
                if (flipTaps) for (int t = 0; t < taps; t++, to += tileRows) *to = from[taps - 1 - t];
                else for (int t = 0; t < taps; t++, to += tileRows) *to = from[t];
            }
        }
        float* init = packed + (long)paddedRows * depth;
        for (int m = 0; m < paddedRows; m++) init[m] = m < rows && bias is not null ? bias[m] : 0f;
        return packed;
    }

    /// <summary>How the im2col operand is read: packed into panels, or in place from the padded image as whole vectors, split half-vectors or even lanes.</summary>
    enum ColumnSource { Packed, Whole, Split, EvenLanes }

    /// <summary>
    /// In place when every <paramref name="segment"/> of output positions lies in one output row and the stride is 1
    /// (whole vectors when two segments do) or 2 (every other float); otherwise packed.
    /// </summary>
    static ColumnSource ChooseColumnSource(int stride, int outW, int segment) =>
        outW % segment != 0 ? ColumnSource.Packed
        : stride == 1 ? (outW % (2 * segment) == 0 ? ColumnSource.Whole : ColumnSource.Split)
        : stride == 2 ? ColumnSource.EvenLanes
        : ColumnSource.Packed;

    /// <summary>
    /// output[n][m][p] = init[m] + Σ_r A[m, r]·im2col(image n)[r, p] for every image, output channel m &lt; rows and
    /// position p: images (split into column chunks when there are fewer images than threads) are the parallel work.
    /// </summary>
    static void OuterProducts<TKernel>(int images, ZeroPaddedImage padded, Im2colMatrix columns, float* source, long sourceStride,
        float* weights, int rows, float* output, InputActivation activation) where TKernel : struct, IConvMicroKernel
    {
        var mode = ChooseColumnSource(columns.Stride, columns.OutW, TKernel.TileColumns / 4);
        switch (mode)
        {
            case ColumnSource.Split: OuterProducts<TKernel, SplitSegments>(mode, images, padded, columns, source, sourceStride, weights, rows, output, activation); break;
            case ColumnSource.EvenLanes: OuterProducts<TKernel, EvenLanes>(mode, images, padded, columns, source, sourceStride, weights, rows, output, activation); break;
            default: OuterProducts<TKernel, WholeSegments>(mode, images, padded, columns, source, sourceStride, weights, rows, output, activation); break;
        }
    }

    static void OuterProducts<TKernel, TLayout>(ColumnSource mode, int images, ZeroPaddedImage padded, Im2colMatrix columns, float* source,
        long sourceStride, float* weights, int rows, float* output, InputActivation activation) where TKernel : struct, IConvMicroKernel where TLayout : struct, ISegmentLayout
    {
        int tileColumns = TKernel.TileColumns;
        int depth = columns.Depth, positions = columns.Positions;
        bool inPlace = mode != ColumnSource.Packed;
        int* rowOffsets = (int*)ThreadScratch.Get(RowOffsetsSlot, depth);
        for (int r = 0; r < depth; r++) rowOffsets[r] = inPlace ? columns.RowOffset(r) : r * tileColumns;
        int panels = DivideRoundUp(positions, tileColumns);
        int chunks = Math.Min(panels, DivideRoundUp(2 * HostThreads.Count, images));
        int panelsPerChunk = DivideRoundUp(panels, chunks);
        chunks = DivideRoundUp(panels, panelsPerChunk);
        HostThreads.For(images * chunks, item =>
        {
            int n = item / chunks, first = item % chunks * panelsPerChunk;
            OuterProductPanels<TKernel, TLayout>(padded, columns, inPlace, rowOffsets, source + n * sourceStride, activation, weights, rows,
                output + (long)n * rows * positions, first, Math.Min(panels, first + panelsPerChunk));
        });
    }

    /// <summary>Panels [firstPanel, endPanel) of one image: pad it, then for each panel every block of output channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void OuterProductPanels<TKernel, TLayout>(ZeroPaddedImage padded, Im2colMatrix columns, bool inPlace, int* rowOffsets, float* source,
        InputActivation activation, float* weights, int rows, float* output, int firstPanel, int endPanel) where TKernel : struct, IConvMicroKernel where TLayout : struct, ISegmentLayout
    {
        int tileRows = TKernel.TileRows, tileColumns = TKernel.TileColumns, segment = tileColumns / 4;
        int depth = columns.Depth, positions = columns.Positions;
        float* init = weights + (long)RoundUp(rows, tileRows) * depth;
        float* image = ThreadScratch.Get(ImageSlot, padded.Length + OverreadSlack);
        padded.Fill(source, image, activation);
        float* panel = ThreadScratch.Get(PanelSlot, (long)depth * tileColumns + tileRows * tileColumns);
        float* edgeTile = panel + (long)depth * tileColumns;
        float** segments = stackalloc float*[4];
        for (int j = firstPanel; j < endPanel; j++)
        {
            int p0 = j * tileColumns, width = Math.Min(tileColumns, positions - p0);
            // In place each segment lies in one output row; segments past the last position read the image start (discarded).
            if (!inPlace) columns.Pack(image, 0, depth, p0, width, panel, tileColumns);
            for (int q = 0; q < 4; q++)
                segments[q] = !inPlace ? panel + q * segment : q * segment < width ? image + columns.PositionOffset(p0 + q * segment) : image;
            for (int m0 = 0; m0 < rows; m0 += tileRows)
            {
                int height = Math.Min(tileRows, rows - m0);
                float* c = output + (long)m0 * positions + p0;
                if (height == tileRows && width == tileColumns)
                {
                    TKernel.OuterProduct<TLayout>(depth, weights + (long)m0 * depth, rowOffsets, segments[0], segments[1], segments[2], segments[3], init + m0, c, positions);
                    continue;
                }
                TKernel.OuterProduct<TLayout>(depth, weights + (long)m0 * depth, rowOffsets, segments[0], segments[1], segments[2], segments[3], init + m0, edgeTile, tileColumns);
                for (int i = 0; i < height; i++)
                    new ReadOnlySpan<float>(edgeTile + i * tileColumns, width).CopyTo(new Span<float>(c + (long)i * positions, width));
            }
        }
    }

    static void BackwardWeight<TKernel>(Conv2dShape s, float* x, float* gy, float* gw, InputActivation activation) where TKernel : struct, IConvMicroKernel
    {
        int dotRows = TKernel.DotRows, dotColumns = TKernel.DotColumns;
        int depth = s.C * s.KH * s.KW, positions = s.OutH * s.OutW;
        int paddedK = RoundUp(s.K, dotRows), paddedDepth = RoundUp(depth, dotColumns);
        var padded = new ZeroPaddedImage(s.C, s.H, s.W, s.Pad, s.Pad, s.H + 2 * s.Pad, s.W + 2 * s.Pad);
        var columns = new Im2colMatrix(s.C, padded.Height, padded.Width, s.KH, s.KW, s.Stride, s.OutH, s.OutW);
        var mode = ChooseColumnSource(s.Stride, s.OutW, TKernel.VectorWidth / 2);
        // Group images so the group's gy rows (paddedK x columns) stay within ~256 KB of L2; the groups depend on
        // the shape alone, so the order of the final sum (and its bits) does not depend on the thread count.
        int maxColumns = Math.Max(positions, 65536 / paddedK);
        int groups = DivideRoundUp(s.N, Math.Max(1, maxColumns / positions));
        int imagesPerGroup = DivideRoundUp(s.N, groups);
        int* rowOffsets = (int*)ThreadScratch.Get(RowOffsetsSlot, paddedDepth);
        for (int r = 0; r < paddedDepth; r++) rowOffsets[r] = r < depth ? columns.RowOffset(r) : 0;
        if (mode == ColumnSource.Packed) rowOffsets = null;
        long partialLength = (long)paddedK * paddedDepth;
        float* partials = ThreadScratch.Get(PartialsSlot, groups * partialLength);
        HostThreads.For(groups, g =>
        {
            int n0 = g * imagesPerGroup, count = Math.Min(imagesPerGroup, s.N - n0);
            float* groupX = x + (long)n0 * s.C * s.H * s.W, groupGy = gy + (long)n0 * s.K * positions, partial = partials + g * partialLength;
            switch (mode)
            {
                case ColumnSource.Split: WeightGradientOfGroup<TKernel, SplitSegments>(s, padded, columns, rowOffsets, groupX, activation, groupGy, count, partial, paddedDepth); break;
                case ColumnSource.EvenLanes: WeightGradientOfGroup<TKernel, EvenLanes>(s, padded, columns, rowOffsets, groupX, activation, groupGy, count, partial, paddedDepth); break;
                default: WeightGradientOfGroup<TKernel, WholeSegments>(s, padded, columns, rowOffsets, groupX, activation, groupGy, count, partial, paddedDepth); break;
            }
        });
        for (int k = 0; k < s.K; k++)
            for (int r = 0; r < depth; r++)
            {
                float sum = 0f;
                for (int g = 0; g < groups; g++) sum += partials[g * partialLength + (long)k * paddedDepth + r];
                gw[(long)k * depth + r] += sum;
            }
    }

    /// <summary>
    /// partial [paddedK, paddedDepth] = gy rows · im2col rowsᵀ over <paramref name="count"/> images. With
    /// <paramref name="rowOffsets"/> (stride 1 or 2, output rows of at least half a vector) the im2col rows are read from
    /// the padded images in place; without, DotColumns of them at a time are packed side by side first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WeightGradientOfGroup<TKernel, TLayout>(Conv2dShape s, ZeroPaddedImage padded, Im2colMatrix columns, int* rowOffsets,
        float* x, InputActivation activation, float* gy, int count, float* partial, int paddedDepth) where TKernel : struct, IConvMicroKernel where TLayout : struct, ISegmentLayout
    {
        int dotRows = TKernel.DotRows, dotColumns = TKernel.DotColumns, width = TKernel.VectorWidth;
        int positions = columns.Positions, paddedK = RoundUp(s.K, dotRows);
        int used = count * positions, length = RoundUp(used, width), vectors = length / width;
        int canvas = checked((int)padded.Length);
        float* images = ThreadScratch.Get(ImageSlot, (long)count * canvas + OverreadSlack);
        for (int i = 0; i < count; i++) padded.Fill(x + (long)i * s.C * s.H * s.W, images + (long)i * canvas, activation);
        // gy rows of the group side by side: row k holds gy[n0.., k, :] image after image, zero past the end.
        float* gyRows = ThreadScratch.Get(GyRowsSlot, (long)paddedK * length);
        for (int k = 0; k < paddedK; k++)
        {
            var row = new Span<float>(gyRows + (long)k * length, length);
            if (k >= s.K) { row.Clear(); continue; }
            for (int i = 0; i < count; i++)
                new ReadOnlySpan<float>(gy + ((long)i * s.K + k) * positions, positions).CopyTo(row.Slice(i * positions));
            row.Slice(used).Clear();
        }
        // Half-vector segments: in place, each lies in one output row of one image (past the end: the first image's start, times gy's zeros).
        int segment = width / 2;
        int* segmentOffsets = (int*)ThreadScratch.Get(SegmentOffsetsSlot, 2 * vectors);
        for (int t = 0, at = 0; t < 2 * vectors; t++, at += segment)
            segmentOffsets[t] = rowOffsets is null ? at : at < used ? at / positions * canvas + columns.PositionOffset(at % positions) : 0;
        int* panelRows = stackalloc int[dotColumns];
        for (int j = 0; j < dotColumns; j++) panelRows[j] = j * length;
        float* panel = rowOffsets is null ? ThreadScratch.Get(PanelSlot, (long)dotColumns * length) : null;
        new Span<float>(partial, paddedK * paddedDepth).Clear();
        if (rowOffsets is not null)
        {
            // In place: each block of gy rows stays in L1 while every tap block streams past it.
            for (int k0 = 0; k0 < paddedK; k0 += dotRows)
                for (int r0 = 0; r0 < paddedDepth; r0 += dotColumns)
                    TKernel.DotProducts<TLayout>(vectors, gyRows + (long)k0 * length, length, images, segmentOffsets, rowOffsets + r0,
                        partial + (long)k0 * paddedDepth + r0, paddedDepth);
            return;
        }
        for (int r0 = 0; r0 < paddedDepth; r0 += dotColumns)
        {
            for (int i = 0; i < count; i++) columns.Pack(images + (long)i * canvas, r0, dotColumns, 0, positions, panel + i * positions, length);
            for (int j = 0; j < dotColumns; j++) new Span<float>(panel + (long)j * length + used, length - used).Clear();
            for (int k0 = 0; k0 < paddedK; k0 += dotRows)
                TKernel.DotProducts<TLayout>(vectors, gyRows + (long)k0 * length, length, panel, segmentOffsets, panelRows,
                    partial + (long)k0 * paddedDepth + r0, paddedDepth);
        }
    }

    static int RoundUp(int value, int multiple) => DivideRoundUp(value, multiple) * multiple;

    static int DivideRoundUp(int value, int divisor) => (value + divisor - 1) / divisor;
}
