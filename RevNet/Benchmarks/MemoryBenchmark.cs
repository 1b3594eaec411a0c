using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// `revnet bench memory`: <see cref="MemoryProfile"/> over models and batch sizes, every RevNet both reconstructing
/// and with stored activations, every ResNet stored (it has nothing to reconstruct).
/// </summary>
public static class MemoryBenchmark
{
    /// <summary>The paper's RevNets and the ResNets they are compared with.</summary>
    public static IReadOnlyList<ModelConfig> PaperModels => ModelConfig.Paper;

    /// <summary>
    /// One report per model, mode and batch; batches outermost, then modes in the order of
    /// <see cref="MemoryProfile.RevNetModes"/> (ResNets only stored), then models.
    /// </summary>
    public static IReadOnlyList<MemoryReport> Run(Device device, IReadOnlyList<ModelConfig> models, IReadOnlyList<int> batches, int image)
    {
        var reports = new List<MemoryReport>();
        foreach (int batch in batches)
        foreach (var mode in MemoryProfile.RevNetModes)
        foreach (var config in models.Where(c => c.Reversible || mode == ActivationMemory.Stored))
            reports.Add(MemoryProfile.Measure(device, config, mode, batch, image));
        return reports;
    }
}
