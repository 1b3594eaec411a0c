using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// Per-channel reductions with several groups per channel: the M = N·HW values of a channel of an NCHW tensor are cut
/// into <see cref="Slices"/> contiguous runs of <see cref="SliceLength"/>, group (slice, channel) of a 2-D launch reduces
/// one run, and the slices' partial results are combined in slice order (same bits on every run).
/// </summary>
internal readonly record struct ChannelSlices(int C, int Hw, int Slices, int SliceLength)
{
    /// <summary>Values per channel.</summary>
    public int M(int n) => n * Hw;

    /// <summary>Values in slice <paramref name="slice"/> of a channel (the last slice may be short).</summary>
    public int Count(int n, int slice) => IntrinsicMath.Min(M(n), (slice + 1) * SliceLength) - slice * SliceLength;

    /// <summary>
    /// Enough slices per channel for <see cref="KernelContext.TargetGroups"/> groups in all, each slice at least four
    /// group-widths of values (shorter ones would spend more on the combine than they save).
    /// </summary>
    public static ChannelSlices For(KernelContext k, int n, int c, int hw)
    {
        long m = (long)n * hw;
        long minLength = 4L * k.ReductionGroupSize;
        int byTarget = (k.TargetGroups + c - 1) / c;
        int byLength = (int)Math.Max(1, m / minLength);
        int slices = Math.Max(1, Math.Min(byTarget, byLength));
        int length = (int)((m + slices - 1) / slices);
        return new ChannelSlices(c, hw, (int)((m + length - 1) / length), length);
    }

    /// <summary>Thread 0 of group (slice, channel) stores its slice's two sums as that slice's partials [C, Slices, 2].</summary>
    public void StorePairPartials(ArrayView<float> partials, float first, float second)
    {
        if (Group.IdxX != 0) return;
        int at = (Grid.IdxY * Slices + Grid.IdxX) * 2;
        partials[at] = first;
        partials[at + 1] = second;
    }

    /// <summary>
    /// The channel's two sums for every thread of the calling group: thread 0 adds the slices' partials in slice order
    /// (every group of the channel alike, so all get the same bits) and shares them through shared memory.
    /// </summary>
    public (float First, float Second) PairTotals(ArrayView<float> partials)
    {
        var sums = SharedMemory.Allocate<float>(2);
        if (Group.IdxX == 0)
        {
            float first = 0f, second = 0f;
            for (int i = 0, at = Grid.IdxY * Slices * 2; i < Slices; i++, at += 2)
            {
                first += partials[at];
                second += partials[at + 1];
            }
            sums[0] = first;
            sums[1] = second;
        }
        Group.Barrier();
        return (sums[0], sums[1]);
    }

    /// <summary>Group (slice, channel) with <see cref="KernelContext.ReductionGroupSize"/> threads and one shared float each, for <see cref="GroupReduction"/>.</summary>
    public KernelConfig ReductionLaunch(KernelContext k) =>
        new(new Index2D(Slices, C), new Index2D(k.ReductionGroupSize, 1), SharedMemoryConfig.RequestDynamic<float>(k.ReductionGroupSize));
}

/// <summary>
/// One thread's walk over its share of a channel slice: element j of the channel sits at (n·C + ch)·HW + p with
/// j = n·HW + p; the walk steps j by the group size by adding and comparing, so the loop has no division.
/// </summary>
internal struct ChannelWalk
{
    int offset, p, remaining;
    readonly int stepOffset, stepP, wrap, hw;

    /// <summary>The calling thread's walk over slice Grid.IdxX of channel Grid.IdxY.</summary>
    public ChannelWalk(ChannelSlices s, int n)
    {
        int ch = Grid.IdxY, start = Grid.IdxX * s.SliceLength + Group.IdxX, step = Group.DimX;
        int end = IntrinsicMath.Min(s.M(n), (Grid.IdxX + 1) * s.SliceLength);
        int image = start / s.Hw;
        hw = s.Hw;
        p = start - image * s.Hw;
        offset = (image * s.C + ch) * s.Hw + p;
        remaining = start < end ? (end - start + step - 1) / step : 0;
        int stepImages = step / s.Hw;
        stepP = step - stepImages * s.Hw;
        stepOffset = stepImages * s.C * s.Hw + stepP;
        wrap = (s.C - 1) * s.Hw;
    }

    /// <summary>True while the walk is on one of its elements.</summary>
    public readonly bool Valid => remaining > 0;

    /// <summary>Flat index of the current element.</summary>
    public readonly int Index => offset;

    /// <summary>Moves to the thread's next element.</summary>
    public void Advance()
    {
        remaining--;
        offset += stepOffset;
        p += stepP;
        if (p >= hw)
        {
            p -= hw;
            offset += wrap;
        }
    }
}
