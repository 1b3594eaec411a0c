namespace RevNetIlgpu.Engine;

/// <summary>Where tensors live and kernels run. <see cref="Meta"/> allocates and counts exactly like a real device but launches nothing.</summary>
public enum DeviceKind
{
    Cpu,
    Cuda,
    OpenCL,
    Meta,
}
