using System.Globalization;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>Where a run stands: enough to continue it exactly.</summary>
public sealed record TrainingState(long Step, int Epoch, int BatchInEpoch, double BestTestAccuracy);

/// <summary>
/// A model checkpoint as a safetensors file, for any <see cref="Module"/>: its <see cref="Module.StateDict"/> (every
/// persistent parameter and buffer under its state_dict name, PyTorch layouts), the optimizer's momentum buffer as
/// "optimizer.momentum" (flat, in the parameter buffer's order), and metadata with the position in the data and whatever
/// the caller adds. Written atomically (a crash at any moment leaves the previous file intact), every tensor with a
/// checksum that loading verifies (<see cref="SafeTensorsFile"/>).
/// </summary>
public static class Checkpoint
{
    /// <summary>The tensor name of the optimizer's momentum buffer.</summary>
    public const string MomentumName = "optimizer.momentum";

    /// <summary>The metadata key every checkpoint carries, and its value.</summary>
    public const string FormatKey = "format", Format = "revnet-ilgpu/1";

    /// <summary>
    /// Writes <paramref name="model"/>'s state (and <paramref name="optimizer"/>'s, if given) with <paramref name="state"/> and
    /// <paramref name="metadata"/> (any string pairs: a model name, the data's normalisation, class names, ...).
    /// </summary>
    public static void Save(string path, Module model, SgdOptimizer? optimizer, TrainingState state, IReadOnlyDictionary<string, string> metadata)
    {
        var tensors = model.StateDict().Select(e => SafeTensor.F32(e.Key, e.Value.Shape, e.Value.Values)).ToList();
        if (optimizer is not null)
            tensors.Add(SafeTensor.F32(MomentumName, [(int)optimizer.MomentumBuffer.Length], optimizer.MomentumBuffer.ToArray()));
        var inv = CultureInfo.InvariantCulture;
        var all = new Dictionary<string, string>(metadata)
        {
            [FormatKey] = Format,
            ["step"] = state.Step.ToString(inv),
            ["epoch"] = state.Epoch.ToString(inv),
            ["batch_in_epoch"] = state.BatchInEpoch.ToString(inv),
            ["best_test_accuracy"] = state.BestTestAccuracy.ToString("R", inv),
            ["optimizer_steps"] = (optimizer?.StepCount ?? 0).ToString(inv),
        };
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        SafeTensorsFile.Write(path, tensors, all);
    }

    /// <summary>Reads a checkpoint (validating the file and every tensor's checksum) without touching any model.</summary>
    public static SafeTensorsContent Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint not found: {path}", path);
        var content = SafeTensorsFile.Read(path);
        if (!content.Metadata.ContainsKey(FormatKey) && !content.Metadata.ContainsKey("model"))
            throw new InvalidDataException($"{path}: not a revnet checkpoint (no '{FormatKey}' in its metadata)");
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
    /// Loads every parameter and buffer (and the momentum, if an optimizer is given) into an allocated model, checking
    /// names and shapes first so a mismatched file changes nothing (<see cref="Module.LoadStateDict"/>). Returns the saved
    /// training state.
    /// </summary>
    public static TrainingState Load(SafeTensorsContent content, string path, Module model, SgdOptimizer? optimizer)
    {
        var state = new Dictionary<string, StateTensor>();
        foreach (var t in content.Tensors.Where(t => t.Name != MomentumName))
        {
            if (t.DType != SafeTensorDType.F32) throw new InvalidDataException($"{path}: tensor '{t.Name}' is {t.DType}, not F32");
            state[t.Name] = new StateTensor(t.Shape, t.AsF32());
        }
        if (optimizer is not null)
        {
            if (!content.Contains(MomentumName)) throw new InvalidDataException($"{path}: no optimizer state ('{MomentumName}'); cannot resume exactly");
            if (content[MomentumName].Data.LongLength != optimizer.MomentumBuffer.Length)
                throw new InvalidDataException($"{path}: optimizer state has {content[MomentumName].Data.LongLength} values, the model {optimizer.MomentumBuffer.Length}");
        }
        try
        {
            model.LoadStateDict(state, strict: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message} (saved from another model?)");
        }
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
