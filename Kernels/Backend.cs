using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// What a device computes with, chosen once when the device is made: the host backend (SIMD C#, <c>Kernels/Host</c>),
/// the ILGPU backend (CUDA, OpenCL or ILGPU's CPU accelerator, <c>Kernels/Ilgpu</c>) or the meta backend (counts
/// memory, computes nothing, <c>Kernels/Meta</c>). Ops reach kernels only through <see cref="Run"/>, so no op asks which
/// backend it has: a backend that computes nothing simply never runs them. A new backend is one folder with a subclass
/// of this and a <see cref="KernelSet"/> of its forms.
/// </summary>
public abstract class Backend(string name, Accelerator? accelerator) : IDisposable
{
    /// <summary>Short name as `--device` spells it, e.g. "cpu", "ilgpu-cpu", "cuda", "meta".</summary>
    public string Name { get; } = name;

    /// <summary>A line for the user, e.g. "cpu: SIMD host kernels, 2 threads" or "cuda: NVIDIA H200".</summary>
    public abstract string Description { get; }

    /// <summary>The accelerator whose buffers hold tensors; null for a backend that holds no data (meta).</summary>
    public Accelerator? Accelerator { get; } = accelerator;

    /// <summary>
    /// Kernel work done so far in this backend's own unit: ILGPU kernel launches, or host kernel calls. Read before and
    /// after a step for launches per step; 0 on a backend that computes nothing.
    /// </summary>
    public abstract long KernelLaunches { get; }

    /// <summary>What <see cref="KernelLaunches"/> counts: "ilgpu" (launches), "host" (calls) or "none".</summary>
    public abstract string LaunchKind { get; }

    /// <summary>Op calls made through the contracts, per entry point while a profile is attached (<see cref="KernelCalls.Profile"/>).</summary>
    public KernelCalls Calls { get; } = new();

    /// <summary>Runs <paramref name="ops"/> on this backend's kernels; a backend that computes nothing does not run them.</summary>
    public abstract void Run(Action<KernelSet> ops);

    /// <summary>Waits for queued kernels (host kernels finish before they return).</summary>
    public abstract void Synchronize();

    /// <summary>Disposes the accelerator, if any; a subclass also frees what its kernels hold.</summary>
    public virtual void Dispose() => Accelerator?.Dispose();
}
