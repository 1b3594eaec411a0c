namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// One kernel at one shape in one variant ("tiled", "reference", or "single" for kernels with one version):
/// the median synchronised time of a launch and the rate it implies, in <see cref="Unit"/> (GFLOP/s or GB/s).
/// </summary>
public sealed record KernelTiming(string Kernel, string Shape, string Variant, string Unit, double MedianMs, double Rate);
