namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host form of <see cref="Conv2dKernels"/> (NCHW, PyTorch weight layout, square stride, zero padding). This is the plain
/// placeholder: the direct loops of the ILGPU CPU path, one work item per output plane, each row an FMA row update.
/// The packed, cache-blocked GEMM version replaces this file. Activation gradients are written (=), gw accumulated (+=).
/// </summary>
public static class Conv2dHost
{
    /// <summary>y = conv2d(x, w) + bias; <paramref name="bias"/> empty = no bias. y is overwritten.</summary>
    public static unsafe void Forward(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        Check(s, x.Length, w.Length, y.Length);
        int outH = s.OutH, outW = s.OutW;
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            var (xs, ws, bs, ys) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pw, w.Length), new PinnedSpan<float>(pb, bias.Length), new PinnedSpan<float>(py, y.Length));
            HostThreads.For(s.N * s.K, plane =>
            {
                int n = plane / s.K, k = plane % s.K;
                var output = ys.Slice(plane * outH * outW, outH * outW);
                output.Fill(bs.Length > 0 ? bs.Span[k] : 0f);
                for (int c = 0; c < s.C; c++)
                    for (int oh = 0; oh < outH; oh++)
                        for (int kh = 0; kh < s.KH; kh++)
                        {
                            int ih = oh * s.Stride - s.Pad + kh;
                            if (ih < 0 || ih >= s.H) continue;
                            var inputRow = xs.Slice(((n * s.C + c) * s.H + ih) * s.W, s.W);
                            var outputRow = output.Slice(oh * outW, outW);
                            for (int kw = 0; kw < s.KW; kw++)
                            {
                                float weight = ws.Span[((k * s.C + c) * s.KH + kh) * s.KW + kw];
                                var (first, last) = ValidColumns(s, kw, outW);
                                for (int ow = first; ow < last; ow++) outputRow[ow] += weight * inputRow[ow * s.Stride - s.Pad + kw];
                            }
                        }
            });
        }
    }

    /// <summary>gx = dL/dx from gy = dL/dy (overwritten).</summary>
    public static unsafe void BackwardInput(Conv2dShape s, ReadOnlySpan<float> gy, ReadOnlySpan<float> w, Span<float> gx)
    {
        Check(s, gx.Length, w.Length, gy.Length);
        int outH = s.OutH, outW = s.OutW;
        fixed (float* pgy = gy, pw = w, pgx = gx)
        {
            var (gys, ws, gxs) = (new PinnedSpan<float>(pgy, gy.Length), new PinnedSpan<float>(pw, w.Length), new PinnedSpan<float>(pgx, gx.Length));
            HostThreads.For(s.N * s.C, plane =>
            {
                int n = plane / s.C, c = plane % s.C;
                var input = gxs.Slice(plane * s.H * s.W, s.H * s.W);
                input.Clear();
                for (int k = 0; k < s.K; k++)
                    for (int oh = 0; oh < outH; oh++)
                        for (int kh = 0; kh < s.KH; kh++)
                        {
                            int ih = oh * s.Stride - s.Pad + kh;
                            if (ih < 0 || ih >= s.H) continue;
                            var outputRow = gys.Slice(((n * s.K + k) * outH + oh) * outW, outW);
                            var inputRow = input.Slice(ih * s.W, s.W);
                            for (int kw = 0; kw < s.KW; kw++)
                            {
                                float weight = ws.Span[((k * s.C + c) * s.KH + kh) * s.KW + kw];
                                var (first, last) = ValidColumns(s, kw, outW);
                                for (int ow = first; ow < last; ow++) inputRow[ow * s.Stride - s.Pad + kw] += weight * outputRow[ow];
                            }
                        }
            });
        }
    }

    /// <summary>gw += dL/dw from x and gy = dL/dy: one work item per (k, c) filter slice, summed over images in order.</summary>
    public static unsafe void BackwardWeight(Conv2dShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gw)
    {
        Check(s, x.Length, gw.Length, gy.Length);
        int outH = s.OutH, outW = s.OutW;
        fixed (float* px = x, pgy = gy, pgw = gw)
        {
            var (xs, gys, gws) = (new PinnedSpan<float>(px, x.Length), new PinnedSpan<float>(pgy, gy.Length), new PinnedSpan<float>(pgw, gw.Length));
            HostThreads.For(s.K * s.C, slice =>
            {
                int k = slice / s.C, c = slice % s.C;
                var filter = gws.Slice(slice * s.KH * s.KW, s.KH * s.KW);
                for (int kh = 0; kh < s.KH; kh++)
                    for (int kw = 0; kw < s.KW; kw++)
                    {
                        var (first, last) = ValidColumns(s, kw, outW);
                        float sum = 0f;
                        for (int n = 0; n < s.N; n++)
                            for (int oh = 0; oh < outH; oh++)
                            {
                                int ih = oh * s.Stride - s.Pad + kh;
                                if (ih < 0 || ih >= s.H) continue;
                                var inputRow = xs.Slice(((n * s.C + c) * s.H + ih) * s.W, s.W);
                                var outputRow = gys.Slice(((n * s.K + k) * outH + oh) * outW, outW);
                                for (int ow = first; ow < last; ow++) sum += outputRow[ow] * inputRow[ow * s.Stride - s.Pad + kw];
                            }
                        filter[kh * s.KW + kw] += sum;
                    }
            });
        }
    }

    /// <summary>Output columns [first, last) whose input column ow·S − P + kw lies inside the row.</summary>
    static (int First, int Last) ValidColumns(Conv2dShape s, int kw, int outW)
    {
        int offset = s.Pad - kw, limit = s.W - 1 + s.Pad - kw;
        int first = offset <= 0 ? 0 : (offset + s.Stride - 1) / s.Stride;
        int last = limit < 0 ? 0 : Math.Min(outW, limit / s.Stride + 1);
        return (first, last);
    }

    static void Check(Conv2dShape s, int inputLength, int weightLength, int outputLength)
    {
        s.Validate("conv2d (host)");
        if (inputLength != (long)s.N * s.C * s.H * s.W || weightLength != (long)s.K * s.C * s.KH * s.KW || outputLength != (long)s.N * s.K * s.OutH * s.OutW)
            throw new ArgumentException($"conv2d (host): {s} needs input, weight and output of {(long)s.N * s.C * s.H * s.W}, {(long)s.K * s.C * s.KH * s.KW} and " +
                $"{(long)s.N * s.K * s.OutH * s.OutW} elements, got {inputLength}, {weightLength} and {outputLength}");
    }
}
