using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="Conv2dKernels"/> (shapes there) and of the convolution half of
/// <see cref="BatchNormReluConv2dKernels"/>: the input is read through an <see cref="IConvInput"/>, x itself or
/// relu(batchnorm(x)) computed as it is loaded. Forward, grad-input and grad-weight are each one implicit GEMM
/// (<see cref="GemmKernels.Run"/>):
///   y  [K, N·OutH·OutW] = w [K, C·KH·KW] · im2col(input(x))
///   gx [C, N·H·W]       = w seen as [C, K·KH·KW] · col2im-gather(gy)
///   gw [K, C·KH·KW]    += gy [K, N·OutH·OutW] · im2col(input(x))ᵀ
/// That is the GPU path (<see cref="KernelContext.UseTiled"/>). Each GEMM takes the 16-byte loaders of ConvLoaders.cs
/// for 3×3 convolutions with padding 1 and stride 1 or 2 and for 1×1 convolutions at stride 1 when rows are whole
/// 16-byte words, else the scalar streams of Conv2dStreams.cs. The plain direct kernels below are the CPU path: the
/// GEMM's per-element im2col index arithmetic made the CPU accelerator about 5x slower than looping over rows.
/// Activation gradients are written (=), parameter gradients accumulated (+=).
/// </summary>
internal static class Conv2dIlgpu
{
    // Direct (plain) kernels: the CPU-accelerator path. One work item per output row keeps every index
    // computation out of the inner loop, which is a contiguous run over the row.

    /// <summary>y[n,k,oh,:] = bias[k] + Σ_c,kh,kw w[k,c,kh,kw]·input(x)[n,c,oh·S−P+kh, ·]: one work item per (n, k, oh).</summary>
    static void DirectForwardKernel<TInput>(Conv2dShape s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, TInput input)
        where TInput : struct, IConvInput
    {
        int outH = s.OutH, outW = s.OutW, hasBias = bias.IntLength;
        for (int item = GridLoop.Start, end = s.N * s.K * outH, step = GridLoop.Stride; item < end; item += step)
        {
            int oh = item % outH, k = item / outH % s.K, n = item / (outH * s.K);
            int yRow = item * outW;
            float b = hasBias > 0 ? bias[k] : 0f;
            for (int ow = 0; ow < outW; ow++) y[yRow + ow] = b;
            for (int c = 0; c < s.C; c++)
            {
                var p = default(TInput).Identity ? default : input.Channel(c);
                for (int kh = 0; kh < s.KH; kh++)
                {
                    int ih = oh * s.Stride - s.Pad + kh;
                    if (ih < 0 || ih >= s.H) continue;
                    int xRow = ((n * s.C + c) * s.H + ih) * s.W;
                    for (int kw = 0; kw < s.KW; kw++)
                    {
                        float wv = w[((k * s.C + c) * s.KH + kh) * s.KW + kw];
                        int first = FirstValid(s.Pad - kw, s.Stride), last = LastValid(s.W - 1 + s.Pad - kw, s.Stride, outW);
                        for (int ow = first; ow < last; ow++) y[yRow + ow] += wv * input.Apply(x[xRow + ow * s.Stride - s.Pad + kw], p);
                    }
                }
            }
        }
    }

    /// <summary>gx[n,c,ih,:] = Σ_k,kh,kw w[k,c,kh,kw]·gy[n,k,(ih+P−kh)/S, ·] where that divides: one work item per (n, c, ih).</summary>
    static void DirectBackwardInputKernel(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx)
    {
        for (int item = GridLoop.Start, end = s.N * s.C * s.H, step = GridLoop.Stride; item < end; item += step)
            InputRow(s, gy, w, gx, item);
    }

    /// <summary>gw[k,c,kh,kw] += Σ_n,oh,ow gy[n,k,oh,ow]·input(x)[n,c,oh·S−P+kh, ow·S−P+kw]: one work item per weight.</summary>
    static void DirectBackwardWeightKernel<TInput>(Conv2dShape s, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, TInput input)
        where TInput : struct, IConvInput
    {
        for (int item = GridLoop.Start, end = s.K * s.C * s.KH * s.KW, step = GridLoop.Stride; item < end; item += step)
            WeightItem(s, x, gy, gw, input, item);
    }

    /// <summary>(Public for ILGPU: kernel arguments.) A convolution's views for both gradients in one launch.</summary>
    public struct ConvGradients
    {
        public Conv2dShape S;
        public ArrayView<float> X, W, Gy, Gx, Gw;
    }

    /// <summary>Both gradients in one launch: items below N·C·H are rows of gx, the rest weights of gw.</summary>
    static void DirectBackwardKernel<TInput>(ConvGradients g, TInput input) where TInput : struct, IConvInput
    {
        var s = g.S;
        int rows = s.N * s.C * s.H;
        for (int item = GridLoop.Start, end = rows + s.K * s.C * s.KH * s.KW, step = GridLoop.Stride; item < end; item += step)
        {
            if (item < rows) InputRow(s, g.Gy, g.W, g.Gx, item);
            else WeightItem(s, g.X, g.Gy, g.Gw, input, item - rows);
        }
    }

    /// <summary>Row <paramref name="item"/> = (n, c, ih) of gx.</summary>
    static void InputRow(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx, int item)
    {
        int outH = s.OutH, outW = s.OutW;
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

    /// <summary>Weight <paramref name="item"/> = (k, c, kh, kw) of gw, accumulated.</summary>
    static void WeightItem<TInput>(Conv2dShape s, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, TInput input, int item)
        where TInput : struct, IConvInput
    {
        int outH = s.OutH, outW = s.OutW;
        int kw = item % s.KW, kh = item / s.KW % s.KH, c = item / (s.KW * s.KH) % s.C, k = item / (s.KW * s.KH * s.C);
        int first = FirstValid(s.Pad - kw, s.Stride), last = LastValid(s.W - 1 + s.Pad - kw, s.Stride, outW);
        var p = default(TInput).Identity ? default : input.Channel(c);
        float acc = 0f;
        for (int n = 0; n < s.N; n++)
            for (int oh = 0; oh < outH; oh++)
            {
                int ih = oh * s.Stride - s.Pad + kh;
                if (ih < 0 || ih >= s.H) continue;
                int xRow = ((n * s.C + c) * s.H + ih) * s.W - s.Pad + kw, gyRow = ((n * s.K + k) * outH + oh) * outW;
                for (int ow = first; ow < last; ow++) acc += gy[gyRow + ow] * input.Apply(x[xRow + ow * s.Stride], p);
            }
        gw[item] += acc;
    }

    /// <summary>Smallest ow with ow·S ≥ offset (offset = P − kw): the first output column whose input column is ≥ 0.</summary>
    static int FirstValid(int offset, int stride) => offset <= 0 ? 0 : (offset + stride - 1) / stride;

    /// <summary>One past the largest ow ≤ limit/S (limit = W − 1 + P − kw), capped at the output width.</summary>
    static int LastValid(int limit, int stride, int outW) => limit < 0 ? 0 : IntrinsicMath.Min(outW, limit / stride + 1);

    internal static void Forward<TInput>(KernelContext k, Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y)
        where TInput : struct, IConvInput
    {
        long bytes = ForwardBytes(s, x, input, w, bias, y);
        if (!k.UseTiled)
        {
            k.Load<Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, TInput>(DirectForwardKernel)(
                k.GridStride((long)s.N * s.K * s.OutH), new LaunchCost(ConvFlops(s), bytes), s, x, w, bias, y, input);
            return;
        }
        bool words = Aligned(x, w, y) && (s.C * s.KH * s.KW) % 4 == 0;
        if (words && Window3x3(s, out int stride))
        {
            if (stride == 1) GemmKernels.Run(k, new ForwardTriplets<Stride1, TInput>(s, x, input, w, bias, y, bytes));
            else GemmKernels.Run(k, new ForwardTriplets<Stride2, TInput>(s, x, input, w, bias, y, bytes));
        }
        else if (words && Pointwise(s)) GemmKernels.Run(k, new ForwardPointwise<TInput>(s, x, input, w, bias, y, bytes));
        else GemmKernels.Run(k, new ForwardStreams<TInput>(s, x, input, w, bias, y, bytes));
    }

    internal static void BackwardInput(KernelContext k, Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx)
    {
        if (!k.UseTiled)
        {
            k.Load<Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DirectBackwardInputKernel)(
                k.GridStride((long)s.N * s.C * s.H), new LaunchCost(ConvFlops(s), InputBytes(gy, w, gx)), s, gy, w, gx);
            return;
        }
        InputProblem(s, gy, w, gx, new RunAlone(k));
    }

    internal static void BackwardWeight<TInput>(KernelContext k, Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> gy, ArrayView<float> gw)
        where TInput : struct, IConvInput
    {
        if (!k.UseTiled)
        {
            k.Load<Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, TInput>(DirectBackwardWeightKernel)(
                k.GridStride((long)s.K * s.C * s.KH * s.KW), new LaunchCost(ConvFlops(s), WeightBytes(s, x, input, gy, gw)), s, x, gy, gw, input);
            return;
        }
        WeightProblem(s, x, input, gy, gw, new RunAlone(k));
    }

    /// <summary>gx = dL/d(input) and gw += dL/dw in one launch (the direct kernel's items, or the two GEMMs paired).</summary>
    internal static void Backward<TInput>(KernelContext k, Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> gy, ArrayView<float> w,
        ArrayView<float> gx, ArrayView<float> gw) where TInput : struct, IConvInput
    {
        if (!k.UseTiled)
        {
            var g = new ConvGradients { S = s, X = x, W = w, Gy = gy, Gx = gx, Gw = gw };
            k.Load<ConvGradients, TInput>(DirectBackwardKernel)(k.GridStride((long)s.N * s.C * s.H + (long)s.K * s.C * s.KH * s.KW),
                new LaunchCost(2 * ConvFlops(s), InputBytes(gy, w, gx) + WeightBytes(s, x, input, gy, gw)), g, input);
            return;
        }
        InputProblem(s, gy, w, gx, new PairWithWeight<TInput>(k, s, x, input, gy, gw));
    }

    static long ForwardBytes<TInput>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y)
        where TInput : struct, IConvInput =>
        (x.Length + w.Length + bias.Length + y.Length + (default(TInput).Identity ? 0 : 4L * s.C)) * sizeof(float);

    static long InputBytes(ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx) => (gy.Length + w.Length + gx.Length) * sizeof(float);

    static long WeightBytes<TInput>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> gy, ArrayView<float> gw) where TInput : struct, IConvInput =>
        (x.Length + gy.Length + 2 * gw.Length + (default(TInput).Identity ? 0 : 4L * s.C)) * sizeof(float);

    /// <summary>The input-gradient GEMM for this shape's loaders, handed to <paramref name="user"/>.</summary>
    static void InputProblem<TUser>(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx, TUser user) where TUser : struct, IProblemUser
    {
        long bytes = InputBytes(gy, w, gx);
        bool words = Aligned(gy, w, gx) && s.C % 4 == 0 && s.W % 4 == 0;
        if (words && Window3x3(s, out int stride))
        {
            if (stride == 1) user.Use(new InputTriplets<Stride1>(s, gy, w, gx, bytes));
            else user.Use(new InputTriplets<Stride2>(s, gy, w, gx, bytes));
        }
        else if (words && Pointwise(s)) user.Use(new InputPointwise(s, gy, w, gx, bytes));
        else user.Use(new InputStreams(s, gy, w, gx, bytes));
    }

    /// <summary>The weight-gradient GEMM for this shape's loaders, handed to <paramref name="user"/>.</summary>
    static void WeightProblem<TInput, TUser>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> gy, ArrayView<float> gw, TUser user)
        where TInput : struct, IConvInput where TUser : struct, IProblemUser
    {
        long bytes = WeightBytes(s, x, input, gy, gw);
        bool words = Aligned(x, gy, gw);
        if (words && Window3x3(s, out int stride))
        {
            if (stride == 1) user.Use(new WeightTriplets<Stride1, TInput>(s, x, input, gy, gw, bytes));
            else user.Use(new WeightTriplets<Stride2, TInput>(s, x, input, gy, gw, bytes));
        }
        else if (words && Pointwise(s)) user.Use(new WeightPointwise<TInput>(s, x, input, gy, gw, bytes));
        else user.Use(new WeightStreams<TInput>(s, x, input, gy, gw, bytes));
    }

    /// <summary>What is done with a convolution GEMM once its problem type is chosen.</summary>
    interface IProblemUser
    {
        void Use<TProblem>(TProblem problem) where TProblem : struct, IGemmProblem;
    }

    /// <summary>Launches the GEMM on its own.</summary>
    readonly struct RunAlone(KernelContext k) : IProblemUser
    {
        public void Use<TProblem>(TProblem problem) where TProblem : struct, IGemmProblem => GemmKernels.Run(k, problem);
    }

    /// <summary>Holds the input-gradient GEMM while the weight-gradient one is chosen, then launches the two as a pair.</summary>
    readonly struct PairWithWeight<TInput>(KernelContext k, Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> gy, ArrayView<float> gw)
        : IProblemUser where TInput : struct, IConvInput
    {
        public void Use<TProblem>(TProblem inputGradient) where TProblem : struct, IGemmProblem =>
            WeightProblem(s, x, input, gy, gw, new RunPair<TProblem>(k, inputGradient));
    }

    readonly struct RunPair<TFirst>(KernelContext k, TFirst first) : IProblemUser where TFirst : struct, IGemmProblem
    {
        public void Use<TProblem>(TProblem second) where TProblem : struct, IGemmProblem => GemmKernels.RunPair(k, first, second);
    }

    /// <summary>Multiply-adds of one convolution GEMM, counted twice (all three GEMMs of a convolution do the same number).</summary>
    static long ConvFlops(Conv2dShape s) => 2L * s.N * s.K * s.OutH * s.OutW * s.C * s.KH * s.KW;

    /// <summary>
    /// A 3×3 window with padding 1 at stride 1 or 2 whose output rows are whole 16-byte words (OutW a multiple of 4) and
    /// whose input rows are too (W a multiple of 4; at stride 2 then W = 2·OutW): the triplet loaders' shapes.
    /// </summary>
    static bool Window3x3(Conv2dShape s, out int stride)
    {
        stride = s.Stride;
        return s.KH == 3 && s.KW == 3 && s.Pad == 1 && s.OutW % 4 == 0 && s.W % 4 == 0
            && (s.Stride == 1 || (s.Stride == 2 && s.W == 2 * s.OutW));
    }

    /// <summary>A 1×1 convolution at stride 1 without padding over planes of whole 16-byte words.</summary>
    static bool Pointwise(Conv2dShape s) => s.KH == 1 && s.KW == 1 && s.Pad == 0 && s.Stride == 1 && s.H * s.W % 4 == 0;

    /// <summary>Every view starts on a 16-byte boundary of its buffer (tensors and parameters start on 256, so this holds unless a caller slices oddly).</summary>
    static bool Aligned(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c) => Aligned(a) && Aligned(b) && Aligned(c);

    static bool Aligned(ArrayView<float> v) => ((IContiguousArrayView)v).IndexInBytes % 16 == 0;

    /// <summary>
    /// True when window neighbours can come from the next lanes (<see cref="NeighbourLanes"/>): the accelerator has warp
    /// shuffles, and each row of
    /// <paramref name="rowWords"/> 16-byte words sits in consecutive lanes of one warp of this accelerator, tasks running
    /// along <paramref name="runWords"/> consecutive words.
    /// </summary>
    static bool RowsInLanes<TTiling>(KernelContext k, int rowWords, int runWords) where TTiling : struct, IGemmTiling =>
        k.WarpShuffles && WindowRow.RowsInLanes(rowWords, runWords, GemmPlan.Of<TTiling>().Threads, k.WarpSize);

    /// <summary>"forward 16→16 3x3/1 32x32 (M 16, N 131072, K 144)".</summary>
    static string Describe(string gemm, Conv2dShape s, int m, int n, int k) =>
        $"{gemm} {s.C}→{s.K} {s.KH}x{s.KW}/{s.Stride} {s.H}x{s.W} (M {m}, N {n}, K {k})";

    static DenseOutput<ChannelRows> Activation(ArrayView<float> y, int channels, int plane, ArrayView<float> bias) =>
        new(y, new ChannelRows(channels, plane), OutputMode.Overwrite, bias, BiasAxis.Row);

    static DenseOutput<RowMajor> WeightGradient(ArrayView<float> gw, int columns) => new(gw, new RowMajor(columns), OutputMode.Accumulate);

    /// <summary>
    /// Forward of a 3×3 window: weights as 16-byte words along K (A), im2col triplets (B), K steps of 12; window
    /// neighbours from the next lanes when each output row sits in one warp's lanes.
    /// </summary>
    readonly struct ForwardTriplets<TStride, TInput>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, long bytes)
        : IGemmProblem where TStride : struct, IConvStride where TInput : struct, IConvInput
    {
        public int M => s.K;
        public int N => s.N * s.OutH * s.OutW;
        public int K => s.C * 9;
        public int BlockK => 12;
        public long Bytes => bytes;
        public string Shape => Describe("forward", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            GemmKernels.LoadersFit<ChannelRows<SideA<TTiling, Depth12>, RawInput>, Im2colTriplets<SideB<TTiling, Depth12>, TStride, NeighbourLoads, TInput>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation
        {
            var a = new ChannelRows<SideA<TTiling, Depth12>, RawInput>(w, s.K, K, default);
            var c = Activation(y, s.K, s.OutH * s.OutW, bias);
            if (RowsInLanes<TTiling>(k, s.OutW / 4, default(TTiling).BlockN / 4))
                next.With<ChannelRows<SideA<TTiling, Depth12>, RawInput>, Im2colTriplets<SideB<TTiling, Depth12>, TStride, NeighbourLanes, TInput>, DenseOutput<ChannelRows>, TTiling, TRegisters, Depth12>(
                    k, plan, new(a, new(x, s, input), c, M, N, K), bytes, Shape);
            else
                next.With<ChannelRows<SideA<TTiling, Depth12>, RawInput>, Im2colTriplets<SideB<TTiling, Depth12>, TStride, NeighbourLoads, TInput>, DenseOutput<ChannelRows>, TTiling, TRegisters, Depth12>(
                    k, plan, new(a, new(x, s, input), c, M, N, K), bytes, Shape);
        }
    }

    /// <summary>Forward of a 1×1 convolution: weights along K (A), x across its planes (B), K steps of 8.</summary>
    readonly struct ForwardPointwise<TInput>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, long bytes)
        : IGemmProblem where TInput : struct, IConvInput
    {
        public int M => s.K;
        public int N => s.N * s.H * s.W;
        public int K => s.C;
        public int BlockK => 8;
        public long Bytes => bytes;
        public string Shape => Describe("forward", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            GemmKernels.LoadersFit<ChannelRows<SideA<TTiling, Depth8>, RawInput>, ChannelColumns<SideB<TTiling, Depth8>, TInput>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation =>
            next.With<ChannelRows<SideA<TTiling, Depth8>, RawInput>, ChannelColumns<SideB<TTiling, Depth8>, TInput>, DenseOutput<ChannelRows>, TTiling, TRegisters, Depth8>(
                k, plan, new(new(w, s.K, s.C, default), new(x, s.N, s.C, s.H * s.W, input), Activation(y, s.K, s.H * s.W, bias), M, N, K), bytes, Shape);
    }

    /// <summary>Forward of any other shape, element by element.</summary>
    readonly struct ForwardStreams<TInput>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, long bytes)
        : IGemmProblem where TInput : struct, IConvInput
    {
        public int M => s.K;
        public int N => s.N * s.OutH * s.OutW;
        public int K => s.C * s.KH * s.KW;
        public int BlockK => 8;
        public long Bytes => bytes;
        public string Shape => Describe("forward", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            GemmKernels.LoadersFit<StreamLoader<SideA<TTiling, Depth8>, RowStream<DenseOperand<RowMajor>>>, StreamLoader<SideB<TTiling, Depth8>, Im2colStream<TInput>>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation =>
            next.With<StreamLoader<SideA<TTiling, Depth8>, RowStream<DenseOperand<RowMajor>>>, StreamLoader<SideB<TTiling, Depth8>, Im2colStream<TInput>>, DenseOutput<ChannelRows>, TTiling, TRegisters, Depth8>(
                k, plan, new(new(new(new(w, new RowMajor(K))), M), new(new(x, s, input), N), Activation(y, s.K, s.OutH * s.OutW, bias), M, N, K), bytes, Shape);
    }

    /// <summary>Input gradient of a 3×3 window: weight taps (A), the col2im gather of gy in triplets (B), K steps of 18.</summary>
    readonly struct InputTriplets<TStride>(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx, long bytes) : IGemmProblem
        where TStride : struct, IConvStride
    {
        public int M => s.C;
        public int N => s.N * s.H * s.W;
        public int K => s.K * 9;
        public int BlockK => 18;
        public long Bytes => bytes;
        public string Shape => Describe("grad-input", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            GemmKernels.LoadersFit<WeightTaps<SideA<TTiling, Depth18>>, Col2imTriplets<SideB<TTiling, Depth18>, TStride, NeighbourLoads>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation
        {
            var a = new WeightTaps<SideA<TTiling, Depth18>>(w, s.C);
            var c = Activation(gx, s.C, s.H * s.W, default);
            if (RowsInLanes<TTiling>(k, s.W / 4, default(TTiling).BlockN / 4))
                next.With<WeightTaps<SideA<TTiling, Depth18>>, Col2imTriplets<SideB<TTiling, Depth18>, TStride, NeighbourLanes>, DenseOutput<ChannelRows>, TTiling, TRegisters, Depth18>(
                    k, plan, new(a, new(gy, s), c, M, N, K), bytes, Shape);
            else
                next.With<WeightTaps<SideA<TTiling, Depth18>>, Col2imTriplets<SideB<TTiling, Depth18>, TStride, NeighbourLoads>, DenseOutput<ChannelRows>, TTiling, TRegisters, Depth18>(
                    k, plan, new(a, new(gy, s), c, M, N, K), bytes, Shape);
        }
    }

    /// <summary>Input gradient of a 1×1 convolution: w [K, C] across its rows (A), gy across its planes (B).</summary>
    readonly struct InputPointwise(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx, long bytes) : IGemmProblem
    {
        public int M => s.C;
        public int N => s.N * s.H * s.W;
        public int K => s.K;
        public int BlockK => 8;
        public long Bytes => bytes;
        public string Shape => Describe("grad-input", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            GemmKernels.LoadersFit<ChannelColumns<SideA<TTiling, Depth8>, RawInput>, ChannelColumns<SideB<TTiling, Depth8>, RawInput>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation =>
            next.With<ChannelColumns<SideA<TTiling, Depth8>, RawInput>, ChannelColumns<SideB<TTiling, Depth8>, RawInput>, DenseOutput<ChannelRows>, TTiling, TRegisters, Depth8>(
                k, plan, new(new(w, 1, s.K, s.C, default), new(gy, s.N, s.K, s.H * s.W, default), Activation(gx, s.C, s.H * s.W, default), M, N, K), bytes, Shape);
    }

    /// <summary>Input gradient of any other shape, element by element.</summary>
    readonly struct InputStreams(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx, long bytes) : IGemmProblem
    {
        public int M => s.C;
        public int N => s.N * s.H * s.W;
        public int K => s.K * s.KH * s.KW;
        public int BlockK => 8;
        public long Bytes => bytes;
        public string Shape => Describe("grad-input", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            GemmKernels.LoadersFit<StreamLoader<SideA<TTiling, Depth8>, ChannelRowsStream>, StreamLoader<SideB<TTiling, Depth8>, Col2imStream>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation =>
            next.With<StreamLoader<SideA<TTiling, Depth8>, ChannelRowsStream>, StreamLoader<SideB<TTiling, Depth8>, Col2imStream>, DenseOutput<ChannelRows>, TTiling, TRegisters, Depth8>(
                k, plan, new(new(new(w, new ChannelRows(s.C, s.KH * s.KW)), M), new(new(gy, s), N), Activation(gx, s.C, s.H * s.W, default), M, N, K), bytes, Shape);
    }

    /// <summary>
    /// Weight gradient of a 3×3 window: gy along its planes (A), im2col(x)ᵀ triplets (B). K steps of 32 for 32-wide
    /// outputs, else 16: with whole output rows in a step (and each row in one warp's lanes), window neighbours come
    /// from the next lanes.
    /// </summary>
    readonly struct WeightTriplets<TStride, TInput>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> gy, ArrayView<float> gw, long bytes)
        : IGemmProblem where TStride : struct, IConvStride where TInput : struct, IConvInput
    {
        public int M => s.K;
        public int N => s.C * 9;
        public int K => s.N * s.OutH * s.OutW;
        public int BlockK => s.OutW == 32 ? 32 : 16;
        public long Bytes => bytes;
        public string Shape => Describe("grad-weight", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling => BlockK == 32
            ? GemmKernels.LoadersFit<ChannelRows<SideA<TTiling, Depth32>, RawInput>, Im2colTransposedTriplets<SideB<TTiling, Depth32>, TStride, NeighbourLoads, TInput>>()
                && GemmKernels.SharedFits<TTiling, Depth32>()
            : GemmKernels.LoadersFit<ChannelRows<SideA<TTiling, Depth16>, RawInput>, Im2colTransposedTriplets<SideB<TTiling, Depth16>, TStride, NeighbourLoads, TInput>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation
        {
            if (BlockK == 32) Build<TTiling, TRegisters, Depth32, TNext>(k, plan, next);
            else Build<TTiling, TRegisters, Depth16, TNext>(k, plan, next);
        }

        void Build<TTiling, TRegisters, TDepth, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth where TNext : struct, IGemmContinuation
        {
            var a = new ChannelRows<SideA<TTiling, TDepth>, RawInput>(gy, s.K, s.OutH * s.OutW, default);
            var c = WeightGradient(gw, N);
            if (RowsInLanes<TTiling>(k, s.OutW / 4, default(TDepth).BlockK / 4))
                next.With<ChannelRows<SideA<TTiling, TDepth>, RawInput>, Im2colTransposedTriplets<SideB<TTiling, TDepth>, TStride, NeighbourLanes, TInput>, DenseOutput<RowMajor>, TTiling, TRegisters, TDepth>(
                    k, plan, new(a, new(x, s, input), c, M, N, K), bytes, Shape);
            else
                next.With<ChannelRows<SideA<TTiling, TDepth>, RawInput>, Im2colTransposedTriplets<SideB<TTiling, TDepth>, TStride, NeighbourLoads, TInput>, DenseOutput<RowMajor>, TTiling, TRegisters, TDepth>(
                    k, plan, new(a, new(x, s, input), c, M, N, K), bytes, Shape);
        }
    }

    /// <summary>Weight gradient of a 1×1 convolution: gy and x both along their planes, K steps of 16.</summary>
    readonly struct WeightPointwise<TInput>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> gy, ArrayView<float> gw, long bytes)
        : IGemmProblem where TInput : struct, IConvInput
    {
        public int M => s.K;
        public int N => s.C;
        public int K => s.N * s.H * s.W;
        public int BlockK => 16;
        public long Bytes => bytes;
        public string Shape => Describe("grad-weight", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            GemmKernels.LoadersFit<ChannelRows<SideA<TTiling, Depth16>, RawInput>, ChannelRows<SideB<TTiling, Depth16>, TInput>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation =>
            next.With<ChannelRows<SideA<TTiling, Depth16>, RawInput>, ChannelRows<SideB<TTiling, Depth16>, TInput>, DenseOutput<RowMajor>, TTiling, TRegisters, Depth16>(
                k, plan, new(new(gy, s.K, s.H * s.W, default), new(x, s.C, s.H * s.W, input), WeightGradient(gw, N), M, N, K), bytes, Shape);
    }

    /// <summary>Weight gradient of any other shape, element by element.</summary>
    readonly struct WeightStreams<TInput>(Conv2dShape s, ArrayView<float> x, TInput input, ArrayView<float> gy, ArrayView<float> gw, long bytes)
        : IGemmProblem where TInput : struct, IConvInput
    {
        public int M => s.K;
        public int N => s.C * s.KH * s.KW;
        public int K => s.N * s.OutH * s.OutW;
        public int BlockK => 8;
        public long Bytes => bytes;
        public string Shape => Describe("grad-weight", s, M, N, K);

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            GemmKernels.LoadersFit<StreamLoader<SideA<TTiling, Depth8>, ChannelRowsStream>, StreamLoader<SideB<TTiling, Depth8>, Im2colTransposeStream<TInput>>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation =>
            next.With<StreamLoader<SideA<TTiling, Depth8>, ChannelRowsStream>, StreamLoader<SideB<TTiling, Depth8>, Im2colTransposeStream<TInput>>, DenseOutput<RowMajor>, TTiling, TRegisters, Depth8>(
                k, plan, new(new(new(gy, new ChannelRows(s.K, s.OutH * s.OutW)), M), new(new(x, s, input), N), WeightGradient(gw, N), M, N, K), bytes, Shape);
    }
}
