namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>One model in one mode over the timed steps of a <see cref="StepBenchmark"/> (times in milliseconds).</summary>
public sealed record StepTiming(string Model, string Mode, long Params, double MedianMs, double ImagesPerSecond, IReadOnlyList<double> StepMs);

/// <summary>
/// What `revnet bench step` measured: the RevNet reconstructing and stored and a ResNet of about equal parameters,
/// and the ratios of their step times taken step by step (each step's three runs were back to back).
/// </summary>
public sealed record StepBenchmarkResult(
    string Device,
    int Batch,
    int Image,
    int Steps,
    int Warmup,
    StepTiming Reconstruct,
    StepTiming Stored,
    StepTiming Baseline,
    SampleStatistics ReconstructOverStored,
    SampleStatistics BaselineOverStored);
