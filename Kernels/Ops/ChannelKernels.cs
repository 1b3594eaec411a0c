using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Channel bookkeeping on [N,C,HW] tensors: per-channel sums (bias gradients), splitting into and concatenating from two
/// channel groups (a reversible block's halves), and zero channel padding. Forms: Kernels/Ilgpu/ChannelIlgpu.cs,
/// Kernels/Host/ChannelHost.cs.
/// </summary>
public abstract class ChannelKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>sum[c] = Σ over n and hw of x[n,c,hw] (overwrites sum).</summary>
    public void SumPerChannel(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sum) => Sum("sum per channel", n, c, hw, x, sum, accumulate: false);

    /// <summary>sum[c] += Σ over n and hw of x[n,c,hw]: the bias gradient of conv ([N,K,OH·OW]) and linear ([N,out,1]) layers.</summary>
    public void AccumulatePerChannel(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sum) => Sum("accumulate per channel", n, c, hw, x, sum, accumulate: true);

    /// <summary>a = x[:, :c1], b = x[:, c1:]; the backward of <see cref="Concat"/>.</summary>
    public void Split(int n, int c, int hw, int c1, ArrayView<float> x, ArrayView<float> a, ArrayView<float> b)
    {
        const string op = "split";
        CheckSizes(op, n, c, hw);
        ShapeCheck.Positive(op, "c1", c1);
        if (c1 >= c) throw new ArgumentException($"{op}: c1 must be less than c = {c}, got {c1}");
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
        ShapeCheck.Length(op, "a", a.Length, (long)n * c1 * hw);
        ShapeCheck.Length(op, "b", b.Length, (long)n * (c - c1) * hw);
        Enter();
        SplitCore(n, c, hw, c1, x, a, b);
    }

    /// <summary>y = [a, b] along channels (y [N,c1+c2,HW]); the backward of <see cref="Split"/>.</summary>
    public void Concat(int n, int c1, int c2, int hw, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        const string op = "concat";
        CheckSizes(op, n, c1, hw);
        ShapeCheck.Positive(op, "c2", c2);
        ShapeCheck.Length(op, "a", a.Length, (long)n * c1 * hw);
        ShapeCheck.Length(op, "b", b.Length, (long)n * c2 * hw);
        ShapeCheck.Length(op, "y", y.Length, (long)n * (c1 + c2) * hw);
        Enter();
        ConcatCore(n, c1, c2, hw, a, b, y);
    }

    /// <summary>y[:, :c] = x, y[:, c:] = 0 (y [N,cOut,HW], cOut ≥ c).</summary>
    public void PadChannels(int n, int c, int cOut, int hw, ArrayView<float> x, ArrayView<float> y)
    {
        const string op = "pad channels";
        CheckPadSizes(op, n, c, cOut, hw);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
        ShapeCheck.Length(op, "y", y.Length, (long)n * cOut * hw);
        Enter();
        PadChannelsCore(n, c, cOut, hw, x, y);
    }

    /// <summary>gx = gy[:, :c]: the padded channels were constants, so their gradient is dropped.</summary>
    public void PadChannelsBackward(int n, int c, int cOut, int hw, ArrayView<float> gy, ArrayView<float> gx)
    {
        const string op = "pad channels backward";
        CheckPadSizes(op, n, c, cOut, hw);
        ShapeCheck.Length(op, "gy", gy.Length, (long)n * cOut * hw);
        ShapeCheck.Length(op, "gx", gx.Length, (long)n * c * hw);
        Enter();
        PadChannelsBackwardCore(n, c, cOut, hw, gy, gx);
    }

    /// <summary>The backend's form of <see cref="SumPerChannel"/> and, with <paramref name="accumulate"/>, <see cref="AccumulatePerChannel"/>: arguments already checked.</summary>
    protected abstract void SumPerChannelCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sum, bool accumulate);

    /// <summary>The backend's form of <see cref="Split"/>: arguments already checked.</summary>
    protected abstract void SplitCore(int n, int c, int hw, int c1, ArrayView<float> x, ArrayView<float> a, ArrayView<float> b);

    /// <summary>The backend's form of <see cref="Concat"/>: arguments already checked.</summary>
    protected abstract void ConcatCore(int n, int c1, int c2, int hw, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y);

    /// <summary>The backend's form of <see cref="PadChannels"/>: arguments already checked.</summary>
    protected abstract void PadChannelsCore(int n, int c, int cOut, int hw, ArrayView<float> x, ArrayView<float> y);

    /// <summary>The backend's form of <see cref="PadChannelsBackward"/>: arguments already checked.</summary>
    protected abstract void PadChannelsBackwardCore(int n, int c, int cOut, int hw, ArrayView<float> gy, ArrayView<float> gx);

    void Sum(string op, int n, int c, int hw, ArrayView<float> x, ArrayView<float> sum, bool accumulate)
    {
        CheckSizes(op, n, c, hw);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
        ShapeCheck.Length(op, "sum", sum.Length, c);
        Enter(accumulate ? nameof(AccumulatePerChannel) : nameof(SumPerChannel));
        SumPerChannelCore(n, c, hw, x, sum, accumulate);
    }

    static void CheckSizes(string op, int n, int c, int hw)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        ShapeCheck.Positive(op, "hw", hw);
    }

    static void CheckPadSizes(string op, int n, int c, int cOut, int hw)
    {
        CheckSizes(op, n, c, hw);
        if (cOut < c) throw new ArgumentException($"{op}: cOut must be at least c = {c}, got {cOut}");
    }
}
