namespace RevNetIlgpu.RevNet.Gpu;

/// <summary>A code generator <see cref="OfflineCompiler"/> drives: ILGPU's PTX backend (CUDA) or its OpenCL C backend.</summary>
public enum KernelTarget
{
    /// <summary>PTX assembly for NVIDIA GPUs (CUDA).</summary>
    Ptx,
    /// <summary>OpenCL C source.</summary>
    OpenCL,
}
