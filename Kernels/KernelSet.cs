namespace RevNetIlgpu.Kernels;

/// <summary>
/// One backend's forms of every op group, each behind its contract (Kernels/Ops): the contract checks shapes once, then
/// calls the backend's form. Engine ops receive this from <see cref="Backend.Run"/>.
/// </summary>
public sealed class KernelSet
{
    /// <summary>Uploads, downloads and zeroing of device memory.</summary>
    public required MemoryKernels Memory { get; init; }

    /// <summary>Element-wise arithmetic over equal-length views.</summary>
    public required ElementwiseKernels Elementwise { get; init; }

    /// <summary>2-D convolution, forward and both backwards.</summary>
    public required Conv2dKernels Conv2d { get; init; }

    /// <summary>Batch normalisation: statistics, normalisation, running statistics, backward.</summary>
    public required BatchNormKernels BatchNorm { get; init; }

    /// <summary>Batch normalisation fused with ReLU, whose backward needs only the input.</summary>
    public required BatchNormReluKernels BatchNormRelu { get; init; }

    /// <summary>conv2d(relu(batchnorm2d(x))) as one op that keeps only x.</summary>
    public required BatchNormReluConv2dKernels BatchNormReluConv2d { get; init; }

    /// <summary>The per-rank sums of batch normalisation synchronised over ranks.</summary>
    public required SyncBatchNormKernels SyncBatchNorm { get; init; }

    /// <summary>2x2 and global average pooling.</summary>
    public required PoolKernels Pool { get; init; }

    /// <summary>Strided subsampling of NCHW planes.</summary>
    public required SubsampleKernels Subsample { get; init; }

    /// <summary>Per-channel sums, channel split and concatenation, zero channel padding.</summary>
    public required ChannelKernels Channels { get; init; }

    /// <summary>Fully connected layers.</summary>
    public required LinearKernels Linear { get; init; }

    /// <summary>Softmax cross-entropy and top-1 counts.</summary>
    public required CrossEntropyKernels CrossEntropy { get; init; }

    /// <summary>SGD with momentum over the flat parameter buffer.</summary>
    public required SgdKernels Sgd { get; init; }

    /// <summary>The element-wise arithmetic of reversible couplings, float and fixed-point.</summary>
    public required CouplingKernels Coupling { get; init; }
}
