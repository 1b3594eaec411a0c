using System.Globalization;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// What a training run trains: any <see cref="Layers.Module"/> with a name (for logs, results and checkpoints), the
/// metadata its checkpoints carry about it (checked again when a run resumes), its loss, and optionally its parameters.
/// </summary>
/// <param name="Module">The network.</param>
/// <param name="Name">How logs, the RESULT line and checkpoints name it.</param>
/// <param name="Metadata">Written into every checkpoint; a resumed run must match it.</param>
/// <param name="LossOrNull">The training loss; null: mean cross-entropy.</param>
/// <param name="Parameters">
/// The module's parameters, allocated by the caller (<see cref="ParameterStore.Allocate"/>): they stay allocated after the
/// run, holding the trained weights. Null: the run allocates them (seeded by <see cref="TrainOptions.Seed"/>) and frees them at its end.
/// </param>
public sealed record TrainingModel(Module Module, string Name, IReadOnlyDictionary<string, string> Metadata, LossFunction? LossOrNull = null,
    ParameterStore? Parameters = null)
{
    /// <summary>
    /// A user's own model, named <paramref name="name"/>, trained with <paramref name="loss"/> (default mean cross-entropy);
    /// with <paramref name="parameters"/> the trained weights stay in them after the run.
    /// </summary>
    public static TrainingModel Custom(Module module, string name, ParameterStore? parameters = null, LossFunction? loss = null) =>
        new(module, name, new Dictionary<string, string> { ["model"] = name }, loss, parameters);

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
