using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU backend: tensors in the accelerator's buffers, ops as ILGPU kernel launches (CUDA, OpenCL, or ILGPU's CPU
/// accelerator, which runs the same code path for correctness). <see cref="Context"/> holds the loaded-kernel cache and
/// the launch shapes; each contract below binds one op group to its launchers in this folder.
/// </summary>
public sealed class IlgpuBackend : Backend
{
    readonly KernelSet kernels;

    /// <param name="name">as `--device` spells it: "cuda", "opencl" or "ilgpu-cpu"</param>
    /// <param name="accelerator">the accelerator, owned (disposed) by this backend</param>
    public IlgpuBackend(string name, Accelerator accelerator) : base(name, accelerator)
    {
        Context = new KernelContext(accelerator);
        var k = Context;
        kernels = new KernelSet
        {
            Memory = new Memory(k, Calls),
            Elementwise = new Elementwise(k, Calls),
            Conv2d = new Conv2d(k, Calls),
            BatchNorm = new BatchNorm(k, Calls),
            BatchNormRelu = new BatchNormRelu(k, Calls),
            BatchNormReluConv2d = new BatchNormReluConv2d(k, Calls),
            SyncBatchNorm = new SyncBatchNorm(k, Calls),
            Pool = new Pool(k, Calls),
            Subsample = new Subsample(k, Calls),
            Channels = new Channels(k, Calls),
            Linear = new Linear(k, Calls),
            CrossEntropy = new CrossEntropy(k, Calls),
            Sgd = new Sgd(k, Calls),
            Coupling = new Coupling(k, Calls),
        };
    }

    /// <summary>Kernel loading, launch shapes and ILGPU-only settings (tiled or reference kernels, GEMM tilings).</summary>
    public KernelContext Context { get; }

    /// <summary>The op groups on this backend (also what <see cref="Run"/> passes).</summary>
    public KernelSet Kernels => kernels;

    /// <summary>The accelerator's name, for the device line.</summary>
    public override string Description => Name == "ilgpu-cpu" ? $"ilgpu-cpu: ILGPU kernels on {Accelerator!.Name}" : $"{Name}: {Accelerator!.Name}";

    /// <summary>ILGPU kernel launches so far.</summary>
    public override long KernelLaunches => Context.IlgpuLaunches;

    /// <summary>"ilgpu": what <see cref="KernelLaunches"/> counts.</summary>
    public override string LaunchKind => "ilgpu";

    /// <summary>Runs <paramref name="ops"/> on this backend's op groups (launches are queued on the accelerator's stream).</summary>
    public override void Run(Action<KernelSet> ops) => ops(kernels);

    /// <summary>Waits until every queued launch has finished.</summary>
    public override void Synchronize() => Accelerator!.Synchronize();

    /// <summary>Frees the kernel context's buffers, then the accelerator.</summary>
    public override void Dispose()
    {
        Context.Dispose();
        base.Dispose();
    }

    sealed class Memory(KernelContext k, KernelCalls calls) : MemoryKernels(calls)
    {
        protected override void ZeroCore<T>(ArrayView<T> destination) => destination.MemSetToZero();

        protected override void UploadCore<T>(ReadOnlySpan<T> source, ArrayView<T> destination) => destination.CopyFromCPU(source);

        protected override void DownloadCore<T>(ArrayView<T> source, Span<T> destination)
        {
            k.Accelerator.Synchronize();
            source.CopyToCPU(destination);
        }
    }

    sealed class Elementwise(KernelContext k, KernelCalls calls) : ElementwiseKernels(calls)
    {
        protected override void MapCore<TOp>(TOp op, ArrayView<float> x, ArrayView<float> y) => ElementwiseIlgpu.Map(k, op, x, y);

        protected override void ZipCore<TOp>(TOp op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => ElementwiseIlgpu.Zip(k, op, a, b, y);

        protected override void CountNonFiniteCore(ArrayView<float> x, ArrayView<int> count) => ElementwiseIlgpu.CountNonFinite(k, x, count);
    }

    sealed class Conv2d(KernelContext k, KernelCalls calls) : Conv2dKernels(calls)
    {
        protected override void ForwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y) =>
            Conv2dIlgpu.Forward(k, s, x, default(RawInput), w, bias, y);

        protected override void BackwardInputCore(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx) =>
            Conv2dIlgpu.BackwardInput(k, s, gy, w, gx);

        protected override void BackwardWeightCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw) =>
            Conv2dIlgpu.BackwardWeight(k, s, x, default(RawInput), gy, gw);
    }

    sealed class BatchNorm(KernelContext k, KernelCalls calls) : BatchNormKernels(calls)
    {
        protected override void ComputeBatchStatsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, float eps) =>
            BatchNormIlgpu.ComputeBatchStats(k, n, c, hw, x, mean, invstd, eps);

        protected override void ComputeBatchStatsAndUpdateRunningCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
            float eps, float momentum, ArrayView<float> runningMean, ArrayView<float> runningVar) =>
            BatchNormIlgpu.ComputeBatchStats(k, n, c, hw, x, mean, invstd, eps, BatchNormIlgpu.Running(n * hw, momentum, runningMean, runningVar));

        protected override void NormalizeCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y) =>
            BatchNormIlgpu.Normalize(k, c, hw, x, mean, invstd, gamma, beta, y);

        protected override void UpdateRunningStatsCore(int c, int m, ArrayView<float> mean, ArrayView<float> invstd, float eps, float momentum,
            ArrayView<float> runningMean, ArrayView<float> runningVar) =>
            BatchNormIlgpu.UpdateRunningStats(k, c, m, mean, invstd, eps, momentum, runningMean, runningVar);

        protected override void EvalStatsCore(int c, ArrayView<float> runningMean, ArrayView<float> runningVar, float eps, ArrayView<float> mean, ArrayView<float> invstd) =>
            BatchNormIlgpu.EvalStats(k, c, runningMean, runningVar, eps, mean, invstd);

        protected override void BackwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics) =>
            BatchNormIlgpu.Backward(k, n, c, hw, x, gy, mean, invstd, gamma, gx, ggamma, gbeta, batchStatistics);
    }

    sealed class BatchNormRelu(KernelContext k, KernelCalls calls) : BatchNormReluKernels(calls)
    {
        protected override void ForwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> a) =>
            BatchNormReluIlgpu.Forward(k, c, hw, x, mean, invstd, gamma, beta, a);

        protected override void BackwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> ga, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta, bool batchStatistics) =>
            BatchNormReluIlgpu.Backward(k, n, c, hw, x, ga, mean, invstd, gamma, beta, gx, ggamma, gbeta, batchStatistics);
    }

    sealed class BatchNormReluConv2d(KernelContext k, KernelCalls calls) : BatchNormReluConv2dKernels(calls)
    {
        protected override void ForwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
            ArrayView<float> beta, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y) =>
            BatchNormReluConv2dIlgpu.Forward(k, s, x, mean, invstd, gamma, beta, w, bias, y);

        protected override void BackwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
            ArrayView<float> beta, ArrayView<float> w, ArrayView<float> gy, ArrayView<float> ga, ArrayView<float> gw) =>
            BatchNormReluConv2dIlgpu.Backward(k, s, x, mean, invstd, gamma, beta, w, gy, ga, gw);
    }

    sealed class SyncBatchNorm(KernelContext k, KernelCalls calls) : SyncBatchNormKernels(calls)
    {
        protected override void ChannelSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sums) =>
            SyncBatchNormIlgpu.ChannelSums(k, c, hw, x, sums);

        protected override void CentredSquareSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> squares) =>
            SyncBatchNormIlgpu.CentredSquareSums(k, c, hw, x, mean, squares);

        protected override void BackwardSumsCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> sums, ArrayView<float> ggamma, ArrayView<float> gbeta) =>
            SyncBatchNormIlgpu.BackwardSums(k, c, hw, x, gy, mean, invstd, sums, ggamma, gbeta);

        protected override void BackwardApplyCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> mean, ArrayView<float> invstd,
            ArrayView<float> gamma, ArrayView<float> gradientMeans, ArrayView<float> gx) =>
            SyncBatchNormIlgpu.BackwardApply(k, c, hw, x, gy, mean, invstd, gamma, gradientMeans, gx);
    }

    sealed class Pool(KernelContext k, KernelCalls calls) : PoolKernels(calls)
    {
        protected override void AvgPool2x2PadChannelsForwardCore(int n, int c, int cOut, int h, int w, ArrayView<float> x, ArrayView<float> y, bool ceil) =>
            PoolIlgpu.AvgPool2x2PadChannelsForward(k, c, cOut, h, w, x, y, ceil);

        protected override void AvgPool2x2PadChannelsBackwardCore(int n, int c, int cOut, int h, int w, ArrayView<float> gy, ArrayView<float> gx, bool ceil) =>
            PoolIlgpu.AvgPool2x2PadChannelsBackward(k, c, cOut, h, w, gy, gx, ceil);

        protected override void GlobalAvgPoolForwardCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> y) => PoolIlgpu.GlobalAvgPoolForward(k, hw, x, y);

        protected override void GlobalAvgPoolBackwardCore(int n, int c, int hw, ArrayView<float> gy, ArrayView<float> gx) => PoolIlgpu.GlobalAvgPoolBackward(k, hw, gy, gx);
    }

    sealed class Subsample(KernelContext k, KernelCalls calls) : SubsampleKernels(calls)
    {
        protected override void ForwardCore(Planes p, ArrayView<float> x, ArrayView<float> y) => SubsampleIlgpu.Forward(k, p, x, y);

        protected override void BackwardCore(Planes p, ArrayView<float> gy, ArrayView<float> gx) => SubsampleIlgpu.Backward(k, p, gy, gx);
    }

    sealed class Channels(KernelContext k, KernelCalls calls) : ChannelKernels(calls)
    {
        protected override void SumPerChannelCore(int n, int c, int hw, ArrayView<float> x, ArrayView<float> sum, bool accumulate) =>
            ChannelIlgpu.SumPerChannel(k, c, hw, x, sum, accumulate);

        protected override void SplitCore(int n, int c, int hw, int c1, ArrayView<float> x, ArrayView<float> a, ArrayView<float> b) =>
            ChannelIlgpu.SplitConcat(k, x, a, b, new ChannelIlgpu.ChannelHalves { N = n, C = c, C1 = c1, Hw = hw }, gather: false);

        protected override void ConcatCore(int n, int c1, int c2, int hw, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) =>
            ChannelIlgpu.SplitConcat(k, y, a, b, new ChannelIlgpu.ChannelHalves { N = n, C = c1 + c2, C1 = c1, Hw = hw }, gather: true);

        protected override void PadChannelsCore(int n, int c, int cOut, int hw, ArrayView<float> x, ArrayView<float> y) =>
            ChannelIlgpu.PadChannels(k, c, cOut, hw, x, y);

        protected override void PadChannelsBackwardCore(int n, int c, int cOut, int hw, ArrayView<float> gy, ArrayView<float> gx) =>
            ChannelIlgpu.PadChannelsBackward(k, n, c, cOut, hw, gy, gx);
    }

    sealed class Linear(KernelContext k, KernelCalls calls) : LinearKernels(calls)
    {
        protected override void ForwardCore(int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y) =>
            LinearIlgpu.Forward(k, n, inFeatures, outFeatures, x, w, b, y);

        protected override void BackwardInputCore(int n, int inFeatures, int outFeatures, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx) =>
            LinearIlgpu.BackwardInput(k, n, inFeatures, outFeatures, gy, w, gx);

        protected override void BackwardParamsCore(int n, int inFeatures, int outFeatures, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, ArrayView<float> gb) =>
            LinearIlgpu.BackwardParams(k, n, inFeatures, outFeatures, x, gy, gw, gb);
    }

    sealed class CrossEntropy(KernelContext k, KernelCalls calls) : CrossEntropyKernels(calls)
    {
        protected override void ForwardCore(int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> loss) =>
            CrossEntropyIlgpu.Forward(k, classes, logits, labels, probs, loss);

        protected override void BackwardCore(int n, int classes, ArrayView<float> probs, ArrayView<int> labels, float gradScale, ArrayView<float> glogits) =>
            CrossEntropyIlgpu.Backward(k, n, classes, probs, labels, gradScale, glogits);

        protected override void CountCorrectCore(int n, int classes, ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> correct) =>
            CrossEntropyIlgpu.CountCorrect(k, n, classes, logits, labels, correct);
    }

    sealed class Sgd(KernelContext k, KernelCalls calls) : SgdKernels(calls)
    {
        protected override void StepCore(SgdUpdate update, ArrayView<float> weights, ArrayView<float> grads, ArrayView<float> momentumBuffer, int decayedCount) =>
            SgdIlgpu.Step(k, update, weights, grads, momentumBuffer, decayedCount);
    }

    sealed class Coupling(KernelContext k, KernelCalls calls) : CouplingKernels(calls)
    {
        protected override void ScaleShiftCore(ArrayView<float> x, ArrayView<float> s, ArrayView<float> t, ArrayView<float> y) =>
            CouplingIlgpu.ScaleShift(k, x, s, t, y);

        protected override void UnscaleShiftCore(ArrayView<float> y, ArrayView<float> s, ArrayView<float> t, ArrayView<float> x) =>
            CouplingIlgpu.UnscaleShift(k, y, s, t, x);

        protected override void ScaleShiftBackwardCore(ArrayView<float> x, ArrayView<float> s, ArrayView<float> gy, ArrayView<float> gx, ArrayView<float> gs) =>
            CouplingIlgpu.ScaleShiftBackward(k, x, s, gy, gx, gs);

        protected override void RoundCore(FixedPointFormat format, ArrayView<float> x, ArrayView<float> y, ArrayView<int> overflow) =>
            CouplingIlgpu.Round(k, format, x, y, overflow);

        protected override void AddRoundedCore(FixedPointFormat format, ArrayView<float> x, ArrayView<float> f, ArrayView<float> y, ArrayView<int> overflow) =>
            CouplingIlgpu.AddRounded(k, format, x, f, y, 1f, overflow);

        protected override void SubtractRoundedCore(FixedPointFormat format, ArrayView<float> y, ArrayView<float> f, ArrayView<float> x) =>
            CouplingIlgpu.AddRounded(k, format, y, f, x, -1f, default);

        protected override void ExactScaleShiftCore(ExactScaleShiftArgs args, ArrayView<float> input, ArrayView<float> output) =>
            CouplingIlgpu.ScaleShiftExact(k, args, input, output);
    }
}
