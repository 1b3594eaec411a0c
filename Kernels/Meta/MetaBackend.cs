namespace RevNetIlgpu.Kernels.Meta;

/// <summary>
/// The meta backend (`--device meta`): holds no data and runs no kernel, so ops only allocate (the caching allocator
/// splits, merges and counts exactly as on a real device) and record on the tape. Plans paper-size models in seconds.
/// </summary>
public sealed class MetaBackend() : Backend("meta", null)
{
    /// <inheritdoc/>
    public override string Description => "meta (counts memory, runs no kernels)";

    /// <inheritdoc/>
    public override long KernelLaunches => 0;

    /// <inheritdoc/>
    public override string LaunchKind => "none";

    /// <inheritdoc/>
    public override void Run(Action<KernelSet> ops) { }

    /// <inheritdoc/>
    public override void Synchronize() { }
}
