using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// Everything a kernel launch needs from one accelerator: the loaded-kernel cache (loading compiles,
/// so each kernel is loaded once per accelerator), the launch shapes, and whether the tiled kernels
/// or their plain grid-stride references run. With <see cref="UseGpuProfile"/> and <see cref="Planning"/> it plans the
/// launches a GPU would make (shapes, tilings, splits) on any accelerator without running them: what ptx-check assembles.
/// </summary>
public sealed class KernelContext : IDisposable
{
    readonly ConcurrentDictionary<System.Reflection.MethodInfo, Delegate> loaded = new();
    readonly ConcurrentDictionary<System.Reflection.MethodInfo, byte> planned = new();
    long ilgpuLaunches;
    MemoryBuffer1D<float, Stride1D.Dense>? scratch;
    MemoryBuffer1D<int, Stride1D.Dense>? counters;

    /// <summary>Launch shapes and loaded kernels for <paramref name="accelerator"/>; GPU shapes from its multiprocessor count.</summary>
    public KernelContext(Accelerator accelerator)
    {
        Accelerator = accelerator;
        WarpShuffles = accelerator.AcceleratorType != AcceleratorType.OpenCL;
        if (accelerator.AcceleratorType == AcceleratorType.CPU)
        {
            // The CPU accelerator runs every simulated thread as an OS thread and every barrier costs ~0.1 ms:
            // small groups, few groups, and the barrier-free reference kernels are what make it fast there.
            GroupSize = Math.Min(accelerator.MaxNumThreadsPerGroup, 16);
            MaxGroups = Math.Max(1, Environment.ProcessorCount);
            SmallGemmTiles = true;
            TargetGroups = Math.Max(1, Environment.ProcessorCount);
            ReductionGroupSize = 1;
            UseTiled = false;
            Multiprocessors = Environment.ProcessorCount;
        }
        else UseGpuProfile(accelerator.NumMultiprocessors);
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Multiprocessors the launch shapes are made for (the CPU accelerator: its cores).</summary>
    public int Multiprocessors { get; private set; }

    /// <summary>Lanes per warp the launches are made for: the accelerator's, or a GPU's 32 while planning.</summary>
    public int WarpSize => Planning ? 32 : Accelerator.WarpSize;

    /// <summary>
    /// Whether kernels may exchange values between a warp's lanes (shuffles): CUDA and the CPU accelerator can; ILGPU's
    /// OpenCL backend only with sub-group extensions, which this project does not assume, so not on OpenCL.
    /// </summary>
    public bool WarpShuffles { get; set; }

    /// <summary>
    /// Launch shapes of a GPU with <paramref name="multiprocessors"/> SMs: 256-thread groups, the GPU tilings, and launches
    /// that split their work until two groups per SM run. Set on GPUs, and by planning on any accelerator.
    /// </summary>
    public void UseGpuProfile(int multiprocessors)
    {
        Multiprocessors = Math.Max(1, multiprocessors);
        GroupSize = 256;
        MaxGroups = Multiprocessors * 8;
        SmallGemmTiles = false;
        TargetGroups = 2 * Multiprocessors;
        ReductionGroupSize = GroupSize;
        UseTiled = true;
    }

    /// <summary>
    /// True: launches are recorded (when <see cref="Recorder"/> is set) but not run, so a step runs on the host without
    /// computing anything: how ptx-check plans a GPU's launches without one. Memory copies still happen; values are garbage.
    /// </summary>
    public bool Planning { get; set; }

    /// <summary>When set, every launch (run or planned) is added to it.</summary>
    public LaunchRecorder? Recorder { get; set; }

    /// <summary>Threads per group for grid-stride kernels.</summary>
    public int GroupSize { get; private set; }

    /// <summary>Upper bound on groups in a grid-stride launch; each thread loops over the rest.</summary>
    public int MaxGroups { get; private set; }

    /// <summary>
    /// Threads per group of the one-group-per-item reductions (<see cref="GroupPerItem"/>). 1 on the CPU accelerator, where a
    /// group barrier costs ~0.1 ms and a single thread per channel is ~20x faster; any size gives deterministic sums.
    /// </summary>
    public int ReductionGroupSize { get; set; }

    /// <summary>
    /// True: the tiled GEMM uses <see cref="Tile16x16"/> (16 threads per group, what the CPU accelerator runs fast);
    /// false: the GPU tilings chosen per shape by <see cref="GemmPlan.Choose"/>.
    /// </summary>
    public bool SmallGemmTiles { get; set; }

    /// <summary>
    /// Groups a launch that can split its work should start at least: two waves of the GPU's multiprocessors. The tiled
    /// GEMM splits K to reach it, the batch-norm reductions split each channel.
    /// </summary>
    public int TargetGroups { get; set; }

    /// <summary>Fewest BlockK steps in one K slice of a split GEMM (<see cref="GemmPlan.MinSliceSteps"/> unless a test lowers it).</summary>
    public int GemmMinSliceSteps { get; set; } = GemmPlan.MinSliceSteps;

    /// <summary>
    /// When set, every tiled GEMM whose loaders can take it uses this tiling (with the K split the target asks for): how
    /// tests run each GPU tiling and offline compilation finds each one's kernels.
    /// </summary>
    public GemmTileShape? GemmTile { get; set; }

    /// <summary>
    /// How the tiled GEMM of C [m, n] over K = <paramref name="kDim"/>, stepped by <paramref name="blockK"/>, is launched on
    /// this accelerator; <paramref name="fits"/> says which tilings its loaders can take.
    /// </summary>
    public GemmPlan GemmPlanFor(int m, int n, int kDim, int blockK, Func<GemmTileShape, bool>? fits = null) =>
        GemmTile is { } tile && (fits?.Invoke(tile) ?? true)
            ? GemmPlan.Split(tile, m, n, kDim, blockK, TargetGroups, GemmMinSliceSteps)
            : GemmPlan.Choose(m, n, kDim, blockK, TargetGroups, GemmMinSliceSteps, SmallGemmTiles, fits);

    /// <summary>
    /// A scratch view of at least <paramref name="length"/> floats for partial sums between two launches of one op
    /// (split-K slices, batch-norm partials). Launches run in order on one stream, so ops may reuse it one after another;
    /// it grows (after a synchronise, so no running kernel still reads the old one) and is never shrunk.
    /// </summary>
    public ArrayView<float> Scratch(long length)
    {
        if (scratch is null || scratch.Length < length)
        {
            Accelerator.Synchronize();
            scratch?.Dispose();
            scratch = Accelerator.Allocate1D<float>(Math.Max(length, 1024));
        }
        return scratch.View.SubView(0, length);
    }

    /// <summary>
    /// <paramref name="count"/> ints that are zero between launches: arrival counters for "the last group finishes" kernels,
    /// each of which resets the counters it used before it ends.
    /// </summary>
    public ArrayView<int> Counters(int count)
    {
        if (counters is null || counters.Length < count)
        {
            Accelerator.Synchronize();
            counters?.Dispose();
            counters = Accelerator.Allocate1D<int>(Math.Max(count, 1024));
            counters.MemSetToZero();
        }
        return counters.View.SubView(0, count);
    }

    /// <summary>True: tiled shared-memory kernels; false: the plain reference kernels (the CPU default).</summary>
    public bool UseTiled { get; set; }

    /// <summary>When set, every launch is timed (synchronously) into it: for `revnet bench` and profiling, not for training.</summary>
    public KernelProfile? Profile { get; set; }

    /// <summary>
    /// ILGPU kernel launches made so far through <see cref="Load{T1}"/> and its siblings (planned launches not included):
    /// the launcher counts itself, so no launch is missed. Read before and after a step for launches per step.
    /// </summary>
    public long IlgpuLaunches => Interlocked.Read(ref ilgpuLaunches);

    /// <summary>Every kernel method launched or planned so far (closed generic methods included): what offline PTX/OpenCL checks compile.</summary>
    public IReadOnlyCollection<System.Reflection.MethodInfo> LoadedKernels => loaded.Keys.Union(planned.Keys).ToList();

    /// <summary>Records the launch; true when it is only planned (then it must not run), else counts it.</summary>
    bool Launched(System.Reflection.MethodInfo kernel, KernelConfig config, LaunchCost cost, Func<object?[]> arguments)
    {
        Recorder?.Add(kernel, config, cost, arguments());
        if (Planning)
        {
            planned.TryAdd(kernel, 0);
            return true;
        }
        Interlocked.Increment(ref ilgpuLaunches);
        return false;
    }

    /// <summary>A 1-D launch for a grid-stride loop over <paramref name="count"/> elements.</summary>
    public KernelConfig GridStride(long count)
    {
        long groups = Math.Clamp((count + GroupSize - 1) / GroupSize, 1, MaxGroups);
        return new KernelConfig((int)groups, GroupSize);
    }

    /// <summary>One group of <see cref="ReductionGroupSize"/> threads per item (e.g. per channel) with one shared float per thread, for <see cref="GroupReduction"/>.</summary>
    public KernelConfig GroupPerItem(int items) =>
        new(Math.Max(items, 1), ReductionGroupSize, SharedMemoryConfig.RequestDynamic<float>(ReductionGroupSize));

    /// <summary>A launcher for <paramref name="kernel"/> as a stream kernel, loaded once per method; each launch is recorded for <see cref="Recorder"/> and counted, and while <see cref="Planning"/> only recorded.</summary>
    public Action<KernelConfig, LaunchCost, T1> Load<T1>(Action<T1> kernel)
        where T1 : struct
    {
        var method = kernel.Method;
        return (config, cost, a1) =>
        {
            if (Launched(method, config, cost, () => [a1])) return;
            var run = (Action<KernelConfig, T1>)loaded.GetOrAdd(method, _ => Accelerator.LoadStreamKernel(kernel));
            if (Profile is { } profile) profile.Time(Accelerator, method, () => run(config, a1));
            else run(config, a1);
        };
    }

    /// <summary>As <see cref="Load{T1}(Action{T1})"/>, two arguments.</summary>
    public Action<KernelConfig, LaunchCost, T1, T2> Load<T1, T2>(Action<T1, T2> kernel)
        where T1 : struct where T2 : struct
    {
        var method = kernel.Method;
        return (config, cost, a1, a2) =>
        {
            if (Launched(method, config, cost, () => [a1, a2])) return;
            var run = (Action<KernelConfig, T1, T2>)loaded.GetOrAdd(method, _ => Accelerator.LoadStreamKernel(kernel));
            if (Profile is { } profile) profile.Time(Accelerator, method, () => run(config, a1, a2));
            else run(config, a1, a2);
        };
    }

    /// <summary>As <see cref="Load{T1}(Action{T1})"/>, three arguments.</summary>
    public Action<KernelConfig, LaunchCost, T1, T2, T3> Load<T1, T2, T3>(Action<T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct
    {
        var method = kernel.Method;
        return (config, cost, a1, a2, a3) =>
        {
            if (Launched(method, config, cost, () => [a1, a2, a3])) return;
            var run = (Action<KernelConfig, T1, T2, T3>)loaded.GetOrAdd(method, _ => Accelerator.LoadStreamKernel(kernel));
            if (Profile is { } profile) profile.Time(Accelerator, method, () => run(config, a1, a2, a3));
            else run(config, a1, a2, a3);
        };
    }

    /// <summary>As <see cref="Load{T1}(Action{T1})"/>, four arguments.</summary>
    public Action<KernelConfig, LaunchCost, T1, T2, T3, T4> Load<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        var method = kernel.Method;
        return (config, cost, a1, a2, a3, a4) =>
        {
            if (Launched(method, config, cost, () => [a1, a2, a3, a4])) return;
            var run = (Action<KernelConfig, T1, T2, T3, T4>)loaded.GetOrAdd(method, _ => Accelerator.LoadStreamKernel(kernel));
            if (Profile is { } profile) profile.Time(Accelerator, method, () => run(config, a1, a2, a3, a4));
            else run(config, a1, a2, a3, a4);
        };
    }

    /// <summary>As <see cref="Load{T1}(Action{T1})"/>, five arguments.</summary>
    public Action<KernelConfig, LaunchCost, T1, T2, T3, T4, T5> Load<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        var method = kernel.Method;
        return (config, cost, a1, a2, a3, a4, a5) =>
        {
            if (Launched(method, config, cost, () => [a1, a2, a3, a4, a5])) return;
            var run = (Action<KernelConfig, T1, T2, T3, T4, T5>)loaded.GetOrAdd(method, _ => Accelerator.LoadStreamKernel(kernel));
            if (Profile is { } profile) profile.Time(Accelerator, method, () => run(config, a1, a2, a3, a4, a5));
            else run(config, a1, a2, a3, a4, a5);
        };
    }

    /// <summary>As <see cref="Load{T1}(Action{T1})"/>, six arguments.</summary>
    public Action<KernelConfig, LaunchCost, T1, T2, T3, T4, T5, T6> Load<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        var method = kernel.Method;
        return (config, cost, a1, a2, a3, a4, a5, a6) =>
        {
            if (Launched(method, config, cost, () => [a1, a2, a3, a4, a5, a6])) return;
            var run = (Action<KernelConfig, T1, T2, T3, T4, T5, T6>)loaded.GetOrAdd(method, _ => Accelerator.LoadStreamKernel(kernel));
            if (Profile is { } profile) profile.Time(Accelerator, method, () => run(config, a1, a2, a3, a4, a5, a6));
            else run(config, a1, a2, a3, a4, a5, a6);
        };
    }

    /// <summary>Frees the scratch buffers (the loaded kernels go with the accelerator).</summary>
    public void Dispose()
    {
        scratch?.Dispose();
        counters?.Dispose();
    }
}
