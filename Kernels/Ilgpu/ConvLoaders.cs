using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

// The 16-byte loaders of the three implicit GEMMs of a 3×3 convolution with padding 1 and stride 1 or 2 (every 3×3 of the
// paper's RevNets and ResNets), for images whose output width is a multiple of 4 (and, for the input gradient, whose input
// width is). The 1×1 convolutions use ChannelRows and ChannelColumns; any other shape takes the scalar streams of
// Conv2dStreams.cs. See Conv2dIlgpu for which loader feeds which GEMM.

/// <summary>The stride of a convolution as a compile-time constant (a struct type argument of its loaders).</summary>
internal interface IConvStride
{
    int Stride { get; }
}

internal struct Stride1 : IConvStride
{
    public readonly int Stride => 1;
}

internal struct Stride2 : IConvStride
{
    public readonly int Stride => 2;
}

/// <summary>
/// Where a thread finds the one value each side of its 16-byte word of an image row (a 3×3 window reaches one column
/// beyond it): in the word its neighbouring lane loaded (<see cref="NeighbourLanes"/>, a warp shuffle), which needs each
/// image row to sit in consecutive lanes of one warp; or by loading the neighbouring words itself
/// (<see cref="NeighbourLoads"/>), for any row width. A compile-time choice, made per launch from the shapes.
/// </summary>
internal interface INeighbours
{
    bool FromLanes { get; }
}

/// <summary>Neighbours by warp shuffle: one 16-byte load per word, every lane of it used.</summary>
public struct NeighbourLanes : INeighbours
{
    /// <summary>True: neighbours come from other lanes by shuffle, not from a second load.</summary>
    public readonly bool FromLanes => true;
}

/// <summary>Neighbours by the thread's own loads (of which the GPU keeps only the lane it uses).</summary>
internal struct NeighbourLoads : INeighbours
{
    public readonly bool FromLanes => false;
}

/// <summary>
/// The values of one input row under four consecutive output columns of a 3×3 window with padding 1: at stride S the
/// window of output column ow starts at input column S·ow − 1. Output columns come four at a time from ow0, a multiple
/// of 4, so the input word at <c>start</c> = S·ow0 is 16-byte aligned: at stride 1 it and the value each side of it
/// give all three taps; at stride 2 it, the next word and the value before. Three taps of four values (12 GEMM
/// elements) from one or two 16-byte loads, with no shifting by a variable amount. The input-gradient gather reads gy
/// the same way with the taps mirrored.
/// </summary>
internal readonly struct WindowRow
{
    /// <summary>Input column start − 1 (zero when it is padding).</summary>
    public readonly float Before;

    /// <summary>Input columns start .. start + 3, and (stride 2) start + 4 .. start + 7; at stride 1 only Next.V0 (start + 4) is set.</summary>
    public readonly Quad Current, Next;

    WindowRow(float before, Quad current, Quad next) => (Before, Current, Next) = (before, current, next);

    /// <summary>
    /// The window row whose input row starts at 16-byte word <paramref name="rowWord"/> of <paramref name="quads"/>, at
    /// aligned column <paramref name="start"/> of a row <paramref name="width"/> wide, with <typeparamref name="TInput"/>
    /// applied to what lies inside the image (padding stays zero). With <see cref="NeighbourLanes"/> every lane of the warp
    /// must call this (the shuffles), the lane before holding column start − 4 of the same row when start &gt; 0.
    /// </summary>
    public static WindowRow Load<TStride, TNeighbours, TInput>(ArrayView<Quad> quads, int rowWord, int start, int width, bool rowInside, TInput input, Quad parameters)
        where TStride : struct, IConvStride where TNeighbours : struct, INeighbours where TInput : struct, IConvInput
    {
        bool hasBefore = rowInside && start > 0;
        int word = rowWord + (start >> 2);
        var current = rowInside ? quads[word] : default;
        if (!default(TInput).Identity && rowInside) current = input.Apply(current, parameters);
        if (default(TStride).Stride == 1)
        {
            bool hasAfter = rowInside && start + 4 < width;
            float before, after;
            if (default(TNeighbours).FromLanes)
            {
                before = Warp.ShuffleUp(current.V3, 1);
                after = Warp.ShuffleDown(current.V0, 1);
            }
            else
            {
                before = hasBefore ? quads[word - 1].V3 : 0f;
                after = hasAfter ? quads[word + 1].V0 : 0f;
                if (!default(TInput).Identity)
                {
                    before = input.Apply(before, parameters);
                    after = input.Apply(after, parameters);
                }
            }
            return new WindowRow(hasBefore ? before : 0f, current, new Quad(hasAfter ? after : 0f, 0f, 0f, 0f));
        }
        bool hasNext = rowInside && start + 4 < width;
        var next = hasNext ? quads[word + 1] : default;
        if (!default(TInput).Identity && hasNext) next = input.Apply(next, parameters);
        float last;
        if (default(TNeighbours).FromLanes) last = Warp.ShuffleUp(next.V3, 1);
        else
        {
            last = hasBefore ? quads[word - 1].V3 : 0f;
            if (!default(TInput).Identity) last = input.Apply(last, parameters);
        }
        return new WindowRow(hasBefore ? last : 0f, current, next);
    }

    /// <summary>Tap <paramref name="tap"/> (0, 1, 2) at the four output columns: input columns S·(ow0 + j) − 1 + tap.</summary>
    public Quad Tap<TStride>(int tap) where TStride : struct, IConvStride =>
        default(TStride).Stride == 1
            ? tap switch
            {
                0 => new Quad(Before, Current.V0, Current.V1, Current.V2),
                1 => Current,
                _ => new Quad(Current.V1, Current.V2, Current.V3, Next.V0),
            }
            : tap switch
            {
                0 => new Quad(Before, Current.V1, Current.V3, Next.V1),
                1 => new Quad(Current.V0, Current.V2, Next.V0, Next.V2),
                _ => new Quad(Current.V1, Current.V3, Next.V1, Next.V3),
            };

    /// <summary>
    /// True when <see cref="NeighbourLanes"/> can serve a loader: each row of <paramref name="rowWords"/> words sits in
    /// consecutive lanes of one warp, from a lane that starts a row. Consecutive words run along
    /// <paramref name="runWords"/> consecutive tasks from a multiple of it (tasks thread, thread + threads, ...), and
    /// threads come in whole warps.
    /// </summary>
    public static bool RowsInLanes(int rowWords, int runWords, int threads, int warpSize) =>
        rowWords > 0 && warpSize % rowWords == 0 && runWords % rowWords == 0 && threads % warpSize == 0
        && (runWords % warpSize == 0 || warpSize % runWords == 0);
}

/// <summary>
/// B of the forward GEMM, im2col(x) [C·9, N·OutH·OutW]: line = output position (n, oh, ow), k = (c, kh, kw). A task is
/// one (c, kh) triplet of K rows at four consecutive output columns: one <see cref="WindowRow"/>, stashed as three
/// 16-byte stores. K steps are whole triplets (Depth a multiple of 3, here 12), and a task's word moves by constants
/// between steps. With <see cref="BatchNormReluInput"/> the loads normalise x on the fly; each step's channels'
/// parameters are staged in shared memory once per group.
/// </summary>
internal struct Im2colTriplets<TSide, TStride, TNeighbours, TInput> : ITileLoader<Im2colTriplets<TSide, TStride, TNeighbours, TInput>>
    where TSide : struct, ITileSide where TStride : struct, IConvStride where TNeighbours : struct, INeighbours where TInput : struct, IConvInput
{
    readonly ArrayView<float> x;
    readonly Conv2dShape s;
    readonly TInput input;
    int kEnd, firstChannel, stepWords, wrapWords;
    ArrayView<Quad> staged;
    Slot s0, s1, s2, s3;

    public struct Slot
    {
        public int Active, Cq, Tr, K, Channel, Row, Word, Ih0, Start;
        public Quad Tap0, Tap1, Tap2;
    }

    public Im2colTriplets(ArrayView<float> x, Conv2dShape s, TInput input)
    {
        this.x = x;
        this.s = s;
        this.input = input;
        kEnd = firstChannel = stepWords = wrapWords = 0;
        staged = default;
        s0 = s1 = s2 = s3 = default;
    }

    static int Triplets => default(TSide).Depth / 3;

    readonly int Tasks => Triplets * (default(TSide).Lines / 4);

    public readonly int Slots => LoaderSlots.Count(Tasks, default(TSide).Threads);

    public readonly int MaxSlots => LoaderSlots.Max;

    public readonly Im2colTriplets<TSide, TStride, TNeighbours, TInput> Start(int origin, int kBegin, int kEnd, int thread)
    {
        var r = this;
        r.kEnd = kEnd;
        r.firstChannel = kBegin / 9;
        // A step moves Triplets kernel rows on: whole channels, then rows within one, then one more channel when the row wraps.
        int plane = s.H * s.W;
        r.stepWords = (Triplets / 3 * plane + Triplets % 3 * s.W) >> 2;
        r.wrapWords = (plane - 3 * s.W) >> 2;
        int slots = Slots, threads = default(TSide).Threads;
        r.s0 = StartSlot(origin, kBegin, thread);
        if (slots > 1) r.s1 = StartSlot(origin, kBegin, thread + threads);
        if (slots > 2) r.s2 = StartSlot(origin, kBegin, thread + 2 * threads);
        if (slots > 3) r.s3 = StartSlot(origin, kBegin, thread + 3 * threads);
        return r;
    }

    readonly Slot StartSlot(int origin, int kBegin, int task)
    {
        var t = new Slot();
        int quadsPerLine = default(TSide).Lines / 4;
        t.Cq = task % quadsPerLine;
        t.Tr = task / quadsPerLine;
        int column = origin + t.Cq * 4, outHw = s.OutH * s.OutW;
        t.Active = task < Tasks && column < s.N * outHw ? 1 : 0;
        if (t.Active == 0) return t;
        int n = column / outHw, q = column - n * outHw, oh = q / s.OutW, ow0 = q - oh * s.OutW;
        t.K = kBegin + t.Tr * 3;
        t.Channel = t.K / 9;
        t.Row = t.K / 3 - t.Channel * 3;
        t.Ih0 = oh * default(TStride).Stride - 1;
        t.Start = ow0 * default(TStride).Stride;
        t.Word = (((n * s.C + t.Channel) * s.H + t.Ih0 + t.Row) * s.W) >> 2;
        return t;
    }

    public void Fetch()
    {
        int slots = Slots;
        var quads = x.Cast<Quad>();
        s0 = FetchSlot(s0, quads);
        if (slots > 1) s1 = FetchSlot(s1, quads);
        if (slots > 2) s2 = FetchSlot(s2, quads);
        if (slots > 3) s3 = FetchSlot(s3, quads);
    }

    readonly Slot FetchSlot(Slot t, ArrayView<Quad> quads)
    {
        int ih = t.Ih0 + t.Row;
        bool inside = t.Active != 0 && t.K < kEnd && ih >= 0 && ih < s.H;
        var p = default(TInput).Identity || !inside ? default : staged[t.Channel - firstChannel];
        var row = WindowRow.Load<TStride, TNeighbours, TInput>(quads, t.Word, t.Start, s.W, inside, input, p);
        t.Tap0 = row.Tap<TStride>(0);
        t.Tap1 = row.Tap<TStride>(1);
        t.Tap2 = row.Tap<TStride>(2);
        t.K += default(TSide).Depth;
        t.Channel += Triplets / 3;
        t.Row += Triplets % 3;
        t.Word += stepWords;
        if (t.Row >= 3)
        {
            t.Row -= 3;
            t.Channel++;
            t.Word += wrapWords;
        }
        return t;
    }

    public readonly void Stash(ArrayView<float> tile, int at)
    {
        int slots = Slots;
        var quads = tile.Cast<Quad>();
        StashSlot(s0, quads, at);
        if (slots > 1) StashSlot(s1, quads, at);
        if (slots > 2) StashSlot(s2, quads, at);
        if (slots > 3) StashSlot(s3, quads, at);
    }

    readonly void StashSlot(Slot t, ArrayView<Quad> quads, int at)
    {
        // Tasks beyond the tile's are no line at all; those past C's columns stash zeros.
        if (Tasks % default(TSide).Threads != 0 && t.Tr >= Triplets) return;
        int lines = default(TSide).Lines, i = (at + t.Tr * 3 * lines) / 4 + t.Cq;
        quads[i] = t.Tap0;
        quads[i + lines / 4] = t.Tap1;
        quads[i + lines / 2] = t.Tap2;
    }

    public void Stage(ArrayView<Quad> staged, int thread, int threads)
    {
        if (default(TInput).Identity) return;
        this.staged = staged;
        int count = IntrinsicMath.Min(s.C, (kEnd - 1) / 9 + 1) - firstChannel;
        for (int i = thread; i < count; i += threads)
            staged[i] = input.Channel(firstChannel + i);
    }

    public readonly int StagedWords(int sliceK) => default(TInput).Identity ? 0 : sliceK / 9 + 2;
}

/// <summary>
/// B of the weight-gradient GEMM, im2col(x)ᵀ [N·OutH·OutW, C·9]: line = (c, kh, kw), k = output position. A task is one
/// (c, kh) triplet of lines at four consecutive output positions along K: the same <see cref="WindowRow"/> as the
/// forward, stashed transposed (twelve floats, each line's four K values one k-row apart). Triplets may straddle the
/// tile's edges; a task writes only the lines inside it. The channel is fixed per task, so fused normalisation reads its
/// parameters once. With <see cref="NeighbourLanes"/> a K step holds whole image rows (Depth a multiple of OutW).
/// </summary>
internal struct Im2colTransposedTriplets<TSide, TStride, TNeighbours, TInput> : ITileLoader<Im2colTransposedTriplets<TSide, TStride, TNeighbours, TInput>>
    where TSide : struct, ITileSide where TStride : struct, IConvStride where TNeighbours : struct, INeighbours where TInput : struct, IConvInput
{
    readonly ArrayView<float> x;
    readonly Conv2dShape s;
    readonly TInput input;
    int kEnd;
    Slot s0, s1, s2, s3;

    public struct Slot
    {
        public int Active, Kq, Local, Row, K, Plane, Oh, Ow0;
        public Quad Params, Tap0, Tap1, Tap2;
    }

    public Im2colTransposedTriplets(ArrayView<float> x, Conv2dShape s, TInput input)
    {
        this.x = x;
        this.s = s;
        this.input = input;
        kEnd = 0;
        s0 = s1 = s2 = s3 = default;
    }

    /// <summary>Triplets a tile can touch: its lines / 3, plus one cut at each edge.</summary>
    static int Triplets => default(TSide).Lines / 3 + 2;

    readonly int Tasks => Triplets * (default(TSide).Depth / 4);

    public readonly int Slots => LoaderSlots.Count(Tasks, default(TSide).Threads);

    public readonly int MaxSlots => LoaderSlots.Max;

    public readonly Im2colTransposedTriplets<TSide, TStride, TNeighbours, TInput> Start(int origin, int kBegin, int kEnd, int thread)
    {
        var r = this;
        r.kEnd = kEnd;
        int slots = Slots, threads = default(TSide).Threads;
        r.s0 = StartSlot(origin, kBegin, thread);
        if (slots > 1) r.s1 = StartSlot(origin, kBegin, thread + threads);
        if (slots > 2) r.s2 = StartSlot(origin, kBegin, thread + 2 * threads);
        if (slots > 3) r.s3 = StartSlot(origin, kBegin, thread + 3 * threads);
        return r;
    }

    readonly Slot StartSlot(int origin, int kBegin, int task)
    {
        var t = new Slot();
        int quadsPerLine = default(TSide).Depth / 4;
        t.Kq = task % quadsPerLine;
        int triplet = origin / 3 + task / quadsPerLine;
        t.Local = triplet * 3 - origin;
        t.Active = task < Tasks && triplet < s.C * 3 && t.Local < default(TSide).Lines ? 1 : 0;
        // Inactive tasks still walk K (their lanes take part in the shuffles) over a valid triplet.
        int c = IntrinsicMath.Min(triplet, s.C * 3 - 1) / 3;
        t.Row = IntrinsicMath.Min(triplet, s.C * 3 - 1) - c * 3;
        if (!default(TInput).Identity && t.Active != 0) t.Params = input.Channel(c);
        t.K = kBegin + t.Kq * 4;
        int outHw = s.OutH * s.OutW, n = t.K / outHw, q = t.K - n * outHw;
        t.Oh = q / s.OutW;
        t.Ow0 = q - t.Oh * s.OutW;
        t.Plane = (n * s.C + c) * s.H * s.W;
        return t;
    }

    public void Fetch()
    {
        int slots = Slots;
        var quads = x.Cast<Quad>();
        s0 = FetchSlot(s0, quads);
        if (slots > 1) s1 = FetchSlot(s1, quads);
        if (slots > 2) s2 = FetchSlot(s2, quads);
        if (slots > 3) s3 = FetchSlot(s3, quads);
    }

    readonly Slot FetchSlot(Slot t, ArrayView<Quad> quads)
    {
        int stride = default(TStride).Stride, ih = t.Oh * stride - 1 + t.Row;
        bool inside = t.Active != 0 && t.K < kEnd && ih >= 0 && ih < s.H;
        var row = WindowRow.Load<TStride, TNeighbours, TInput>(quads, (t.Plane + ih * s.W) >> 2, t.Ow0 * stride, s.W, inside, input, t.Params);
        t.Tap0 = row.Tap<TStride>(0);
        t.Tap1 = row.Tap<TStride>(1);
        t.Tap2 = row.Tap<TStride>(2);
        int depth = default(TSide).Depth;
        t.K += depth;
        t.Ow0 += depth;
        while (t.Ow0 >= s.OutW)
        {
            t.Ow0 -= s.OutW;
            t.Oh++;
        }
        while (t.Oh >= s.OutH)
        {
            t.Oh -= s.OutH;
            t.Plane += s.C * s.H * s.W;
        }
        return t;
    }

    public readonly void Stash(ArrayView<float> tile, int at)
    {
        int slots = Slots;
        StashSlot(s0, tile, at);
        if (slots > 1) StashSlot(s1, tile, at);
        if (slots > 2) StashSlot(s2, tile, at);
        if (slots > 3) StashSlot(s3, tile, at);
    }

    static void StashSlot(Slot t, ArrayView<float> tile, int at)
    {
        if (t.Active == 0) return;
        StashLine(t.Tap0, t.Local, t.Kq, tile, at);
        StashLine(t.Tap1, t.Local + 1, t.Kq, tile, at);
        StashLine(t.Tap2, t.Local + 2, t.Kq, tile, at);
    }

    static void StashLine(Quad values, int line, int kq, ArrayView<float> tile, int at)
    {
        int lines = default(TSide).Lines;
        if (line < 0 || line >= lines) return;
        int i = at + kq * 4 * lines + line;
        tile[i] = values.V0;
        tile[i + lines] = values.V1;
        tile[i + 2 * lines] = values.V2;
        tile[i + 3 * lines] = values.V3;
    }

    public readonly void Stage(ArrayView<Quad> staged, int thread, int threads) { }

    public readonly int StagedWords(int sliceK) => 0;
}

/// <summary>
/// B of the input-gradient GEMM, gy gathered to input positions [K·9, N·H·W]: line = (n, ih, iw), k = (k, kh, kw),
/// element gy[n, k, oh, ow] with S·oh = ih + 1 − kh, S·ow = iw + 1 − kw (zero where that has no solution). A task is one
/// (k, kh) triplet at four consecutive input columns. Stride 1 is the forward's window mirrored (taps 2, 1, 0); at
/// stride 2 the four columns need gy columns iw0/2 .. iw0/2 + 2, which lie in the word at (iw0/2) rounded down to 4 and
/// (every other task) the first value of the next, and alternate lanes are zero. K steps are whole output channels
/// (Depth 18 = 2 × 9), so a task's kernel row, and with it its gy row, is fixed and only the channel plane moves.
/// </summary>
internal struct Col2imTriplets<TSide, TStride, TNeighbours> : ITileLoader<Col2imTriplets<TSide, TStride, TNeighbours>>
    where TSide : struct, ITileSide where TStride : struct, IConvStride where TNeighbours : struct, INeighbours
{
    readonly ArrayView<float> gy;
    readonly Conv2dShape s;
    int kEnd;
    Slot s0, s1, s2, s3;

    public struct Slot
    {
        public int Active, Cq, Tr, K, RowWord, Iw0, Inside;
        public Quad Tap0, Tap1, Tap2;
    }

    public Col2imTriplets(ArrayView<float> gy, Conv2dShape s)
    {
        this.gy = gy;
        this.s = s;
        kEnd = 0;
        s0 = s1 = s2 = s3 = default;
    }

    static int Triplets => default(TSide).Depth / 3;

    readonly int Tasks => Triplets * (default(TSide).Lines / 4);

    public readonly int Slots => LoaderSlots.Count(Tasks, default(TSide).Threads);

    public readonly int MaxSlots => LoaderSlots.Max;

    public readonly Col2imTriplets<TSide, TStride, TNeighbours> Start(int origin, int kBegin, int kEnd, int thread)
    {
        var r = this;
        r.kEnd = kEnd;
        int slots = Slots, threads = default(TSide).Threads;
        r.s0 = StartSlot(origin, kBegin, thread);
        if (slots > 1) r.s1 = StartSlot(origin, kBegin, thread + threads);
        if (slots > 2) r.s2 = StartSlot(origin, kBegin, thread + 2 * threads);
        if (slots > 3) r.s3 = StartSlot(origin, kBegin, thread + 3 * threads);
        return r;
    }

    readonly Slot StartSlot(int origin, int kBegin, int task)
    {
        var t = new Slot();
        int quadsPerLine = default(TSide).Lines / 4;
        t.Cq = task % quadsPerLine;
        t.Tr = task / quadsPerLine;
        int column = origin + t.Cq * 4, hw = s.H * s.W;
        t.Active = task < Tasks && column < s.N * hw ? 1 : 0;
        if (t.Active == 0) return t;
        int n = column / hw, q = column - n * hw, ih = q / s.W;
        t.Iw0 = q - ih * s.W;
        t.K = kBegin + t.Tr * 3;
        int channel = t.K / 9, kh = t.K / 3 - channel * 3;
        // Output row oh with S·oh = ih + 1 − kh; none when that is negative, past the output or (stride 2) odd.
        int rowIndex = ih + 1 - kh, stride = default(TStride).Stride, oh = rowIndex / stride;
        t.Inside = rowIndex >= 0 && rowIndex - oh * stride == 0 && oh < s.OutH ? 1 : 0;
        t.RowWord = (((n * s.K + channel) * s.OutH + oh) * s.OutW) >> 2;
        return t;
    }

    public void Fetch()
    {
        int slots = Slots;
        var quads = gy.Cast<Quad>();
        s0 = FetchSlot(s0, quads);
        if (slots > 1) s1 = FetchSlot(s1, quads);
        if (slots > 2) s2 = FetchSlot(s2, quads);
        if (slots > 3) s3 = FetchSlot(s3, quads);
    }

    readonly Slot FetchSlot(Slot t, ArrayView<Quad> quads)
    {
        bool inside = t.Active != 0 && t.Inside != 0 && t.K < kEnd;
        if (default(TStride).Stride == 1)
        {
            var row = WindowRow.Load<Stride1, TNeighbours, RawInput>(quads, t.RowWord, t.Iw0, s.OutW, inside, default, default);
            // Input column iw takes tap kw from gy column iw + 1 − kw: the forward's window read backwards.
            t.Tap0 = row.Tap<Stride1>(2);
            t.Tap1 = row.Tap<Stride1>(1);
            t.Tap2 = row.Tap<Stride1>(0);
        }
        else
        {
            int h = t.Iw0 >> 1, word = h & ~3;
            bool odd = (h & 2) != 0;
            var first = inside ? quads[t.RowWord + (word >> 2)] : default;
            float following;
            if (default(TNeighbours).FromLanes) following = Warp.ShuffleDown(first.V0, 1);
            else following = inside && odd && word + 4 < s.OutW ? quads[t.RowWord + (word >> 2) + 1].V0 : 0f;
            float g0 = odd ? first.V2 : first.V0, g1 = odd ? first.V3 : first.V1;
            float g2 = inside && h + 2 < s.OutW ? (odd ? following : first.V2) : 0f;
            // Input column iw0 + j takes tap kw from gy column (iw0 + j + 1 − kw) / 2 when that is whole.
            t.Tap0 = new Quad(0f, g1, 0f, g2);
            t.Tap1 = new Quad(g0, 0f, g1, 0f);
            t.Tap2 = new Quad(0f, g0, 0f, g1);
        }
        // Depth holds whole output channels: the kernel row stays, the channel moves on.
        t.K += default(TSide).Depth;
        t.RowWord += Triplets / 3 * (s.OutH * s.OutW >> 2);
        return t;
    }

    public readonly void Stash(ArrayView<float> tile, int at)
    {
        int slots = Slots;
        var quads = tile.Cast<Quad>();
        StashSlot(s0, quads, at);
        if (slots > 1) StashSlot(s1, quads, at);
        if (slots > 2) StashSlot(s2, quads, at);
        if (slots > 3) StashSlot(s3, quads, at);
    }

    readonly void StashSlot(Slot t, ArrayView<Quad> quads, int at)
    {
        if (Tasks % default(TSide).Threads != 0 && t.Tr >= Triplets) return;
        int lines = default(TSide).Lines, i = (at + t.Tr * 3 * lines) / 4 + t.Cq;
        quads[i] = t.Tap0;
        quads[i + lines / 4] = t.Tap1;
        quads[i + lines / 2] = t.Tap2;
    }

    public readonly void Stage(ArrayView<Quad> staged, int thread, int threads) { }

    public readonly int StagedWords(int sliceK) => 0;
}

/// <summary>
/// A of the input-gradient GEMM of a 3×3 convolution: w [K, C, 9] seen as [C, K·9], element (c, k·9 + tap) =
/// w[(k·C + c)·9 + tap]. For one output channel k the tile's rows c0 .. c0 + Lines are one contiguous run of Lines·9
/// floats, so a K step of whole output channels (Depth a multiple of 9, here 18) is read as 16-byte words and stashed
/// transposed, each float to its (tap, row). Needs C and c0 multiples of 4.
/// </summary>
internal struct WeightTaps<TSide> : ITileLoader<WeightTaps<TSide>> where TSide : struct, ITileSide
{
    readonly ArrayView<float> w;
    readonly int channels;
    int kEnd;
    Slot s0, s1, s2, s3, s4, s5;

    public struct Slot
    {
        public int Active, K, Word, At0, At1, At2, At3;
        public Quad Value;
    }

    /// <param name="w">[K, channels, 3, 3], 16-byte aligned</param>
    public WeightTaps(ArrayView<float> w, int channels)
    {
        this.w = w;
        this.channels = channels;
        kEnd = 0;
        s0 = s1 = s2 = s3 = s4 = s5 = default;
    }

    static int WordsPerChannel => default(TSide).Lines * 9 / 4;

    readonly int Tasks => default(TSide).Depth / 9 * WordsPerChannel;

    public readonly int Slots => LoaderSlots.Count(Tasks, default(TSide).Threads);

    /// <summary>Six: a K step of two output channels holds 72 words for the CPU accelerator's 16 threads.</summary>
    public readonly int MaxSlots => 6;

    public readonly WeightTaps<TSide> Start(int origin, int kBegin, int kEnd, int thread)
    {
        var r = this;
        r.kEnd = kEnd;
        int slots = Slots, threads = default(TSide).Threads;
        r.s0 = StartSlot(origin, kBegin, thread);
        if (slots > 1) r.s1 = StartSlot(origin, kBegin, thread + threads);
        if (slots > 2) r.s2 = StartSlot(origin, kBegin, thread + 2 * threads);
        if (slots > 3) r.s3 = StartSlot(origin, kBegin, thread + 3 * threads);
        if (slots > 4) r.s4 = StartSlot(origin, kBegin, thread + 4 * threads);
        if (slots > 5) r.s5 = StartSlot(origin, kBegin, thread + 5 * threads);
        return r;
    }

    readonly Slot StartSlot(int origin, int kBegin, int task)
    {
        var t = new Slot();
        int word = task % WordsPerChannel, local = task / WordsPerChannel;
        // The run of channel k = kBegin/9 + local ends where the tile's rows leave the weight's C rows.
        t.Active = task < Tasks && origin + word * 4 / 9 < channels ? 1 : 0;
        if (t.Active == 0) return t;
        t.K = kBegin + local * 9;
        t.Word = ((t.K / 9 * channels + origin) * 9 >> 2) + word;
        t.At0 = At(word * 4, local);
        t.At1 = At(word * 4 + 1, local);
        t.At2 = At(word * 4 + 2, local);
        t.At3 = At(word * 4 + 3, local);
        return t;
    }

    /// <summary>Where element <paramref name="e"/> of a channel's run lands in the k-major tile: row e / 9, tap e % 9.</summary>
    static int At(int e, int local)
    {
        int row = e / 9;
        return (local * 9 + e - row * 9) * default(TSide).Lines + row;
    }

    public void Fetch()
    {
        int slots = Slots;
        var quads = w.Cast<Quad>();
        s0 = FetchSlot(s0, quads);
        if (slots > 1) s1 = FetchSlot(s1, quads);
        if (slots > 2) s2 = FetchSlot(s2, quads);
        if (slots > 3) s3 = FetchSlot(s3, quads);
        if (slots > 4) s4 = FetchSlot(s4, quads);
        if (slots > 5) s5 = FetchSlot(s5, quads);
    }

    readonly Slot FetchSlot(Slot t, ArrayView<Quad> quads)
    {
        t.Value = t.Active != 0 && t.K < kEnd ? quads[t.Word] : default;
        int channelsPerStep = default(TSide).Depth / 9;
        t.K += default(TSide).Depth;
        t.Word += channelsPerStep * channels * 9 / 4;
        return t;
    }

    public readonly void Stash(ArrayView<float> tile, int at)
    {
        int slots = Slots;
        StashSlot(s0, tile, at);
        if (slots > 1) StashSlot(s1, tile, at);
        if (slots > 2) StashSlot(s2, tile, at);
        if (slots > 3) StashSlot(s3, tile, at);
        if (slots > 4) StashSlot(s4, tile, at);
        if (slots > 5) StashSlot(s5, tile, at);
    }

    static void StashSlot(Slot t, ArrayView<float> tile, int at)
    {
        if (t.Active == 0) return;
        tile[at + t.At0] = t.Value.V0;
        tile[at + t.At1] = t.Value.V1;
        tile[at + t.At2] = t.Value.V2;
        tile[at + t.At3] = t.Value.V3;
    }

    public readonly void Stage(ArrayView<Quad> staged, int thread, int threads) { }

    public readonly int StagedWords(int sliceK) => 0;
}
