using System.CommandLine;
using System.Text.Json;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet bench step [--model revnet38] [--batch 32] [--image 32] [--channels 3] [--steps 10] [--warmup 2] [--no-pytorch] [--python PATH] [--profile] [--device …] [--json] [--out DIR]</c>:
/// training-step time reconstructing vs stored, and of the ResNet of about equal parameters, timed alternately; when
/// the python imports torch, PyTorch's copy of the RevNet in both its modes too, in the same rounds, and the ratio.
/// </summary>
public static class BenchStepCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "a RevNet (see `revnet models`)", DefaultValueFactory = _ => "revnet38" };
        var baseline = new Option<string?>("--baseline") { Description = "the ResNet to compare with (default: the one of about equal parameters)" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 32 };
        var image = new Option<int>("--image") { Description = "image height and width", DefaultValueFactory = _ => 32 };
        var channels = new Option<int>("--channels") { Description = "input channels (1: Fashion-MNIST)", DefaultValueFactory = _ => 3 };
        var steps = new Option<int>("--steps") { Description = "timed steps per model", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first (kernel compilation, allocator warm-up)", DefaultValueFactory = _ => 2 };
        var noPyTorch = new Option<bool>("--no-pytorch") { Description = "skip the side-by-side PyTorch timing" };
        var profile = new Option<bool>("--profile") { Description = "cpu device: afterwards profile --steps more RevNet steps of each mode per host-kernel entry point" };
        var python = new Option<string>("--python") { Description = "the python with torch for the comparison", DefaultValueFactory = _ => PyTorchPeer.DefaultPython };
        var output = new BenchmarkOutput();
        var command = new Command("step", "training-step time of a RevNet reconstructing vs stored, and of a ResNet of about equal parameters")
        {
            model, baseline, batch, image, channels, steps, warmup, noPyTorch, python, profile,
        };
        output.AddTo(command);
        command.SetAction(parse =>
        {
            int inputChannels = parse.GetValue(channels);
            if (inputChannels <= 0) throw new ArgumentException($"--channels must be positive, got {inputChannels}");
            var revnet = ModelConfig.Named(parse.GetValue(model)!, inputChannels);
            string resnetName = parse.GetValue(baseline) ?? StepBenchmark.EqualParameterResNet.GetValueOrDefault(revnet.Name)
                ?? throw new ArgumentException($"no ResNet of equal parameters known for {revnet.Name}; pass --baseline");
            int b = parse.GetValue(batch);
            if (b <= 0) throw new ArgumentException($"--batch must be positive, got {b}");
            using var device = CommonOptions.OpenDevice(parse.GetValue(output.Device), parse.GetValue(output.ConvAlgorithm));
            string skipped = "--no-pytorch";
            using var peer = parse.GetValue(noPyTorch) ? null : PyTorchPeer.TryStart(parse.GetValue(python)!, out skipped);
            var result = StepBenchmark.Run(device, revnet, ModelConfig.Named(resnetName, inputChannels), b, parse.GetValue(image), parse.GetValue(steps), parse.GetValue(warmup),
                peer, skipped, parse.GetValue(profile));
            string notes = $"Ratios are medians (min–max) of per-step ratios; the three models ran alternately, one step each, after {result.Warmup} warm-up steps. "
                + $"Reconstruct / stored: {Ratio(result.ReconstructOverStored)}. {result.Baseline.Model} / {revnet.Name} stored: {Ratio(result.BaselineOverStored)}. "
                + "For comparison: the paper reports 50–100% extra time for reconstruction; PyTorch on the CPU measured 1.19–1.31x. "
                + $"Kernel launches per step count {LaunchKindMeaning(result.Reconstruct.KernelLaunchKind)}.\n"
                + (result.PyTorch is { } torch
                    ? $"PyTorch {torch.TorchVersion} on {torch.Device}, {torch.Threads} thread(s) (ours: {result.Threads}), same network ({torch.Stored.Params:N0} parameters), batch and input, "
                      + $"one step of each mode right after ours in every round. Ours reconstructing / PyTorch {torch.FasterMode} (its faster mode), images/s: {Ratio(result.Ratio!)}.\n"
                    : $"No PyTorch comparison: {result.PyTorchSkipped}.\n")
                + (result.HostProfile is { } hostProfile ? ProfileTable(hostProfile).ToMarkdown() : "");
            output.Emit(parse, "step", "Training-step time, reconstructing vs stored", device.Name, ToTable(result), notes,
                JsonSerializer.Serialize(result, BenchmarkOutput.JsonOptions));
            return 0;
        });
        return command;
    }

    static string Ratio(SampleStatistics s) => $"{s.Median:F2}x ({s.Min:F2}–{s.Max:F2})";

    static string LaunchKindMeaning(string? kind) => kind switch
    {
        "host" => "host kernel calls (the cpu device runs no ILGPU kernels)",
        "ilgpu+host" => "ILGPU kernel launches plus host kernel calls",
        _ => "ILGPU kernel launches",
    };

    static BenchmarkTable ToTable(StepBenchmarkResult result)
    {
        var table = new BenchmarkTable($"training step, batch {result.Batch}, {result.Image}x{result.Image}x{result.Channels}, {result.Steps} steps, {result.Threads} thread(s)",
            "model", "mode", "params", "median ms", "images/s", "launches/step", "ratio to stored (median, min–max)");
        foreach (var (timing, ratio) in new[]
                 {
                     (result.Reconstruct, Ratio(result.ReconstructOverStored)),
                     (result.Stored, "1.00x"),
                     (result.Baseline, Ratio(result.BaselineOverStored)),
                 })
            AddRow(table, "", timing, ratio);
        if (result.PyTorch is { } torch)
        {
            AddRow(table, "PyTorch ", torch.Stored, "");
            AddRow(table, "PyTorch ", torch.Reconstruct, "");
            table.AddRow($"ours reconstruct / PyTorch {torch.FasterMode}", "images/s", "", "", "", "", Ratio(result.Ratio!));
        }
        return table;
    }

    /// <summary>The host-call profile: per entry point, calls and charged ms per step of each mode, and the difference.</summary>
    static BenchmarkTable ProfileTable(IReadOnlyList<HostCallTiming> rows)
    {
        var table = new BenchmarkTable("host calls per profiled step, mean (each charged until the next host call starts)",
            "entry point", "reconstruct calls", "reconstruct ms", "stored calls", "stored ms", "extra ms");
        foreach (var r in rows)
            table.AddRow(r.EntryPoint, r.ReconstructCalls.ToString(), r.ReconstructMs.ToString("F1"), r.StoredCalls.ToString(), r.StoredMs.ToString("F1"),
                (r.ReconstructMs - r.StoredMs).ToString("F1"));
        table.AddRow("total", rows.Sum(r => r.ReconstructCalls).ToString(), rows.Sum(r => r.ReconstructMs).ToString("F1"),
            rows.Sum(r => r.StoredCalls).ToString(), rows.Sum(r => r.StoredMs).ToString("F1"), rows.Sum(r => r.ReconstructMs - r.StoredMs).ToString("F1"));
        return table;
    }

    static void AddRow(BenchmarkTable table, string prefix, StepTiming timing, string ratio) =>
        table.AddRow(prefix + timing.Model, timing.Mode, timing.Params.ToString("N0"), timing.MedianMs.ToString("F1"), timing.ImagesPerSecond.ToString("F1"),
            timing.KernelLaunches?.ToString("N0") ?? "", ratio);
}
