namespace RevNetIlgpu.RevNet.Models;

/// <summary>
/// A CIFAR-style pre-activation network: a 3x3 stem (conv-BN-ReLU), three stages with strides 1, 2, 2, and a
/// BN-ReLU-global-average-pool-linear head. <see cref="StageChannels"/> are each stage's output widths; with
/// <see cref="Bottleneck"/> set, <see cref="BottleneckChannels"/> are the inner widths of the full unit (a RevNet's
/// F and G each get half of both). <see cref="Reversible"/> builds a RevNet: every unit after a stage's first is
/// a reversible block. <see cref="StemStride"/> and <see cref="FirstStageStride"/> 2 halve the resolution early (for
/// small CPU models: fewer positions, more channels for the same work).
/// </summary>
public sealed record ModelConfig(
    string Name,
    bool Reversible,
    int[] UnitsPerStage,
    int StemChannels,
    int[] StageChannels,
    bool Bottleneck = false,
    int[]? BottleneckChannels = null,
    int InputChannels = 3,
    int Classes = 10,
    int StemStride = 1,
    int FirstStageStride = 1)
{
    /// <summary>The paper's networks (Gomez et al. 2017, Table 1), for 32x32 colour images and 10 classes by default.</summary>
    public static IReadOnlyList<ModelConfig> Paper { get; } =
    [
        new("revnet38", true, [3, 3, 3], 32, [32, 64, 112]),
        new("revnet110", true, [9, 9, 9], 32, [32, 64, 128]),
        new("revnet164", true, [9, 9, 9], 32, [128, 256, 512], Bottleneck: true, BottleneckChannels: [32, 64, 128]),
        new("resnet32", false, [5, 5, 5], 16, [16, 32, 64]),
        new("resnet110", false, [18, 18, 18], 16, [16, 32, 64]),
        new("resnet164", false, [18, 18, 18], 16, [64, 128, 256], Bottleneck: true, BottleneckChannels: [16, 32, 64]),
    ];

    /// <summary>Small networks for demos and tests on the CPU: the main job's "revnet-fmnist", and tiny ones for tests.</summary>
    public static IReadOnlyList<ModelConfig> Small { get; } =
    [
        new("revnet-fmnist", true, [2, 2, 2], 16, [16, 32, 64]),
        new("revnet-tiny", true, [2, 2, 2], 8, [8, 16, 32]),
        new("revnet-small", true, [3, 3, 3], 16, [16, 32, 64]),
        new("resnet-tiny", false, [2, 2, 2], 8, [8, 16, 32]),
    ];

    /// <summary>Every built-in model: the paper's, then the small ones.</summary>
    public static IEnumerable<ModelConfig> All => Paper.Concat(Small);

    /// <summary>The named model for the given input channels and classes; unknown names list the known ones.</summary>
    public static ModelConfig Named(string name, int inputChannels = 3, int classes = 10)
    {
        var config = All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown model '{name}'; known models: {string.Join(", ", All.Select(c => c.Name))}");
        return config with { InputChannels = inputChannels, Classes = classes };
    }

    /// <summary>A custom RevNet/ResNet of the given widths and depth (e.g. for quick demos).</summary>
    public static ModelConfig Custom(bool reversible, int unitsPerStage, int width, int inputChannels, int classes) =>
        new($"{(reversible ? "revnet" : "resnet")}-w{width}-d{unitsPerStage}", reversible, [unitsPerStage, unitsPerStage, unitsPerStage],
            width, [width, width * 2, width * 4], InputChannels: inputChannels, Classes: classes);
}
