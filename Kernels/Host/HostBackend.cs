using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The host backend (`--device cpu`): tensors in the buffers of ILGPU's CPU accelerator (host memory, so the caching
/// allocator and its counters are the same as on every device), ops as SIMD C# kernels over spans of that memory, at the
/// level <see cref="HostSimd.Active"/> on <see cref="HostThreads.Count"/> threads. No ILGPU kernel is ever loaded. Each
/// contract below binds one op group to its span kernels in this folder; <see cref="KernelLaunches"/> counts op calls.
/// </summary>
public sealed class HostBackend : Backend
{
    readonly KernelSet kernels;

    /// <param name="accelerator">ILGPU's CPU accelerator, whose buffers hold the tensors; owned (disposed) by this backend</param>
    public HostBackend(Accelerator accelerator) : base("cpu", accelerator)
    {
        kernels = new KernelSet
        {
            Memory = new Memory(Calls),
            Elementwise = new Elementwise(Calls),
            Conv2d = new Conv2d(Calls),
            BatchNorm = new BatchNorm(Calls),
            BatchNormRelu = new BatchNormRelu(Calls),
            BatchNormReluConv2d = new BatchNormReluConv2d(Calls),
            SyncBatchNorm = new SyncBatchNorm(Calls),
            Pool = new Pool(Calls),
            Subsample = new Subsample(Calls),
            Channels = new Channels(Calls),
            Linear = new Linear(Calls),
            CrossEntropy = new CrossEntropy(Calls),
            Sgd = new Sgd(Calls),
            Coupling = new Coupling(Calls),
        };
    }

    /// <summary>The op groups on this backend (also what <see cref="Run"/> passes).</summary>
    public KernelSet Kernels => kernels;

    /// <summary>"cpu", the SIMD level and the thread count, for the device line.</summary>
    public override string Description => $"cpu: SIMD host kernels ({HostSimd.Active}), {HostThreads.Count} threads";

    /// <summary>Op calls made so far (each host call counts as one launch).</summary>
    public override long KernelLaunches => Calls.Count;

    /// <summary>"host": what <see cref="KernelLaunches"/> counts.</summary>
    public override string LaunchKind => "host";

    /// <summary>Runs <paramref name="ops"/> on this backend's op groups, on the calling thread.</summary>
    public override void Run(Action<KernelSet> ops) => ops(kernels);

    /// <summary>Host kernels finish before they return: nothing is queued.</summary>
    public override void Synchronize() { }

    static Span<T> S<T>(ArrayView<T> view) where T : unmanaged => HostMemory.Span(view);

    sealed class Memory(KernelCalls calls) : MemoryKernels(calls)
    {
        protected override void ZeroCore<T>(ArrayView<T> destination) => S(destination).Clear();

        protected override void UploadCore<T>(ReadOnlySpan<T> source, ArrayView<T> destination) => source.CopyTo(S(destination));

        protected override void DownloadCore<T>(ArrayView<T> source, Span<T> destination) => S(source).CopyTo(destination);
    }

    sealed class Elementwise(KernelCalls calls) : ElementwiseKernels(calls)
    {
        protected override void MapCore<TOp>(TOp op, ArrayView<float> x, ArrayView<float> y) => ElementwiseHost.Map(op, S(x), S(y));

        protected override void ZipCore<TOp>(TOp op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => ElementwiseHost.Zip(op, S(a), S(b), S(y));

        protected override void CountNonFiniteCore(ArrayView<float> x, ArrayView<int> count) => S(count)[0] = ElementwiseHost.CountNonFinite(S(x));
    }

    sealed class Conv2d(KernelCalls calls) : Conv2dKernels(calls)
    {
        protected override void ForwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y) =>
            Conv2dHost.Forward(s, S(x), S(w), S(bias), S(y));

        protected override void BackwardInputCore(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx) =>
            Conv2dHost.BackwardInput(s, S(gy), S(w), S(gx));

        protected override void BackwardWeightCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw) =>
            Conv2dHost.BackwardWeight(s, S(x), S(gy), S(gw));
    }

    sealed class BatchNorm(KernelCalls calls) : BatchNormKernels(calls)
    {
        protected override void ComputeBatchStatsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, float eps) =>
            BatchNormHost.ComputeBatchStats(n, c, hw, S(x), S(mean), S(invstd), eps);

        protected override void ComputeBatchStatsAndUpdateRunningCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
            float eps, float momentum, ArrayView<float> runningMean, ArrayView<float> runningVar)
        {
            BatchNormHost.ComputeBatchStats(n, c, hw, S(x), S(mean), S(invstd), eps);
            BatchNormHost.UpdateRunningStats(c, n * hw, S(mean), S(invstd), eps, momentum, S(runningMean), S(runningVar));
        }

        protected override void NormalizeCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y) =>
            BatchNormHost.Normalize(n, c, hw, S(x), S(mean), S(invstd), S(gamma), S(beta), S(y));

        protected override void UpdateRunningStatsCore(int c, int m, ArrayView<float> mean, ArrayView<float> invstd, float eps, float momentum,
            ArrayView<float> runningMean, ArrayView<float> runningVar) =>
            BatchNormHost.UpdateRunningStats(c, m, S(mean), S(invstd), eps, momentum, S(runningMean), S(runningVar));

        protected override void EvalStatsCore(int c, ArrayView<float> runningMean, ArrayView<float> runningVar, float eps, ArrayView<float> mean, ArrayView<float> invstd) =>
            BatchNormHost.EvalStats(c, S(runningMean), S(runningVar), eps, S(mean), S(invstd));

        protected override void BackwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics) =>
            BatchNormHost.Backward(n, c, hw, S(x), S(gy), S(mean), S(invstd), S(gamma), S(gx), S(ggamma), S(gbeta), batchStatistics);
    }

    sealed class BatchNormRelu(KernelCalls calls) : BatchNormReluKernels(calls)
    {
        protected override void ForwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> a) =>
            BatchNormHost.NormalizeRelu(n, c, hw, S(x), S(mean), S(invstd), S(gamma), S(beta), S(a));

        protected override void BackwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> ga, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics) =>
            BatchNormHost.BackwardRelu(n, c, hw, S(x), S(ga), S(mean), S(invstd), S(gamma), S(beta), S(gx), S(ggamma), S(gbeta), batchStatistics);
    }

    sealed class BatchNormReluConv2d(KernelCalls calls) : BatchNormReluConv2dKernels(calls)
    {
        protected override void ForwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
            ArrayView<float> beta, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y) =>
            BatchNormReluConv2dHost.Forward(s, S(x), S(mean), S(invstd), S(gamma), S(beta), S(w), S(bias), S(y));

        protected override void BackwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
            ArrayView<float> beta, ArrayView<float> w, ArrayView<float> gy, ArrayView<float> ga, ArrayView<float> gw) =>
            BatchNormReluConv2dHost.Backward(s, S(x), S(mean), S(invstd), S(gamma), S(beta), S(w), S(gy), S(ga), S(gw));
    }

    sealed class SyncBatchNorm(KernelCalls calls) : SyncBatchNormKernels(calls)
    {
        protected override void ChannelSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sums) =>
            SyncBatchNormHost.ChannelSums(n, c, hw, S(x), S(sums));

        protected override void CentredSquareSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares) =>
            SyncBatchNormHost.CentredSquareSums(n, c, hw, S(x), S(mean), S(squares));

        protected override void BackwardSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> sums, ArrayView<float> ggamma, ArrayView<float> gbeta) =>
            SyncBatchNormHost.BackwardSums(n, c, hw, S(x), S(gy), S(mean), S(invstd), S(sums), S(ggamma), S(gbeta));

        protected override void BackwardApplyCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> gradientMeans, ArrayView<float> gx) =>
            SyncBatchNormHost.BackwardApply(n, c, hw, S(x), S(gy), S(mean), S(invstd), S(gamma), S(gradientMeans), S(gx));
    }

    sealed class Pool(KernelCalls calls) : PoolKernels(calls)
    {
        protected override void AvgPool2x2PadChannelsForwardCore(int n, int c, int cOut, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil) =>
            PoolHost.AvgPool2x2PadChannelsForward(n, c, cOut, h, w, S(x), S(y), ceil);

        protected override void AvgPool2x2PadChannelsBackwardCore(int n, int c, int cOut, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil) =>
            PoolHost.AvgPool2x2PadChannelsBackward(n, c, cOut, h, w, S(gy), S(gx), ceil);

        protected override void GlobalAvgPoolForwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> y) =>
            PoolHost.GlobalAvgPoolForward(n, c, hw, S(x), S(y));

        protected override void GlobalAvgPoolBackwardCore(int n, int c, int hw, ArrayView<float> gy, ArrayView<float> gx) =>
            PoolHost.GlobalAvgPoolBackward(n, c, hw, S(gy), S(gx));
    }

    sealed class Subsample(KernelCalls calls) : SubsampleKernels(calls)
    {
        protected override void ForwardCore(Planes p, ArrayView<float> x, ArrayView<float> y) => SubsampleHost.Forward(p, S(x), S(y));

        protected override void BackwardCore(Planes p, ArrayView<float> gy, ArrayView<float> gx) => SubsampleHost.Backward(p, S(gy), S(gx));
    }

    sealed class Channels(KernelCalls calls) : ChannelKernels(calls)
    {
        protected override void SumPerChannelCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sum, bool accumulate)
        {
            if (accumulate) ChannelHost.AccumulatePerChannel(n, c, hw, S(x), S(sum));
            else ChannelHost.SumPerChannel(n, c, hw, S(x), S(sum));
        }

        protected override void SplitCore(int n, int c, int hw, int c1, ArrayView<float> x, ArrayView<float> a, ArrayView<float> b) =>
            ChannelHost.Split(n, c, hw, c1, S(x), S(a), S(b));

        protected override void ConcatCore(int n, int c1, int c2, int hw, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) =>
            ChannelHost.Concat(n, c1, c2, hw, S(a), S(b), S(y));

        protected override void PadChannelsCore(int n, int c, int cOut, int hw, ArrayView<float> x, ArrayView<float> y) =>
            ChannelHost.PadChannels(n, c, cOut, hw, S(x), S(y));

        protected override void PadChannelsBackwardCore(int n, int c, int cOut, int hw, ArrayView<float> gy, ArrayView<float> gx) =>
            ChannelHost.PadChannelsBackward(n, c, cOut, hw, S(gy), S(gx));
    }

    sealed class Linear(KernelCalls calls) : LinearKernels(calls)
    {
        protected override void ForwardCore(int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y) =>
            LinearHost.Forward(n, inFeatures, outFeatures, S(x), S(w), S(b), S(y));

        protected override void BackwardInputCore(int n, int inFeatures, int outFeatures, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx) =>
            LinearHost.BackwardInput(n, inFeatures, outFeatures, S(gy), S(w), S(gx));

        protected override void BackwardParamsCore(int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, ArrayView<float> gb) =>
            LinearHost.BackwardParams(n, inFeatures, outFeatures, S(x), S(gy), S(gw), S(gb));
    }

    sealed class CrossEntropy(KernelCalls calls) : CrossEntropyKernels(calls)
    {
        protected override void ForwardCore(int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> loss) =>
            S(loss)[0] = CrossEntropyHost.Forward(n, classes, S(logits), S(labels), S(probs));

        protected override void BackwardCore(int n, int classes, ArrayView<float> probs, ArrayView<int> labels, float gradScale, ArrayView<float> glogits) =>
            CrossEntropyHost.Backward(n, classes, S(probs), S(labels), gradScale, S(glogits));

        protected override void CountCorrectCore(int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> correct) =>
            S(correct)[0] = CrossEntropyHost.CountCorrect(n, classes, S(logits), S(labels));
    }

    sealed class Sgd(KernelCalls calls) : SgdKernels(calls)
    {
        protected override void StepCore(SgdUpdate update, ArrayView<float> weights, ArrayView<float> grads, ArrayView<float> momentumBuffer, int decayedCount) =>
            SgdHost.Step(update, S(weights), S(grads), S(momentumBuffer), decayedCount);
    }

    sealed class Coupling(KernelCalls calls) : CouplingKernels(calls)
    {
        protected override void ScaleShiftCore(ArrayView<float> x, ArrayView<float> s, ArrayView<float> t, ArrayView<float> y) =>
            CouplingHost.ScaleShift(S(x), S(s), S(t), S(y));

        protected override void UnscaleShiftCore(ArrayView<float> y, ArrayView<float> s, ArrayView<float> t, ArrayView<float> x) =>
            CouplingHost.UnscaleShift(S(y), S(s), S(t), S(x));

        protected override void ScaleShiftBackwardCore(ArrayView<float> x, ArrayView<float> s, ArrayView<float> gy, ArrayView<float> gx, ArrayView<float> gs) =>
            CouplingHost.ScaleShiftBackward(S(x), S(s), S(gy), S(gx), S(gs));

        protected override void RoundCore(FixedPointFormat format, ArrayView<float> x, ArrayView<float> y, ArrayView<int> overflow)
        {
            if (!CouplingHost.Round(format, S(x), S(y))) S(overflow)[0] = ExactScaleShift.OutOfRange;
        }

        protected override void AddRoundedCore(FixedPointFormat format, ArrayView<float> x, ArrayView<float> f, ArrayView<float> y, ArrayView<int> overflow)
        {
            if (!CouplingHost.AddRounded(format, S(x), S(f), S(y), 1f)) S(overflow)[0] = ExactScaleShift.OutOfRange;
        }

        protected override void SubtractRoundedCore(FixedPointFormat format, ArrayView<float> y, ArrayView<float> f, ArrayView<float> x) =>
            CouplingHost.AddRounded(format, S(y), S(f), S(x), -1f);

        protected override void ExactScaleShiftCore(ExactScaleShiftArgs args, ArrayView<float> input, ArrayView<float> output)
        {
            int code = CouplingHost.ExactScaleShiftStep(args.Format, args.Inverse != 0, S(input), S(args.S), S(args.T), S(args.Information), S(output));
            if (code != 0) S(args.Overflow)[0] = code;
        }
    }
}
