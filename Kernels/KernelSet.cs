namespace RevNetIlgpu.Kernels;

/// <summary>
/// One backend's forms of every op group, each behind its contract (Kernels/Ops): the contract checks shapes once, then
/// calls the backend's form. Engine ops receive this from <see cref="Backend.Run"/>.
/// </summary>
public sealed class KernelSet
{
    public required MemoryKernels Memory { get; init; }

    public required ElementwiseKernels Elementwise { get; init; }

    public required Conv2dKernels Conv2d { get; init; }

    public required BatchNormKernels BatchNorm { get; init; }

    public required BatchNormReluKernels BatchNormRelu { get; init; }

    public required BatchNormReluConv2dKernels BatchNormReluConv2d { get; init; }

    public required SyncBatchNormKernels SyncBatchNorm { get; init; }

    public required PoolKernels Pool { get; init; }

    public required SubsampleKernels Subsample { get; init; }

    public required ChannelKernels Channels { get; init; }

    public required LinearKernels Linear { get; init; }

    public required CrossEntropyKernels CrossEntropy { get; init; }

    public required SgdKernels Sgd { get; init; }

    public required CouplingKernels Coupling { get; init; }
}
