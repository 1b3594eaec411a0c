using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// One side of a tiled GEMM step as constants: the A side holds BlockM lines (rows of A), the B side BlockN lines
/// (columns of B), each <see cref="Depth"/> deep along K; <see cref="Threads"/> share the loading. Shared memory keeps
/// both sides k-major, [Depth][Lines], so the compute loop reads each thread's fragments as 16-byte words.
/// </summary>
internal interface ITileSide
{
    int Lines { get; }

    int Depth { get; }

    int Threads { get; }
}

/// <summary>The A side of <typeparamref name="TTiling"/>: BlockM lines.</summary>
internal struct SideA<TTiling, TDepth> : ITileSide where TTiling : struct, IGemmTiling where TDepth : struct, IGemmDepth
{
    public readonly int Lines => default(TTiling).BlockM;
    public readonly int Depth => default(TDepth).BlockK;
    public readonly int Threads => default(TTiling).BlockM / default(TTiling).ThreadRows * (default(TTiling).BlockN / default(TTiling).ThreadCols);
}

/// <summary>The B side of <typeparamref name="TTiling"/>: BlockN lines.</summary>
internal struct SideB<TTiling, TDepth> : ITileSide where TTiling : struct, IGemmTiling where TDepth : struct, IGemmDepth
{
    public readonly int Lines => default(TTiling).BlockN;
    public readonly int Depth => default(TDepth).BlockK;
    public readonly int Threads => default(TTiling).BlockM / default(TTiling).ThreadRows * (default(TTiling).BlockN / default(TTiling).ThreadCols);
}

/// <summary>
/// How <see cref="GemmKernels"/>' tiled kernel brings one operand into shared memory (siboehm's steps 6 and 9, CUTLASS's
/// global-to-shared iterators): <see cref="Start"/> decodes the thread's share once (it may divide); each K step
/// <see cref="Fetch"/> issues the global loads of the next step into registers, which stay in flight while the current
/// step is multiplied, and <see cref="Stash"/> then writes them into the other shared buffer. Fetch only adds and
/// compares, so the K loop has no division. Out-of-range elements load as zeros, so every thread runs every step.
/// </summary>
internal interface ITileLoader<TSelf> where TSelf : struct, ITileLoader<TSelf>
{
    /// <summary>This thread's loader for the tile whose first line is <paramref name="origin"/>, over K in [kBegin, kEnd).</summary>
    TSelf Start(int origin, int kBegin, int kEnd, int thread);

    /// <summary>Global loads of the next K step into registers (the first call loads step kBegin).</summary>
    void Fetch();

    /// <summary>Writes the fetched step into the k-major tile that starts at float <paramref name="at"/> (a multiple of 4) of <paramref name="tile"/>.</summary>
    void Stash(ArrayView<float> tile, int at);

    /// <summary>
    /// Copies what every step needs from outside the operand (per-channel normalisation parameters) into shared memory
    /// before the loop, the group's threads together; nothing for most loaders. A barrier follows before it is read.
    /// </summary>
    void Stage(ArrayView<Quad> staged, int thread, int threads);

    /// <summary>16-byte words of shared memory <see cref="Stage"/> needs for a K slice of <paramref name="sliceK"/> (host side; 0 for none).</summary>
    int StagedWords(int sliceK);

    /// <summary>Register slots a thread needs at this loader's tile side.</summary>
    int Slots { get; }

    /// <summary>Register slots the loader has (its fields); a tiling that needs more is not launched with it.</summary>
    int MaxSlots { get; }
}

/// <summary>Register-slot bookkeeping shared by the loaders: a thread handles tasks thread, thread + Threads, ...</summary>
static class LoaderSlots
{
    /// <summary>Most slots a loader keeps (its fields s0..s3).</summary>
    public const int Max = 4;

    public static int Count(int tasks, int threads) => (tasks + threads - 1) / threads;
}

/// <summary>
/// An operand stored as [Images, Channels, Plane] read along its planes: line = channel, k = image·Plane + p, element
/// data[(image·Channels + line)·Plane + p]. A of every conv weight gradient (gy), B of a 1×1 weight gradient (x), and with
/// Images = 1 any row-major matrix read along its rows (forward weights [K, C·KH·KW]). Each task is a 16-byte word
/// along K (Plane and K steps are multiples of 4, the view 16-byte aligned); the stash writes it transposed, four
/// floats one k-row apart. <typeparamref name="TInput"/> may normalise the values (the channel is fixed per task, so
/// its parameters are read once, in <see cref="Start"/>).
/// </summary>
internal struct ChannelRows<TSide, TInput> : ITileLoader<ChannelRows<TSide, TInput>>
    where TSide : struct, ITileSide where TInput : struct, IConvInput
{
    readonly ArrayView<float> data;
    readonly int channels, plane;
    readonly TInput input;
    int kEnd;
    Slot s0, s1, s2, s3;

    public struct Slot
    {
        public int Active, Line, Kq, Offset, P, K;
        public Quad Params, Value;
    }

    /// <param name="data">[images, channels, plane], 16-byte aligned</param>
    /// <param name="channels">lines of the operand</param>
    /// <param name="plane">elements per (image, channel), a multiple of 4</param>
    public ChannelRows(ArrayView<float> data, int channels, int plane, TInput input)
    {
        this.data = data;
        this.channels = channels;
        this.plane = plane;
        this.input = input;
        kEnd = 0;
        s0 = s1 = s2 = s3 = default;
    }

    readonly int Tasks => default(TSide).Lines * default(TSide).Depth / 4;

    public readonly int Slots => LoaderSlots.Count(Tasks, default(TSide).Threads);

    public readonly int MaxSlots => LoaderSlots.Max;

    public readonly ChannelRows<TSide, TInput> Start(int origin, int kBegin, int kEnd, int thread)
    {
        var r = this;
        r.kEnd = kEnd;
        int slots = Slots;
        r.s0 = StartSlot(origin, kBegin, thread);
        if (slots > 1) r.s1 = StartSlot(origin, kBegin, thread + default(TSide).Threads);
        if (slots > 2) r.s2 = StartSlot(origin, kBegin, thread + 2 * default(TSide).Threads);
        if (slots > 3) r.s3 = StartSlot(origin, kBegin, thread + 3 * default(TSide).Threads);
        return r;
    }

    readonly Slot StartSlot(int origin, int kBegin, int task)
    {
        var s = new Slot();
        int lines = default(TSide).Lines;
        s.Line = task % lines;
        s.Kq = task / lines * 4;
        int channel = origin + s.Line;
        s.Active = task < Tasks && channel < channels ? 1 : 0;
        if (s.Active == 0) return s;
        s.K = kBegin + s.Kq;
        int image = s.K / plane;
        s.P = s.K - image * plane;
        s.Offset = (image * channels + channel) * plane + s.P;
        if (!default(TInput).Identity) s.Params = input.Channel(channel);
        return s;
    }

    public void Fetch()
    {
        int slots = Slots;
        var quads = data.Cast<Quad>();
        s0 = FetchSlot(s0, quads);
        if (slots > 1) s1 = FetchSlot(s1, quads);
        if (slots > 2) s2 = FetchSlot(s2, quads);
        if (slots > 3) s3 = FetchSlot(s3, quads);
    }

    readonly Slot FetchSlot(Slot s, ArrayView<Quad> quads)
    {
        bool inside = s.Active != 0 && s.K < kEnd;
        var v = inside ? quads[s.Offset >> 2] : default;
        s.Value = default(TInput).Identity || !inside ? v : input.Apply(v, s.Params);
        int depth = default(TSide).Depth;
        s.K += depth;
        s.P += depth;
        s.Offset += depth;
        while (s.P >= plane)
        {
            s.P -= plane;
            s.Offset += (channels - 1) * plane;
        }
        return s;
    }

    public readonly void Stash(ArrayView<float> tile, int at)
    {
        int slots = Slots;
        StashSlot(s0, tile, at);
        if (slots > 1) StashSlot(s1, tile, at);
        if (slots > 2) StashSlot(s2, tile, at);
        if (slots > 3) StashSlot(s3, tile, at);
    }

    static void StashSlot(Slot s, ArrayView<float> tile, int at)
    {
        if (s.Active == 0) return;
        int lines = default(TSide).Lines;
        int i = at + s.Kq * lines + s.Line;
        tile[i] = s.Value.V0;
        tile[i + lines] = s.Value.V1;
        tile[i + 2 * lines] = s.Value.V2;
        tile[i + 3 * lines] = s.Value.V3;
    }

    public readonly void Stage(ArrayView<Quad> staged, int thread, int threads) { }

    public readonly int StagedWords(int sliceK) => 0;
}

/// <summary>
/// An operand stored as [Images, Channels, Plane] read across its planes: k = channel, line = image·Plane + p. B of a
/// 1×1 forward (x) and input gradient (gy), and with Images = 1 the A of a 1×1 input gradient (w [K, C]: line = c,
/// k = output channel). Each task is a 16-byte word of four consecutive lines at one k, stashed as one 16-byte store.
/// <typeparamref name="TInput"/> may normalise the values; the channel changes with k, so its parameters are staged
/// in shared memory once per group (<see cref="Stage"/>).
/// </summary>
internal struct ChannelColumns<TSide, TInput> : ITileLoader<ChannelColumns<TSide, TInput>>
    where TSide : struct, ITileSide where TInput : struct, IConvInput
{
    readonly ArrayView<float> data;
    readonly int channels, plane, images;
    readonly TInput input;
    int kBegin, kEnd;
    ArrayView<Quad> staged;
    Slot s0, s1, s2, s3;

    public struct Slot
    {
        public int Active, Cq, Kk, Offset, K;
        public Quad Value;
    }

    /// <param name="data">[images, channels, plane], 16-byte aligned; plane a multiple of 4</param>
    public ChannelColumns(ArrayView<float> data, int images, int channels, int plane, TInput input)
    {
        this.data = data;
        this.images = images;
        this.channels = channels;
        this.plane = plane;
        this.input = input;
        kBegin = kEnd = 0;
        staged = default;
        s0 = s1 = s2 = s3 = default;
    }

    readonly int Tasks => default(TSide).Lines / 4 * default(TSide).Depth;

    public readonly int Slots => LoaderSlots.Count(Tasks, default(TSide).Threads);

    public readonly int MaxSlots => LoaderSlots.Max;

    public readonly ChannelColumns<TSide, TInput> Start(int origin, int kBegin, int kEnd, int thread)
    {
        var r = this;
        (r.kBegin, r.kEnd) = (kBegin, kEnd);
        int slots = Slots, threads = default(TSide).Threads;
        r.s0 = StartSlot(origin, kBegin, thread);
        if (slots > 1) r.s1 = StartSlot(origin, kBegin, thread + threads);
        if (slots > 2) r.s2 = StartSlot(origin, kBegin, thread + 2 * threads);
        if (slots > 3) r.s3 = StartSlot(origin, kBegin, thread + 3 * threads);
        return r;
    }

    readonly Slot StartSlot(int origin, int kBegin, int task)
    {
        var s = new Slot();
        int quadsPerLine = default(TSide).Lines / 4;
        s.Cq = task % quadsPerLine;
        s.Kk = task / quadsPerLine;
        int column = origin + s.Cq * 4;
        s.Active = task < Tasks && column < images * plane ? 1 : 0;
        if (s.Active == 0) return s;
        s.K = kBegin + s.Kk;
        int image = column / plane;
        s.Offset = (image * channels + s.K) * plane + column - image * plane;
        return s;
    }

    public void Fetch()
    {
        int slots = Slots;
        var quads = data.Cast<Quad>();
        s0 = FetchSlot(s0, quads);
        if (slots > 1) s1 = FetchSlot(s1, quads);
        if (slots > 2) s2 = FetchSlot(s2, quads);
        if (slots > 3) s3 = FetchSlot(s3, quads);
    }

    readonly Slot FetchSlot(Slot s, ArrayView<Quad> quads)
    {
        bool inside = s.Active != 0 && s.K < kEnd;
        var v = inside ? quads[s.Offset >> 2] : default;
        s.Value = default(TInput).Identity || !inside ? v : input.Apply(v, staged[s.K - kBegin]);
        int depth = default(TSide).Depth;
        s.K += depth;
        s.Offset += depth * plane;
        return s;
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

    static void StashSlot(Slot s, ArrayView<Quad> quads, int at)
    {
        if (s.Active != 0) quads[(at + s.Kk * default(TSide).Lines) / 4 + s.Cq] = s.Value;
    }

    public void Stage(ArrayView<Quad> staged, int thread, int threads)
    {
        if (default(TInput).Identity) return;
        this.staged = staged;
        for (int i = thread, count = kEnd - kBegin; i < count; i += threads)
            staged[i] = input.Channel(kBegin + i);
    }

    public readonly int StagedWords(int sliceK) => default(TInput).Identity ? 0 : sliceK;
}

/// <summary>
/// The scalar path for operands no 16-byte word fits (odd shapes, linear layers): each thread walks one or two lines
/// along K with a <see cref="IKStream{TSelf}"/> cursor and writes the step's elements straight into shared memory in
/// <see cref="Stash"/> (no register prefetch), one float at a time. Lines·Depth is a multiple of the thread count.
/// </summary>
internal struct StreamLoader<TSide, TStream> : ITileLoader<StreamLoader<TSide, TStream>>
    where TSide : struct, ITileSide where TStream : struct, IKStream<TStream>
{
    readonly TStream stream;
    readonly int extent;
    int kEnd;
    Cursor c0, c1;

    public struct Cursor
    {
        public int Active, Line, FirstK, K;
        public TStream Stream;
    }

    /// <param name="extent">lines of the operand (rows of A or columns of B)</param>
    public StreamLoader(TStream stream, int extent)
    {
        this.stream = stream;
        this.extent = extent;
        kEnd = 0;
        c0 = c1 = default;
    }

    /// <summary>Cursors per thread: one line each when there are fewer lines than threads, else Lines / Threads.</summary>
    static int Cursors => IntrinsicMath.Max(1, default(TSide).Lines / default(TSide).Threads);

    /// <summary>How far apart a cursor's elements lie along K within a step: threads sharing a line take turns.</summary>
    static int KStride => IntrinsicMath.Max(1, default(TSide).Threads / default(TSide).Lines);

    public readonly int Slots => Cursors;

    public readonly int MaxSlots => 2;

    public readonly StreamLoader<TSide, TStream> Start(int origin, int kBegin, int kEnd, int thread)
    {
        var r = this;
        r.kEnd = kEnd;
        r.c0 = StartCursor(origin, kBegin, thread);
        if (Cursors > 1) r.c1 = StartCursor(origin, kBegin, thread + default(TSide).Threads);
        return r;
    }

    readonly Cursor StartCursor(int origin, int kBegin, int task)
    {
        var c = new Cursor();
        int lines = default(TSide).Lines;
        c.Line = task % lines;
        c.FirstK = task / lines;
        c.Active = task < lines * KStride && c.FirstK < default(TSide).Depth ? 1 : 0;
        c.K = kBegin + c.FirstK;
        bool inside = origin + c.Line < extent;
        c.Stream = stream.Seek(inside ? origin + c.Line : 0, c.K);
        if (!inside) c.Active = 0;
        return c;
    }

    public void Fetch() { }

    public void Stash(ArrayView<float> tile, int at)
    {
        c0 = StashCursor(c0, tile, at);
        if (Cursors > 1) c1 = StashCursor(c1, tile, at);
    }

    readonly Cursor StashCursor(Cursor c, ArrayView<float> tile, int at)
    {
        int lines = default(TSide).Lines, depth = default(TSide).Depth, stride = KStride;
        var walk = c.Stream;
        for (int kk = c.FirstK, k = c.K; kk < depth; kk += stride, k += stride)
        {
            tile[at + kk * lines + c.Line] = c.Active != 0 && k < kEnd ? walk.Value : 0f;
            walk.Advance(stride);
        }
        c.Stream.Advance(depth);
        c.K += depth;
        return c;
    }

    public readonly void Stage(ArrayView<Quad> staged, int thread, int threads) { }

    public readonly int StagedWords(int sliceK) => 0;
}
