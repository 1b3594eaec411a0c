using System.CommandLine;
using System.Text.Json;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using Spectre.Console;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet memory --models revnet38,revnet110 --batch 64 [--image 32] [--device meta] [--json]</c>: parameters,
/// activation memory after forward, peak step memory, peak in use and peak held from the device, in every mode
/// `revnet train` offers (each reconstructing one and stored), from the allocator's counters.
/// </summary>
public static class MemoryCommand
{
    public static Command Create()
    {
        var models = new Option<string>("--models") { Description = "comma-separated model names (see `revnet models`)", DefaultValueFactory = _ => "revnet38,revnet110,revnet164" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 64 };
        var image = new Option<int>("--image") { Description = "image height and width", DefaultValueFactory = _ => 32 };
        var channels = new Option<int>("--channels") { Description = "input channels", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "print a JSON array (one object per model and mode) instead of a table" };
        var device = CommonOptions.Device();
        var convAlgorithm = CommonOptions.ConvAlgorithm();
        var command = new Command("memory", "measure training-step memory of models, reconstructing vs stored activations")
        {
            models, batch, image, channels, json, device, convAlgorithm,
        };
        command.SetAction(parse =>
        {
            var names = parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            int b = parse.GetValue(batch), size = parse.GetValue(image), c = parse.GetValue(channels);
            if (b <= 0) throw new ArgumentException($"--batch must be positive, got {b}");
            var configs = names.Select(n => ModelConfig.Named(n, inputChannels: c)).ToList();
            using var dev = CommonOptions.OpenDevice(parse.GetValue(device), parse.GetValue(convAlgorithm));
            var reports = configs.SelectMany(config => MemoryProfile.MeasureEveryMode(dev, config, b, size)).ToList();
            if (parse.GetValue(json)) Console.WriteLine(ToJson(reports));
            else AnsiConsole.Write(ToTable(reports, dev.Name));
            return 0;
        });
        return command;
    }

    /// <summary>Bytes in MiB (2^20).</summary>
    public static double MiB(long bytes) => bytes / (1024.0 * 1024.0);

    public static string ToJson(IEnumerable<MemoryReport> reports) =>
        JsonSerializer.Serialize(reports.Select(r => new Dictionary<string, object>
        {
            ["model"] = r.Model,
            ["mode"] = r.Mode,
            ["batch"] = r.Batch,
            ["image"] = r.Image,
            ["params"] = r.Params,
            ["activation_bytes_after_forward"] = r.ActivationBytesAfterForward,
            ["peak_step_bytes"] = r.PeakStepBytes,
            ["held_before_step_bytes"] = r.HeldBeforeStepBytes,
            ["peak_in_use_bytes"] = r.PeakInUseBytes,
            ["peak_held_bytes"] = r.PeakHeldBytes,
        }), new JsonSerializerOptions { WriteIndented = true });

    public static Table ToTable(IReadOnlyList<MemoryReport> reports, string deviceName)
    {
        var table = new Table().Title($"training-step memory on {deviceName} (MiB, from the allocator's exact counters)");
        foreach (var h in new[] { "model", "mode", "batch", "image", "params", "activations after forward", "peak step", "peak in use", "peak held", "stored / reconstruct (peak step)" })
            table.AddColumn(new TableColumn(h).RightAligned());
        foreach (var r in reports)
        {
            table.AddRow(r.Model, r.Mode, r.Batch.ToString(), r.Image.ToString(), r.Params.ToString("N0"),
                MiB(r.ActivationBytesAfterForward).ToString("F1"), MiB(r.PeakStepBytes).ToString("F1"),
                MiB(r.PeakInUseBytes).ToString("F1"), MiB(r.PeakHeldBytes).ToString("F1"), StoredOverReconstruct(reports, r));
        }
        return table;
    }

    /// <summary>For a stored RevNet report, its peak step memory over the same model's leanest reconstructing one ("2.10x"); else "".</summary>
    public static string StoredOverReconstruct(IReadOnlyList<MemoryReport> reports, MemoryReport r)
    {
        var leanest = reports.Where(o => o.Model == r.Model && o.Mode != MemoryProfile.StoredMode && o.Batch == r.Batch && o.Image == r.Image)
            .MinBy(o => o.PeakStepBytes);
        return r.Mode == MemoryProfile.StoredMode && leanest is not null ? $"{(double)r.PeakStepBytes / leanest.PeakStepBytes:F2}x" : "";
    }
}
