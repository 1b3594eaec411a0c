namespace RevNetIlgpu.RevNet.Gpu;

/// <summary>A code generator <see cref="OfflineCompiler"/> drives: ILGPU's PTX backend (CUDA) or its OpenCL C backend.</summary>
public enum KernelTarget
{
    Ptx,
    OpenCL,
}
