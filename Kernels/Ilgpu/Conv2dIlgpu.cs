using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="Conv2dKernels"/> (shapes there). Forward, grad-input and
/// grad-weight are each one implicit GEMM (<see cref="GemmKernels.MultiplyStreams"/>) over the K-streams of Conv2dStreams.cs:
///   y  [K, N·OutH·OutW] = w [K, C·KH·KW] · im2col(x)
///   gx [C, N·H·W]       = w seen as [C, K·KH·KW] · col2im-gather(gy)
///   gw [K, C·KH·KW]    += gy [K, N·OutH·OutW] · im2col(x)ᵀ
/// That is the GPU path (<see cref="KernelContext.UseTiled"/>). The plain direct kernels below are the CPU path:
/// the GEMM's per-element im2col index arithmetic made the CPU accelerator about 5x slower than looping over rows.
/// Activation gradients are written (=), parameter gradients accumulated (+=).
/// </summary>
public static class Conv2dIlgpu
{
    // Direct (plain) kernels: the CPU-accelerator path. One work item per output row keeps every index
    // computation out of the inner loop, which is a contiguous run over the row.

    /// <summary>y[n,k,oh,:] = bias[k] + Σ_c,kh,kw w[k,c,kh,kw]·x[n,c,oh·S−P+kh, ·]: one work item per (n, k, oh).</summary>
    static void DirectForwardKernel(Conv2dShape s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y)
    {
        int outH = s.OutH, outW = s.OutW, hasBias = bias.IntLength;
        for (int item = GridLoop.Start, end = s.N * s.K * outH, step = GridLoop.Stride; item < end; item += step)
        {
            int oh = item % outH, k = item / outH % s.K, n = item / (outH * s.K);
            int yRow = item * outW;
            float b = hasBias > 0 ? bias[k] : 0f;
            for (int ow = 0; ow < outW; ow++) y[yRow + ow] = b;
            for (int c = 0; c < s.C; c++)
                for (int kh = 0; kh < s.KH; kh++)
                {
                    int ih = oh * s.Stride - s.Pad + kh;
                    if (ih < 0 || ih >= s.H) continue;
                    int xRow = ((n * s.C + c) * s.H + ih) * s.W;
                    for (int kw = 0; kw < s.KW; kw++)
                    {
                        float wv = w[((k * s.C + c) * s.KH + kh) * s.KW + kw];
                        int first = FirstValid(s.Pad - kw, s.Stride), last = LastValid(s.W - 1 + s.Pad - kw, s.Stride, outW);
                        for (int ow = first; ow < last; ow++) y[yRow + ow] += wv * x[xRow + ow * s.Stride - s.Pad + kw];
                    }
                }
        }
    }

    /// <summary>gx[n,c,ih,:] = Σ_k,kh,kw w[k,c,kh,kw]·gy[n,k,(ih+P−kh)/S, ·] where that divides: one work item per (n, c, ih).</summary>
    static void DirectBackwardInputKernel(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx)
    {
        int outH = s.OutH, outW = s.OutW;
        for (int item = GridLoop.Start, end = s.N * s.C * s.H, step = GridLoop.Stride; item < end; item += step)
        {
            int ih = item % s.H, c = item / s.H % s.C, n = item / (s.H * s.C);
            int gxRow = item * s.W;
            for (int iw = 0; iw < s.W; iw++) gx[gxRow + iw] = 0f;
            for (int k = 0; k < s.K; k++)
                for (int kh = 0; kh < s.KH; kh++)
                {
                    int t = ih + s.Pad - kh;
                    if (t < 0 || t % s.Stride != 0 || t / s.Stride >= outH) continue;
                    int gyRow = ((n * s.K + k) * outH + t / s.Stride) * outW;
                    for (int kw = 0; kw < s.KW; kw++)
                    {
                        float wv = w[((k * s.C + c) * s.KH + kh) * s.KW + kw];
                        int first = FirstValid(s.Pad - kw, s.Stride), last = LastValid(s.W - 1 + s.Pad - kw, s.Stride, outW);
                        for (int ow = first; ow < last; ow++) gx[gxRow + ow * s.Stride - s.Pad + kw] += wv * gy[gyRow + ow];
                    }
                }
        }
    }

    /// <summary>gw[k,c,kh,kw] += Σ_n,oh,ow gy[n,k,oh,ow]·x[n,c,oh·S−P+kh, ow·S−P+kw]: one work item per weight.</summary>
    static void DirectBackwardWeightKernel(Conv2dShape s, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw)
    {
        int outH = s.OutH, outW = s.OutW;
        for (int item = GridLoop.Start, end = s.K * s.C * s.KH * s.KW, step = GridLoop.Stride; item < end; item += step)
        {
            int kw = item % s.KW, kh = item / s.KW % s.KH, c = item / (s.KW * s.KH) % s.C, k = item / (s.KW * s.KH * s.C);
            int first = FirstValid(s.Pad - kw, s.Stride), last = LastValid(s.W - 1 + s.Pad - kw, s.Stride, outW);
            float acc = 0f;
            for (int n = 0; n < s.N; n++)
                for (int oh = 0; oh < outH; oh++)
                {
                    int ih = oh * s.Stride - s.Pad + kh;
                    if (ih < 0 || ih >= s.H) continue;
                    int xRow = ((n * s.C + c) * s.H + ih) * s.W - s.Pad + kw, gyRow = ((n * s.K + k) * outH + oh) * outW;
                    for (int ow = first; ow < last; ow++) acc += gy[gyRow + ow] * x[xRow + ow * s.Stride];
                }
            gw[item] += acc;
        }
    }

    /// <summary>Smallest ow with ow·S ≥ offset (offset = P − kw): the first output column whose input column is ≥ 0.</summary>
    static int FirstValid(int offset, int stride) => offset <= 0 ? 0 : (offset + stride - 1) / stride;

    /// <summary>One past the largest ow ≤ limit/S (limit = W − 1 + P − kw), capped at the output width.</summary>
    static int LastValid(int limit, int stride, int outW) => limit < 0 ? 0 : IntrinsicMath.Min(outW, limit / stride + 1);

    internal static void Forward(KernelContext k, Conv2dShape s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y)
    {
        if (!k.UseTiled)
        {
            k.Load<Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DirectForwardKernel)(
                k.GridStride((long)s.N * s.K * s.OutH), s, x, w, bias, y);
            return;
        }
        int taps = s.C * s.KH * s.KW;
        GemmKernels.MultiplyStreams(k, s.K, s.N * s.OutH * s.OutW, taps,
            new RowStream<DenseOperand<RowMajor>>(new DenseOperand<RowMajor>(w, new RowMajor(taps))),
            new Im2colStream(x, s),
            new DenseOutput<ChannelRows>(y, new ChannelRows(s.K, s.OutH * s.OutW), OutputMode.Overwrite, bias, BiasAxis.Row));
    }

    internal static void BackwardInput(KernelContext k, Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx)
    {
        if (!k.UseTiled)
        {
            k.Load<Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DirectBackwardInputKernel)(
                k.GridStride((long)s.N * s.C * s.H), s, gy, w, gx);
            return;
        }
        GemmKernels.MultiplyStreams(k, s.C, s.N * s.H * s.W, s.K * s.KH * s.KW,
            new ChannelRowsStream(w, new ChannelRows(s.C, s.KH * s.KW)),
            new Col2imStream(gy, s),
            new DenseOutput<ChannelRows>(gx, new ChannelRows(s.C, s.H * s.W), OutputMode.Overwrite));
    }

    internal static void BackwardWeight(KernelContext k, Conv2dShape s, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw)
    {
        if (!k.UseTiled)
        {
            k.Load<Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DirectBackwardWeightKernel)(
                k.GridStride((long)s.K * s.C * s.KH * s.KW), s, x, gy, gw);
            return;
        }
        int taps = s.C * s.KH * s.KW;
        GemmKernels.MultiplyStreams(k, s.K, taps, s.N * s.OutH * s.OutW,
            new ChannelRowsStream(gy, new ChannelRows(s.K, s.OutH * s.OutW)),
            new Im2colTransposeStream(x, s),
            new DenseOutput<RowMajor>(gw, new RowMajor(taps), OutputMode.Accumulate));
    }
}
