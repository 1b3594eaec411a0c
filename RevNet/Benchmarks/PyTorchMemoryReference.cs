namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// Memory of the same models in PyTorch 1.13 on the CPU at batch 64 on 32x32x3 images, measured outside this project:
/// bytes saved for backward (MiB) and, for the reconstructing RevNets, the process's peak memory (MiB).
/// Quoted beside `revnet bench memory` so the two implementations can be compared.
/// </summary>
public sealed record PyTorchMemoryReference(string Model, string Mode, double SavedForBackwardMiB, double? PeakProcessMiB)
{
    /// <summary>The batch the reference figures were measured at.</summary>
    public const int Batch = 64;

    /// <summary>Every measured model and mode.</summary>
    public static IReadOnlyList<PyTorchMemoryReference> All { get; } =
    [
        new("revnet38", "reconstruct", 39.5, 77),
        new("revnet110", "reconstruct", 40.8, 77),
        new("revnet164", "reconstruct", 230.9, 343),
        new("revnet38", "stored", 199.3, null),
        new("revnet110", "stored", 580.8, null),
        new("revnet164", "stored", 1799.1, null),
        new("resnet32", "stored", 148.8, null),
        new("resnet110", "stored", 512.8, null),
        new("resnet164", "stored", 1539.0, null),
    ];

    /// <summary>The reference for a model and mode at <see cref="Batch"/>, or null when none was measured.</summary>
    public static PyTorchMemoryReference? Find(string model, string mode, int batch) =>
        batch == Batch ? All.FirstOrDefault(r => r.Model == model && r.Mode == mode) : null;
}
