namespace RevNetIlgpu.Engine;

/// <summary>
/// Where tensors live and kernels run. <see cref="Cpu"/> keeps tensors in ILGPU's CPU-accelerator memory and runs the SIMD
/// host kernels (Kernels/Host); <see cref="IlgpuCpu"/> runs the ILGPU kernels on that accelerator (the GPU code path).
/// <see cref="Meta"/> allocates and counts exactly like a real device but launches nothing.
/// </summary>
public enum DeviceKind
{
    Cpu,
    IlgpuCpu,
    Cuda,
    OpenCL,
    Meta,
}
