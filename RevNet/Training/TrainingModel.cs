using System.Globalization;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// What a training run trains: any <see cref="Layers.Module"/> with a name (for logs, results and checkpoints), the
/// metadata its checkpoints carry about it (checked again when a run resumes), and its loss.
/// </summary>
/// <param name="Module">The network; its parameters are allocated by the run.</param>
/// <param name="Name">How logs, the RESULT line and checkpoints name it.</param>
/// <param name="Metadata">Written into every checkpoint; a resumed run must match it.</param>
/// <param name="Loss">The training loss; null: mean cross-entropy.</param>
public sealed record TrainingModel(Module Module, string Name, IReadOnlyDictionary<string, string> Metadata, LossFunction? LossOrNull = null)
{
    /// <summary>A user's own model: named <paramref name="name"/>, trained with <paramref name="loss"/> (default mean cross-entropy).</summary>
    public static TrainingModel Custom(Module module, string name, LossFunction? loss = null) =>
        new(module, name, new Dictionary<string, string> { ["model"] = name }, loss);

    /// <summary>A built-in model: its configuration is its metadata, so `revnet eval`, `predict` and `export` can rebuild it.</summary>
    public static TrainingModel Of(ResidualNetwork model) => new(model, model.Config.Name, new Dictionary<string, string>
    {
        ["model"] = model.Config.Name,
        ["input_channels"] = model.Config.InputChannels.ToString(CultureInfo.InvariantCulture),
        ["classes"] = model.Config.Classes.ToString(CultureInfo.InvariantCulture),
    });

    /// <summary>The loss the run trains and evaluates with.</summary>
    public LossFunction Loss => LossOrNull ?? Losses.CrossEntropy;
}
