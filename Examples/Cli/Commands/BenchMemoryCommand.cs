using System.CommandLine;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet bench memory [--batches 64,128] [--image 32] [--device meta] [--json] [--out DIR]</c>: the paper's RevNets
/// reconstructing and stored and the ResNets, beside PyTorch 1.13's figures; with --out also memory.md, memory.json, memory.png.
/// </summary>
public static class BenchMemoryCommand
{
    public static Command Create()
    {
        var batches = new Option<string>("--batches") { Description = "comma-separated batch sizes", DefaultValueFactory = _ => "64,128" };
        var image = new Option<int>("--image") { Description = "image height and width (3 channels)", DefaultValueFactory = _ => 32 };
        var output = new BenchmarkOutput();
        output.Device.DefaultValueFactory = _ => "meta";
        var command = new Command("memory", "training-step memory of RevNet-38/110/164 (reconstructing and stored) and ResNet-32/110/164") { batches, image };
        output.AddTo(command);
        command.SetAction(parse =>
        {
            var sizes = parse.GetValue(batches)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToList();
            int size = parse.GetValue(image);
            using var device = CommonOptions.OpenDevice(parse.GetValue(output.Device), parse.GetValue(output.ConvAlgorithm));
            var reports = MemoryBenchmark.Run(device, MemoryBenchmark.PaperModels, sizes, size);
            string notes = "MiB = 2^20 bytes, from the allocator's exact counters. \"peak step\" is the step's peak minus what was held before it "
                + "(parameters, gradients, momentum, the batch); \"peak in use\" includes them; \"peak held\" is the most the allocator held from the device during the step. \"PyTorch ref\" is PyTorch 1.13 on the CPU at batch 64: bytes saved for backward "
                + "and, for the reconstructing RevNets, the process's peak memory.\n";
            string? directory = output.Emit(parse, "memory", "Training-step memory", device.Name, ToTable(reports, size), notes, MemoryCommand.ToJson(reports));
            if (directory is not null)
                Plots.MemoryBars(reports.Where(r => r.Batch == sizes[0]).ToList(), Path.Combine(directory, "memory.png"),
                    $"peak training-step memory, batch {sizes[0]}, {size}x{size}x3");
            return 0;
        });
        return command;
    }

    static BenchmarkTable ToTable(IReadOnlyList<MemoryReport> reports, int image)
    {
        var table = new BenchmarkTable($"training-step memory, {image}x{image}x3 (MiB)",
            "model", "mode", "batch", "params", "activations after forward", "peak step", "peak in use", "peak held", "stored / leanest reconstruct (peak step)", "PyTorch ref");
        foreach (var r in reports)
        {
            var reference = PyTorchMemoryReference.Find(r.Model, r.Mode, r.Batch);
            string pytorch = reference is null ? ""
                : $"saved {reference.SavedForBackwardMiB:F1}" + (reference.PeakProcessMiB is { } peak ? $", process peak {peak:F0}" : "");
            table.AddRow(r.Model, r.Mode, r.Batch.ToString(), r.Params.ToString("N0"),
                MemoryCommand.MiB(r.ActivationBytesAfterForward).ToString("F1"), MemoryCommand.MiB(r.PeakStepBytes).ToString("F1"),
                MemoryCommand.MiB(r.PeakInUseBytes).ToString("F1"), MemoryCommand.MiB(r.PeakHeldBytes).ToString("F1"), MemoryCommand.StoredOverReconstruct(reports, r), pytorch);
        }
        return table;
    }
}
