namespace RevNetIlgpu.Engine;

/// <summary>
/// Where tensors live and kernels run. <see cref="Cpu"/> keeps tensors in ILGPU's CPU-accelerator memory and runs the SIMD
/// host kernels (Kernels/Host); <see cref="IlgpuCpu"/> runs the ILGPU kernels on that accelerator (the GPU code path).
/// <see cref="Meta"/> allocates and counts exactly like a real device but launches nothing.
/// </summary>
public enum DeviceKind
{
    /// <summary>The SIMD host kernels (Kernels/Host) on tensors in ILGPU's CPU-accelerator memory: `--device cpu`.</summary>
    Cpu,
    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator, the GPU code path run on the CPU: `--device ilgpu-cpu`.</summary>
    IlgpuCpu,
    /// <summary>The ILGPU kernels on an NVIDIA GPU: `--device cuda`.</summary>
    Cuda,
    /// <summary>The ILGPU kernels on an OpenCL device: `--device opencl`.</summary>
    OpenCL,
    /// <summary>No data and no kernels; allocations are split, merged and counted as on a real device: `--device meta`.</summary>
    Meta,
}
