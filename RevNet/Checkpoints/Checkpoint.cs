using System.Globalization;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>Where a run stands: enough to continue it exactly.</summary>
public sealed record TrainingState(long Step, int Epoch, int BatchInEpoch, double BestTestAccuracy);

/// <summary>
/// A model checkpoint as a safetensors file: every persistent parameter and buffer under its state_dict name
/// (e.g. "stage1.rev.0.f.f.2.weight", PyTorch layouts), the optimizer's momentum buffer as "optimizer.momentum"
/// (flat, in the parameter buffer's order), and metadata with the model, options and position in the data.
/// Written atomically: a crash at any moment leaves the previous file intact.
/// </summary>
public static class Checkpoint
{
    public const string MomentumName = "optimizer.momentum";

    public static void Save(string path, ResidualNetwork model, SgdOptimizer? optimizer, TrainingState state, IReadOnlyDictionary<string, string> extraMetadata)
    {
        var tensors = model.NamedParameters()
            .Where(p => p.Parameter.Persistent)
            .Select(p => SafeTensor.F32(p.Path, p.Parameter.Shape, p.Parameter.Value.ToArray()))
            .ToList();
        if (optimizer is not null)
            tensors.Add(SafeTensor.F32(MomentumName, [(int)optimizer.MomentumBuffer.Length], optimizer.MomentumBuffer.ToArray()));
        var inv = CultureInfo.InvariantCulture;
        var metadata = new Dictionary<string, string>(extraMetadata)
        {
            ["format"] = "revnet-ilgpu/1",
            ["model"] = model.Config.Name,
            ["input_channels"] = model.Config.InputChannels.ToString(inv),
            ["classes"] = model.Config.Classes.ToString(inv),
            ["step"] = state.Step.ToString(inv),
            ["epoch"] = state.Epoch.ToString(inv),
            ["batch_in_epoch"] = state.BatchInEpoch.ToString(inv),
            ["best_test_accuracy"] = state.BestTestAccuracy.ToString("R", inv),
            ["optimizer_steps"] = (optimizer?.StepCount ?? 0).ToString(inv),
        };
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        SafeTensorsFile.Write(path, tensors, metadata);
    }

    /// <summary>Reads a checkpoint's metadata (validating the file) without touching any model.</summary>
    public static SafeTensorsContent Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint not found: {path}", path);
        var content = SafeTensorsFile.Read(path);
        if (!content.Metadata.TryGetValue("model", out _))
            throw new InvalidDataException($"{path}: not a revnet checkpoint (no 'model' in its metadata)");
        return content;
    }

    /// <summary>The model configuration a checkpoint was saved from.</summary>
    public static ModelConfig ConfigOf(SafeTensorsContent content, string path)
    {
        var m = content.Metadata;
        try
        {
            return ModelConfig.Named(m["model"], int.Parse(m["input_channels"], CultureInfo.InvariantCulture), int.Parse(m["classes"], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}: checkpoint metadata is incomplete or malformed ({e.Message})");
        }
    }

    /// <summary>
    /// Loads every parameter and buffer (and the momentum, if an optimizer is given) into an allocated model,
    /// checking names and shapes first so a mismatched file changes nothing. Returns the saved training state.
    /// </summary>
    public static TrainingState Load(SafeTensorsContent content, string path, ResidualNetwork model, SgdOptimizer? optimizer)
    {
        var expected = model.NamedParameters().Where(p => p.Parameter.Persistent).ToList();
        foreach (var (name, p) in expected)
        {
            if (!content.Contains(name)) throw new InvalidDataException($"{path}: tensor '{name}' is missing (saved from another model?)");
            var t = content[name];
            if (t.DType != SafeTensorDType.F32 || !t.Shape.SequenceEqual(p.Shape))
                throw new InvalidDataException($"{path}: tensor '{name}' is {t.DType} [{string.Join(",", t.Shape)}], the model expects F32 [{string.Join(",", p.Shape)}]");
        }
        if (optimizer is not null)
        {
            if (!content.Contains(MomentumName)) throw new InvalidDataException($"{path}: no optimizer state ('{MomentumName}'); cannot resume exactly");
            if (content[MomentumName].Data.LongLength != optimizer.MomentumBuffer.Length)
                throw new InvalidDataException($"{path}: optimizer state has {content[MomentumName].Data.LongLength} values, the model {optimizer.MomentumBuffer.Length}");
        }
        foreach (var (name, p) in expected) p.Value.CopyFrom(content[name].AsF32());
        var m = content.Metadata;
        var inv = CultureInfo.InvariantCulture;
        if (optimizer is not null)
        {
            optimizer.MomentumBuffer.CopyFrom(content[MomentumName].AsF32());
            optimizer.StepCount = long.Parse(m.GetValueOrDefault("optimizer_steps", "0"), inv);
        }
        return new TrainingState(
            long.Parse(m.GetValueOrDefault("step", "0"), inv),
            int.Parse(m.GetValueOrDefault("epoch", "0"), inv),
            int.Parse(m.GetValueOrDefault("batch_in_epoch", "0"), inv),
            double.Parse(m.GetValueOrDefault("best_test_accuracy", "0"), inv));
    }
}
