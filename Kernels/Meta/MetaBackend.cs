namespace RevNetIlgpu.Kernels.Meta;

/// <summary>
/// The meta backend (`--device meta`): holds no data and runs no kernel, so ops only allocate (the caching allocator
/// splits, merges and counts exactly as on a real device) and record on the tape. Plans paper-size models in seconds.
/// </summary>
public sealed class MetaBackend() : Backend("meta", null)
{
    public override string Description => "meta (counts memory, runs no kernels)";

    public override long KernelLaunches => 0;

    public override string LaunchKind => "none";

    public override void Run(Action<KernelSet> ops) { }

    public override void Synchronize() { }
}
