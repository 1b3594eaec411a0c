namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The host form of <see cref="ElementwiseKernels"/>: an operator struct's lanes form (<see cref="IUnaryOp"/>,
/// <see cref="IBinaryOp"/>) over equal-length spans, SIMD within a block and blocks in parallel. Each element is loaded
/// before it is stored, so an output may be one of the inputs. Lengths are checked by the contract.
/// </summary>
internal static class ElementwiseHost
{
    /// <summary>Elements per parallel work item: 64 KiB of floats, enough to amortise scheduling on memory-bound loops.</summary>
    public const int Block = 1 << 14;

    /// <summary>The number of NaN or ±Inf elements of x; integer counts, so the total is exact in any order.</summary>
    public static unsafe int CountNonFinite(ReadOnlySpan<float> x)
    {
        fixed (float* px = x)
        {
            var xs = new PinnedSpan<float>(px, x.Length);
            int blocks = (x.Length + Block - 1) / Block;
            var counts = new int[blocks];
            HostThreads.For(blocks, b =>
            {
                var body = new NonFiniteCounter(xs.Slice(b * Block, Math.Min(Block, xs.Length - b * Block)));
                Lanes.ForEach(body.X.Length, ref body);
                counts[b] = body.Count;
            });
            return counts.Sum();
        }
    }

    /// <summary>y = op(x) element by element; y may be x.</summary>
    public static unsafe void Map<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IUnaryOp
    {
        fixed (float* px = x, py = y)
        {
            var (xs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(py, y.Length));
            HostThreads.For((y.Length + Block - 1) / Block, b =>
            {
                int start = b * Block, count = Math.Min(Block, ys.Length - start);
                MapSerial(op, xs.Slice(start, count), ys.Slice(start, count));
            });
        }
    }

    /// <summary>y = op(a, b) element by element; y may be a or b.</summary>
    public static unsafe void Zip<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IBinaryOp
    {
        fixed (float* pa = a, pb = b, py = y)
        {
            var (As, Bs, Ys) = (new PinnedSpan<float>(pa, a.Length), new PinnedSpan<float>(pb, b.Length), new PinnedSpan<float>(py, y.Length));
            HostThreads.For((y.Length + Block - 1) / Block, block =>
            {
                int start = block * Block, count = Math.Min(Block, Ys.Length - start);
                ZipSerial(op, As.Slice(start, count), Bs.Slice(start, count), Ys.Slice(start, count));
            });
        }
    }

    /// <summary><see cref="Map{TOp}"/> on the calling thread (inside another kernel's work item).</summary>
    public static void MapSerial<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IUnaryOp
    {
        var body = new MapBody<TOp>(op, x, y[..x.Length]);
        Lanes.ForEach(x.Length, ref body);
    }

    /// <summary><see cref="Zip{TOp}"/> on the calling thread (inside another kernel's work item).</summary>
    public static void ZipSerial<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IBinaryOp
    {
        var body = new ZipBody<TOp>(op, a, b[..a.Length], y[..a.Length]);
        Lanes.ForEach(a.Length, ref body);
    }

    ref struct MapBody<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) : ILaneBody where TOp : struct, IUnaryOp
    {
        readonly ReadOnlySpan<float> x = x;
        readonly Span<float> y = y;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T> =>
            T.Store(op.Invoke(T.Load(x, i)), y, i);
    }

    ref struct ZipBody<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) : ILaneBody where TOp : struct, IBinaryOp
    {
        readonly ReadOnlySpan<float> a = a, b = b;
        readonly Span<float> y = y;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T> =>
            T.Store(op.Invoke(T.Load(a, i), T.Load(b, i)), y, i);
    }

    ref struct NonFiniteCounter(ReadOnlySpan<float> x) : ILaneBody
    {
        public readonly ReadOnlySpan<float> X = x;
        public int Count;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T> =>
            Count += T.CountNonFinite(T.Load(X, i));
    }
}
