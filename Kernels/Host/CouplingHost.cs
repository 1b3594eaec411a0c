namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The host form of <see cref="CouplingKernels"/>: the shared arithmetic (<see cref="CouplingArithmetic"/>'s lanes forms,
/// <see cref="ExactScaleShift"/> per element) over equal-length spans, SIMD within a block and blocks in parallel. Each
/// element is read before it is written, so an output may be the input it replaces. Lengths are checked by the contract.
/// </summary>
internal static class CouplingHost
{
    const int Block = ElementwiseHost.Block;

    /// <summary>Runs <paramref name="block"/>(start, count) over [0, length) in parallel blocks; returns how many reported a problem.</summary>
    static int ForBlocks(int length, Func<int, int, bool> block)
    {
        int blocks = (length + Block - 1) / Block, failed = 0;
        HostThreads.For(blocks, b =>
        {
            int start = b * Block;
            if (!block(start, Math.Min(Block, length - start))) Interlocked.Increment(ref failed);
        });
        return failed;
    }

    public static unsafe void ScaleShift(ReadOnlySpan<float> x, ReadOnlySpan<float> s, ReadOnlySpan<float> t, Span<float> y)
    {
        fixed (float* px = x, ps = s, pt = t, py = y)
        {
            var (xs, ss, ts, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(ps, s.Length), new PinnedSpan<float>(pt, t.Length), new PinnedSpan<float>(py, y.Length));
            ForBlocks(y.Length, (start, count) =>
            {
                var body = new ScaleShiftBody(xs.Slice(start, count), ss.Slice(start, count), ts.Slice(start, count), ys.Slice(start, count));
                Lanes.ForEach(count, ref body);
                return true;
            });
        }
    }

    public static unsafe void UnscaleShift(ReadOnlySpan<float> y, ReadOnlySpan<float> s, ReadOnlySpan<float> t, Span<float> x)
    {
        fixed (float* py = y, ps = s, pt = t, px = x)
        {
            var (ys, ss, ts, xs) = (new PinnedSpan<float>(py, y.Length), new PinnedSpan<float>(ps, s.Length), new PinnedSpan<float>(pt, t.Length), new PinnedSpan<float>(px, x.Length));
            ForBlocks(x.Length, (start, count) =>
            {
                var body = new UnscaleShiftBody(ys.Slice(start, count), ss.Slice(start, count), ts.Slice(start, count), xs.Slice(start, count));
                Lanes.ForEach(count, ref body);
                return true;
            });
        }
    }

    public static unsafe void ScaleShiftBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> s, ReadOnlySpan<float> gy, Span<float> gx, Span<float> gs)
    {
        fixed (float* px = x, ps = s, pgy = gy, pgx = gx, pgs = gs)
        {
            var (xs, ss, gys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(ps, s.Length), new PinnedSpan<float>(pgy, gy.Length));
            var (gxs, gss) = (new PinnedSpan<float>(pgx, gx.Length), new PinnedSpan<float>(pgs, gs.Length));
            ForBlocks(gx.Length, (start, count) =>
            {
                var body = new ScaleShiftBackwardBody(xs.Slice(start, count), ss.Slice(start, count), gys.Slice(start, count), gxs.Slice(start, count), gss.Slice(start, count));
                Lanes.ForEach(count, ref body);
                return true;
            });
        }
    }

    /// <summary>y = round(x); false when an element is out of range.</summary>
    public static unsafe bool Round(FixedPointFormat format, ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x, py = y)
        {
            var (xs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(py, y.Length));
            return ForBlocks(y.Length, (start, count) =>
            {
                var body = new RoundBody(format, xs.Slice(start, count), ys.Slice(start, count));
                Lanes.ForEach(count, ref body);
                return body.OutOfRange == 0;
            }) == 0;
        }
    }

    /// <summary>y = x + sign·round(f); false when an element is out of range.</summary>
    public static unsafe bool AddRounded(FixedPointFormat format, ReadOnlySpan<float> x, ReadOnlySpan<float> f, Span<float> y, float sign)
    {
        fixed (float* px = x, pf = f, py = y)
        {
            var (xs, fs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pf, f.Length), new PinnedSpan<float>(py, y.Length));
            return ForBlocks(y.Length, (start, count) =>
            {
                var body = new AddRoundedBody(format, sign, xs.Slice(start, count), fs.Slice(start, count), ys.Slice(start, count));
                Lanes.ForEach(count, ref body);
                return body.OutOfRange == 0;
            }) == 0;
        }
    }

    /// <summary>
    /// <see cref="ExactScaleShift"/> per element in the direction <paramref name="inverse"/> says (integer steps: no lanes);
    /// returns 0 or the overflow code of an element that failed.
    /// </summary>
    public static unsafe int ExactScaleShiftStep(FixedPointFormat format, bool inverse, ReadOnlySpan<float> input, ReadOnlySpan<float> s,
        ReadOnlySpan<float> t, Span<ulong> information, Span<float> output)
    {
        fixed (float* pin = input, ps = s, pt = t, pout = output)
        fixed (ulong* pinfo = information)
        {
            var (ins, ss, ts, outs) = (new PinnedSpan<float>(pin, input.Length), new PinnedSpan<float>(ps, s.Length), new PinnedSpan<float>(pt, t.Length), new PinnedSpan<float>(pout, output.Length));
            var infos = new PinnedSpan<ulong>(pinfo, information.Length);
            int code = 0;
            ForBlocks(output.Length, (start, count) =>
            {
                Span<float> inBlock = ins.Slice(start, count), sBlock = ss.Slice(start, count), tBlock = ts.Slice(start, count), outBlock = outs.Slice(start, count);
                var infoBlock = infos.Slice(start, count);
                for (int i = 0; i < count; i++)
                {
                    long n = ExactScaleShift.Numerator(sBlock[i]);
                    var r = inverse
                        ? ExactScaleShift.Inverse(format, inBlock[i], n, tBlock[i], infoBlock[i])
                        : ExactScaleShift.Forward(format, inBlock[i], n, float.IsNaN(sBlock[i]), tBlock[i], infoBlock[i]);
                    outBlock[i] = r.Value;
                    infoBlock[i] = r.Information;
                    if (r.Overflow != 0) code = r.Overflow;
                }
                return true;
            });
            return code;
        }
    }

    ref struct ScaleShiftBody(ReadOnlySpan<float> x, ReadOnlySpan<float> s, ReadOnlySpan<float> t, Span<float> y) : ILaneBody
    {
        readonly ReadOnlySpan<float> x = x, s = s, t = t;
        readonly Span<float> y = y;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T> =>
            T.Store(T.Load(x, i) * CouplingArithmetic.Scale(T.Load(s, i)) + T.Load(t, i), y, i);
    }

    ref struct UnscaleShiftBody(ReadOnlySpan<float> y, ReadOnlySpan<float> s, ReadOnlySpan<float> t, Span<float> x) : ILaneBody
    {
        readonly ReadOnlySpan<float> y = y, s = s, t = t;
        readonly Span<float> x = x;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T> =>
            T.Store((T.Load(y, i) - T.Load(t, i)) / CouplingArithmetic.Scale(T.Load(s, i)), x, i);
    }

    ref struct ScaleShiftBackwardBody(ReadOnlySpan<float> x, ReadOnlySpan<float> s, ReadOnlySpan<float> gy, Span<float> gx, Span<float> gs) : ILaneBody
    {
        readonly ReadOnlySpan<float> x = x, s = s, gy = gy;
        readonly Span<float> gx = gx, gs = gs;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T>
        {
            T pre = T.Load(s, i), scale = CouplingArithmetic.Scale(pre), g = T.Load(gy, i);
            T.Store(g * scale, gx, i);
            T.Store(g * T.Load(x, i) * (scale * CouplingArithmetic.ScaleComplement(pre)), gs, i);
        }
    }

    ref struct RoundBody(FixedPointFormat format, ReadOnlySpan<float> x, Span<float> y) : ILaneBody
    {
        readonly ReadOnlySpan<float> x = x;
        readonly Span<float> y = y;
        public int OutOfRange;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T>
        {
            var v = CouplingArithmetic.Round(format, T.Load(x, i));
            OutOfRange += CouplingArithmetic.CountOutOfRange(format, v);
            T.Store(v, y, i);
        }
    }

    ref struct AddRoundedBody(FixedPointFormat format, float sign, ReadOnlySpan<float> x, ReadOnlySpan<float> f, Span<float> y) : ILaneBody
    {
        readonly ReadOnlySpan<float> x = x, f = f;
        readonly Span<float> y = y;
        public int OutOfRange;

        public void Apply<T>(int i) where T : struct, IFloatLanes<T>
        {
            var v = T.Load(x, i) + T.Broadcast(sign) * CouplingArithmetic.Round(format, T.Load(f, i));
            OutOfRange += CouplingArithmetic.CountOutOfRange(format, v);
            T.Store(v, y, i);
        }
    }
}
