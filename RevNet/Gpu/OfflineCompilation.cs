using System.Reflection;

namespace RevNetIlgpu.RevNet.Gpu;

/// <summary>
/// One kernel compiled for one target: <see cref="Code"/> is the PTX assembly or OpenCL C source, or null with
/// <see cref="Error"/> saying why the backend rejected the kernel. <see cref="Architecture"/> is e.g. "sm_90" (PTX only).
/// </summary>
public sealed record OfflineCompilation(MethodInfo Kernel, KernelTarget Target, string? Architecture, string? Code, string? Error)
{
    /// <summary>Whether the backend compiled the kernel (<see cref="Code"/> is set).</summary>
    public bool Succeeded => Error is null;
}
