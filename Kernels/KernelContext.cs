using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Everything a kernel launch needs from one accelerator: the loaded-kernel cache (loading compiles,
/// so each kernel is loaded once per accelerator), the launch shapes, and whether the tiled kernels
/// or their plain grid-stride references run.
/// </summary>
public sealed class KernelContext
{
    readonly ConcurrentDictionary<System.Reflection.MethodInfo, Delegate> loaded = new();

    public KernelContext(Accelerator accelerator)
    {
        Accelerator = accelerator;
        bool isCpu = accelerator.AcceleratorType == AcceleratorType.CPU;
        // The CPU accelerator runs every simulated thread as an OS thread and every barrier costs ~0.1 ms:
        // small groups, few groups, and the barrier-free reference kernels are what make it fast there.
        GroupSize = isCpu ? Math.Min(accelerator.MaxNumThreadsPerGroup, 16) : 256;
        MaxGroups = isCpu ? Math.Max(1, Environment.ProcessorCount) : accelerator.NumMultiprocessors * 8;
        GemmTile = isCpu ? 4 : 16;
        UseTiled = !isCpu;
    }

    public Accelerator Accelerator { get; }

    /// <summary>Threads per group for grid-stride kernels.</summary>
    public int GroupSize { get; }

    /// <summary>Upper bound on groups in a grid-stride launch; each thread loops over the rest.</summary>
    public int MaxGroups { get; }

    /// <summary>Edge of the square shared-memory tile of the tiled GEMM (threads per group = tile²).</summary>
    public int GemmTile { get; set; }

    /// <summary>True: tiled shared-memory kernels; false: the plain reference kernels (the CPU default).</summary>
    public bool UseTiled { get; set; }

    /// <summary>Every kernel method loaded so far (closed generic methods included): what offline PTX/OpenCL checks compile.</summary>
    public IReadOnlyCollection<System.Reflection.MethodInfo> LoadedKernels => loaded.Keys.ToList();

    /// <summary>A 1-D launch for a grid-stride loop over <paramref name="count"/> elements.</summary>
    public KernelConfig GridStride(long count)
    {
        long groups = Math.Clamp((count + GroupSize - 1) / GroupSize, 1, MaxGroups);
        return new KernelConfig((int)groups, GroupSize);
    }

    /// <summary>One group of <see cref="GroupSize"/> threads per item (e.g. per channel), for block reductions.</summary>
    public KernelConfig GroupPerItem(int items, int sharedFloatsPerGroup = 0) =>
        sharedFloatsPerGroup > 0
            ? new KernelConfig(Math.Max(items, 1), GroupSize, SharedMemoryConfig.RequestDynamic<float>(sharedFloatsPerGroup))
            : new KernelConfig(Math.Max(items, 1), GroupSize);

    public Action<KernelConfig, T1> Load<T1>(Action<T1> kernel)
        where T1 : struct =>
        (Action<KernelConfig, T1>)loaded.GetOrAdd(kernel.Method, _ => Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2> Load<T1, T2>(Action<T1, T2> kernel)
        where T1 : struct where T2 : struct =>
        (Action<KernelConfig, T1, T2>)loaded.GetOrAdd(kernel.Method, _ => Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3> Load<T1, T2, T3>(Action<T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct =>
        (Action<KernelConfig, T1, T2, T3>)loaded.GetOrAdd(kernel.Method, _ => Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4> Load<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct =>
        (Action<KernelConfig, T1, T2, T3, T4>)loaded.GetOrAdd(kernel.Method, _ => Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5> Load<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct =>
        (Action<KernelConfig, T1, T2, T3, T4, T5>)loaded.GetOrAdd(kernel.Method, _ => Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6> Load<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct =>
        (Action<KernelConfig, T1, T2, T3, T4, T5, T6>)loaded.GetOrAdd(kernel.Method, _ => Accelerator.LoadStreamKernel(kernel));
}
