using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="ChannelKernels"/>: per-channel reduction and channel plumbing on NCHW tensors, with HW = H*W flattened.
/// <list type="bullet">
/// <item><c>SumPerChannel</c>: x [N,C,HW] → sum [C] (e.g. a conv bias gradient); one group per channel, deterministic.</item>
/// <item><c>Split</c> / <c>Concat</c>: x [N,C,HW] ↔ a [N,C1,HW], b [N,C-C1,HW]; each is the other's backward.</item>
/// <item><c>PadChannels</c> / <c>PadChannelsBackward</c>: x [N,C,HW] → y [N,COut,HW] with zero channels appended
/// (the RevNet downsampling shortcut); the backward keeps the first C channels of the gradient.</item>
/// </list>
/// Nothing is saved for the backward passes: they need only the shapes.
/// </summary>
internal static class ChannelIlgpu
{
    /// <summary>(Public only because ILGPU marshals kernel argument types by reflection.) Where a channel block sits in source and destination; the block is <c>Count</c> channels of HW elements for each of N images.</summary>
    public struct ChannelBlock
    {
        public int N, Hw, Count;
        public int SrcChannels, SrcStart;
        public int DstChannels, DstStart;
    }

    /// <summary>(Public only because ILGPU marshals kernel argument types by reflection.) x [N,C,HW] and its channel halves a [N,C1,HW], b [N,C-C1,HW].</summary>
    public struct ChannelHalves
    {
        public int N, C, C1, Hw;
    }

    /// <summary>
    /// One group per channel (a channel walk of one slice): sum[ch] = (or, with <paramref name="accumulate"/> 1, +=) Σ of
    /// the channel. <paramref name="accumulate"/> is an int, as OpenCL kernels take no bool.
    /// </summary>
    static void SumPerChannelKernel(ArrayView<float> x, ArrayView<float> sum, ChannelSlices channel, int accumulate)
    {
        int ch = Grid.IdxY;
        float partial = 0f;
        for (var walk = new ChannelWalk(channel, x.IntLength / (channel.C * channel.Hw)); walk.Valid; walk.Advance())
            partial += x[walk.Index];
        float total = GroupReduction.Sum(partial);
        if (Group.IdxX == 0) sum[ch] = accumulate != 0 ? sum[ch] + total : total;
    }

    static void CopyBlockKernel(ArrayView<float> src, ArrayView<float> dst, ChannelBlock b)
    {
        int perImage = b.Count * b.Hw;
        var at = Odometer.OfThread(perImage);
        for (int i = GridLoop.Start, end = b.N * perImage, step = GridLoop.Stride; i < end; i += step, at.Advance())
        {
            int image = at.D1, r = at.D0;
            dst[(image * b.DstChannels + b.DstStart) * b.Hw + r] = src[(image * b.SrcChannels + b.SrcStart) * b.Hw + r];
        }
    }

    /// <summary>
    /// Split (<paramref name="gather"/> 0: x → a, b) or concat (1: a, b → x) in one launch over x: within its image,
    /// element r &lt; C1·HW belongs to a, the rest to b. (image, r) is set up with one division and then stepped by the
    /// grid stride with adds and a compare, so the loop has no division. <paramref name="gather"/> is an int because
    /// OpenCL kernels take no bool; it is the same for every thread, so the branch does not diverge.
    /// </summary>
    static void SplitConcatKernel(ArrayView<float> x, ArrayView<float> a, ArrayView<float> b, ChannelHalves s, int gather)
    {
        int perImage = s.C * s.Hw, aPerImage = s.C1 * s.Hw, bPerImage = perImage - aPerImage;
        int start = GridLoop.Start, step = GridLoop.Stride, end = s.N * perImage;
        int image = start / perImage, r = start - image * perImage;
        int stepImages = step / perImage, stepR = step - stepImages * perImage;
        for (int i = start; i < end; i += step)
        {
            if (r < aPerImage)
            {
                int j = image * aPerImage + r;
                if (gather != 0) x[i] = a[j];
                else a[j] = x[i];
            }
            else
            {
                int j = image * bPerImage + r - aPerImage;
                if (gather != 0) x[i] = b[j];
                else b[j] = x[i];
            }
            image += stepImages;
            r += stepR;
            if (r >= perImage)
            {
                r -= perImage;
                image++;
            }
        }
    }

    static void PadKernel(ArrayView<float> x, ArrayView<float> y, int c, int cOut, int hw)
    {
        int inPerImage = c * hw, outPerImage = cOut * hw;
        var at = Odometer.OfThread(outPerImage);
        for (int i = GridLoop.Start, end = y.IntLength, step = GridLoop.Stride; i < end; i += step, at.Advance())
        {
            int image = at.D1, r = at.D0;
            y[i] = r < inPerImage ? x[image * inPerImage + r] : 0f;
        }
    }

    /// <summary>sum[c] = (or += with <paramref name="accumulate"/>) Σ over n and hw of x[n,c,hw]: one group per channel.</summary>
    internal static void SumPerChannel(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> sum, bool accumulate)
    {
        var channel = new ChannelSlices(c, hw, 1, x.IntLength / c);
        k.Load<ArrayView<float>, ArrayView<float>, ChannelSlices, int>(SumPerChannelKernel)(
            channel.ReductionLaunch(k), LaunchCost.Elementwise(x.Length, 1, 1, 0), x, sum, channel, accumulate ? 1 : 0);
    }

    /// <summary>Split (gather false: x → a, b) or concat (true: a, b → x) in one launch.</summary>
    internal static void SplitConcat(KernelContext k, ArrayView<float> x, ArrayView<float> a, ArrayView<float> b, ChannelHalves s, bool gather) =>
        k.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelHalves, int>(SplitConcatKernel)(
            k.GridStride(x.Length), LaunchCost.Elementwise(x.Length, 0, 1, 1), x, a, b, s, gather ? 1 : 0);

    internal static void PadChannels(KernelContext k, int c, int cOut, int hw, ArrayView<float> x, ArrayView<float> y) =>
        k.Load<ArrayView<float>, ArrayView<float>, int, int, int>(PadKernel)(
            k.GridStride(y.Length), new LaunchCost(0, (x.Length + y.Length) * sizeof(float)), x, y, c, cOut, hw);

    /// <summary>gx = gy[:, :c], as one channel block copy.</summary>
    internal static void PadChannelsBackward(KernelContext k, int n, int c, int cOut, int hw, ArrayView<float> gy, ArrayView<float> gx)
    {
        var b = new ChannelBlock { N = n, Hw = hw, Count = c, SrcChannels = cOut, SrcStart = 0, DstChannels = c, DstStart = 0 };
        k.Load<ArrayView<float>, ArrayView<float>, ChannelBlock>(CopyBlockKernel)(
            k.GridStride((long)b.N * b.Count * b.Hw), LaunchCost.Elementwise(gx.Length, 0, 1, 1), gy, gx, b);
    }
}
