using System.Text.Json.Serialization;
using RevNetIlgpu.Kernels.Ilgpu;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// One model in one mode over the timed steps of a <see cref="StepBenchmark"/> (times in milliseconds).
/// <paramref name="KernelLaunches"/> is per step (the median over timed steps); <paramref name="KernelLaunchKind"/> says what was
/// counted: "ilgpu" (ILGPU kernel launches: ilgpu-cpu and GPUs), "host" (host kernel calls: the cpu device) or "ilgpu+host".
/// <paramref name="LaunchList"/> lists the last timed step's launches in order. All three are null for PyTorch's timings,
/// whose launches are not ours to count.
/// </summary>
public sealed record StepTiming(string Model, string Mode, long Params, double MedianMs, double ImagesPerSecond, IReadOnlyList<double> StepMs,
    long? KernelLaunches, string? KernelLaunchKind, IReadOnlyList<LaunchEntry>? LaunchList = null);

/// <summary>
/// One launch of a step: the kernel ("Class.Method" for an ILGPU kernel, "Contract.Method" for a host kernel call), and for
/// ILGPU launches the type arguments it is closed over (its specialisation: tiling, loaders, operator), the grid and group
/// (x, y, z), dynamic shared memory, floating-point operations and the bytes it must move at least
/// (<see cref="LaunchCost"/>), and for a GEMM what it computes. Host calls carry the kernel only.
/// </summary>
public sealed record LaunchEntry(string Kernel, string? Specialisation, int[]? Grid, int[]? Group, int? DynamicSharedBytes, long? Flops, long? Bytes, string? Shape)
{
    /// <summary>The entry of one recorded ILGPU launch.</summary>
    public static LaunchEntry Of(LaunchRecord r) =>
        new(r.Name, r.Specialisation, [r.Grid.X, r.Grid.Y, r.Grid.Z], [r.Group.X, r.Group.Y, r.Group.Z], r.DynamicSharedBytes, r.Flops, r.Bytes, r.Shape);

    /// <summary>The entry of one host call (<paramref name="entryPoint"/>: the op's name).</summary>
    public static LaunchEntry HostCall(string entryPoint) => new(entryPoint, null, null, null, null, null, null, null);
}

/// <summary>
/// PyTorch on the same network (equal parameter count, checked), batch, image size and thread count, on <paramref name="Device"/>
/// ("cuda" when ours runs on CUDA, else "cpu"), in both its modes,
/// timed in the same rounds as ours. <paramref name="FasterMode"/> is the mode with the lower median step time.
/// </summary>
public sealed record PyTorchComparison(string TorchVersion, string Device, int Threads, StepTiming Stored, StepTiming Reconstruct, string FasterMode);

/// <summary>
/// What `revnet bench step` measured: the RevNet reconstructing and stored and a ResNet of about equal parameters,
/// and the ratios of their step times taken step by step (each step's three runs were back to back). With a PyTorch
/// peer, <see cref="PyTorch"/> holds its timings and <see cref="Ratio"/> our reconstructing images/s over PyTorch's
/// faster mode, round by round (above 1: ours is faster); otherwise both are null and <see cref="PyTorchSkipped"/> says why.
/// With exact reconstruction asked for, <see cref="ExactReconstruct"/> times the RevNet reconstructing with exact couplings in
/// the same rounds and <see cref="ExactOverReconstruct"/> is its step time over the float32 reconstructing one, step by step.
/// </summary>
public sealed record StepBenchmarkResult(
    string Device,
    int Batch,
    int Image,
    int Channels,
    int Steps,
    int Warmup,
    int Threads,
    StepTiming Reconstruct,
    StepTiming Stored,
    StepTiming Baseline,
    SampleStatistics ReconstructOverStored,
    SampleStatistics BaselineOverStored,
    [property: JsonPropertyName("pytorch")] PyTorchComparison? PyTorch,
    SampleStatistics? Ratio,
    [property: JsonPropertyName("pytorch_skipped")] string? PyTorchSkipped,
    [property: JsonPropertyName("host_profile")] IReadOnlyList<HostCallTiming>? HostProfile = null,
    [property: JsonPropertyName("exact_reconstruct")] StepTiming? ExactReconstruct = null,
    [property: JsonPropertyName("exact_over_reconstruct")] SampleStatistics? ExactOverReconstruct = null);

/// <summary>
/// One host-kernel entry point per profiled step of each RevNet mode (means over the profiled steps) (see <see cref="Kernels.KernelCallProfile"/>: each
/// call is charged until the next host call starts, so engine work between kernels is included).
/// </summary>
public sealed record HostCallTiming(string EntryPoint, long ReconstructCalls, double ReconstructMs, long StoredCalls, double StoredMs);
