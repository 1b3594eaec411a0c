namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// A GPU to plan launches for without one (<see cref="KernelContext.UseGpuProfile"/>, <see cref="KernelContext.Planning"/>):
/// what the launch shapes depend on, and what ptx-check's report assumes of it.
/// </summary>
/// <param name="Name">for reports</param>
/// <param name="Architecture">the CUDA architecture its PTX is assembled for, e.g. "sm_90"</param>
/// <param name="Multiprocessors">SMs: launches split their work until two groups per SM run</param>
public sealed record GpuProfile(string Name, string Architecture, int Multiprocessors)
{
    /// <summary>NVIDIA H200 (Hopper, 132 SMs), the GPU this project's checks target.</summary>
    public static GpuProfile H200 { get; } = new("NVIDIA H200", "sm_90", 132);
}
