using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

// The operands of the three implicit GEMMs of a convolution (see Conv2dKernels), as K-streams read element by element:
// the tiled GEMM's scalar path for shapes its 16-byte loaders (ConvLoaders.cs) do not take. Each decodes its indices
// once in Seek and then steps counters, so the K loop has no division.

/// <summary>
/// B of the forward GEMM: im2col(x) [C·KH·KW, N·OutH·OutW] with the column i = (n, oh, ow) fixed and k = (c, kh, kw)
/// walking; element <typeparamref name="TInput"/>(x)[n, c, oh·S − P + kh, ow·S − P + kw], zero outside the input.
/// </summary>
internal struct Im2colStream<TInput> : IKStream<Im2colStream<TInput>> where TInput : struct, IConvInput
{
    readonly ArrayView<float> x;
    readonly Conv2dShape s;
    readonly TInput input;
    int plane, channel, ih0, iw0, kh, kw; // plane: offset of x[n, channel]

    public Im2colStream(ArrayView<float> x, Conv2dShape s, TInput input)
    {
        this.x = x;
        this.s = s;
        this.input = input;
        plane = channel = ih0 = iw0 = kh = kw = 0;
    }

    public readonly Im2colStream<TInput> Seek(int i, int k)
    {
        var r = this;
        int outW = s.OutW, outHW = s.OutH * outW, taps = s.KH * s.KW;
        int n = i / outHW, q = i - n * outHW, oh = q / outW, ow = q - oh * outW;
        r.channel = k / taps;
        int tap = k - r.channel * taps;
        r.kh = tap / s.KW;
        r.kw = tap - r.kh * s.KW;
        r.plane = (n * s.C + r.channel) * s.H * s.W;
        r.ih0 = oh * s.Stride - s.Pad;
        r.iw0 = ow * s.Stride - s.Pad;
        return r;
    }

    public readonly float Value
    {
        get
        {
            int ih = ih0 + kh, iw = iw0 + kw;
            if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) return 0f;
            float v = x[plane + ih * s.W + iw];
            return default(TInput).Identity ? v : input.Apply(v, input.Channel(channel));
        }
    }

    public void Advance(int steps)
    {
        kw += steps;
        Carry.Wrap(ref kw, ref kh, s.KW);
        int channels = 0;
        Carry.Wrap(ref kh, ref channels, s.KH);
        plane += channels * s.H * s.W;
        channel += channels;
    }
}

/// <summary>
/// B of the weight-gradient GEMM: im2col(x)ᵀ [N·OutH·OutW, C·KH·KW] with the column i = (c, kh, kw) fixed and
/// k = (n, oh, ow) walking; the same elements as <see cref="Im2colStream{TInput}"/>, walked the other way.
/// </summary>
internal struct Im2colTransposeStream<TInput> : IKStream<Im2colTransposeStream<TInput>> where TInput : struct, IConvInput
{
    readonly ArrayView<float> x;
    readonly Conv2dShape s;
    readonly TInput input;
    Quad parameters;
    int plane, ih, iw, oh, ow;

    public Im2colTransposeStream(ArrayView<float> x, Conv2dShape s, TInput input)
    {
        this.x = x;
        this.s = s;
        this.input = input;
        parameters = default;
        plane = ih = iw = oh = ow = 0;
    }

    public readonly Im2colTransposeStream<TInput> Seek(int i, int k)
    {
        var r = this;
        int outW = s.OutW, outHW = s.OutH * outW, taps = s.KH * s.KW;
        int c = i / taps, tap = i - c * taps, kh = tap / s.KW, kw = tap - kh * s.KW;
        int n = k / outHW, q = k - n * outHW;
        r.oh = q / outW;
        r.ow = q - r.oh * outW;
        r.plane = (n * s.C + c) * s.H * s.W;
        r.ih = r.oh * s.Stride - s.Pad + kh;
        r.iw = r.ow * s.Stride - s.Pad + kw;
        if (!default(TInput).Identity) r.parameters = input.Channel(c);
        return r;
    }

    public readonly float Value
    {
        get
        {
            if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) return 0f;
            float v = x[plane + ih * s.W + iw];
            return default(TInput).Identity ? v : input.Apply(v, parameters);
        }
    }

    public void Advance(int steps)
    {
        int outW = s.OutW, outH = s.OutH;
        ow += steps;
        iw += steps * s.Stride;
        while (ow >= outW)
        {
            ow -= outW;
            iw -= outW * s.Stride;
            oh++;
            ih += s.Stride;
        }
        while (oh >= outH)
        {
            oh -= outH;
            ih -= outH * s.Stride;
            plane += s.C * s.H * s.W;
        }
    }
}

/// <summary>
/// B of the input-gradient GEMM: gy gathered to input positions, [K·KH·KW, N·H·W], with the column i = (n, ih, iw)
/// fixed and k = (k, kh, kw) walking; element gy[n, k, oh, ow] where oh·S = ih + P − kh and ow·S = iw + P − kw, zero
/// where no output position lands (padding, or between strided positions). The quotient and remainder of those
/// positions by S are stepped, not divided.
/// </summary>
internal struct Col2imStream : IKStream<Col2imStream>
{
    readonly ArrayView<float> gy;
    readonly Conv2dShape s;
    int plane, kh, kw, oh, ohRem, ow, owRem; // (oh, ohRem): ih + P − kh = oh·S + ohRem, 0 ≤ ohRem < S; same for ow

    public Col2imStream(ArrayView<float> gy, Conv2dShape s)
    {
        this.gy = gy;
        this.s = s;
        plane = kh = kw = oh = ohRem = ow = owRem = 0;
    }

    public readonly Col2imStream Seek(int i, int k)
    {
        var r = this;
        int hw = s.H * s.W, taps = s.KH * s.KW;
        int n = i / hw, q = i - n * hw, ih = q / s.W, iw = q - ih * s.W;
        int channel = k / taps, tap = k - channel * taps;
        r.kh = tap / s.KW;
        r.kw = tap - r.kh * s.KW;
        r.plane = (n * s.K + channel) * s.OutH * s.OutW;
        (r.oh, r.ohRem) = FloorDivide(ih + s.Pad - r.kh, s.Stride);
        (r.ow, r.owRem) = FloorDivide(iw + s.Pad - r.kw, s.Stride);
        return r;
    }

    public readonly float Value =>
        ohRem == 0 && owRem == 0 && oh >= 0 && oh < s.OutH && ow >= 0 && ow < s.OutW ? gy[plane + oh * s.OutW + ow] : 0f;

    public void Advance(int steps)
    {
        kw += steps;
        Lower(ref ow, ref owRem, steps);
        while (kw >= s.KW)
        {
            kw -= s.KW;
            Raise(ref ow, ref owRem, s.KW);
            kh++;
            Lower(ref oh, ref ohRem, 1);
        }
        while (kh >= s.KH)
        {
            kh -= s.KH;
            Raise(ref oh, ref ohRem, s.KH);
            plane += s.OutH * s.OutW;
        }
    }

    /// <summary>(q, r) with value = q·S + r, 0 ≤ r &lt; S, also for negative values.</summary>
    static (int, int) FloorDivide(int value, int stride)
    {
        int q = value >= 0 ? value / stride : -((-value + stride - 1) / stride);
        return (q, value - q * stride);
    }

    readonly void Lower(ref int q, ref int r, int by)
    {
        r -= by;
        while (r < 0)
        {
            r += s.Stride;
            q--;
        }
    }

    readonly void Raise(ref int q, ref int r, int by)
    {
        r += by;
        Carry.Wrap(ref r, ref q, s.Stride);
    }
}

/// <summary>
/// An operand stored as <see cref="ChannelRows"/> ([N, Channels, Spatial] seen as [Channels, N·Spatial]) read along its
/// rows: i = channel fixed, k = (n, p) walking. A of the weight-gradient GEMM (gy as [K, N·OutH·OutW]) and of the
/// input-gradient GEMM (w [K, C, KH, KW] as [C, K·KH·KW]).
/// </summary>
internal struct ChannelRowsStream : IKStream<ChannelRowsStream>
{
    readonly ArrayView<float> data;
    readonly ChannelRows layout;
    int offset, p;

    public ChannelRowsStream(ArrayView<float> data, ChannelRows layout)
    {
        this.data = data;
        this.layout = layout;
        offset = p = 0;
    }

    public readonly ChannelRowsStream Seek(int i, int k)
    {
        var r = this;
        int n = k / layout.Spatial;
        r.p = k - n * layout.Spatial;
        r.offset = (n * layout.Channels + i) * layout.Spatial + r.p;
        return r;
    }

    public readonly float Value => data[offset];

    public void Advance(int steps)
    {
        p += steps;
        offset += steps;
        while (p >= layout.Spatial)
        {
            p -= layout.Spatial;
            offset += (layout.Channels - 1) * layout.Spatial;
        }
    }
}
