using System.CommandLine;
using System.Text.Json;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet bench kernels [--batch N] [--repeat N] [--model M] [--image N] [--channels N] [--device …] [--conv-algorithm …] [--json] [--out DIR]</c>: each
/// training kernel at RevNet CIFAR shapes, tiled against reference, in GFLOP/s or GB/s; on the host device (SIMD C# kernels)
/// the host convolution by each of its algorithms at every shape of a model (RevNet-38, batch 32 by default) against this
/// machine's measured FMA peak, with each algorithm's error against float64.
/// </summary>
public static class BenchKernelsCommand
{
    public static Command Create()
    {
        var batch = new Option<int?>("--batch") { Description = $"batch size (default 64; {KernelBenchmark.CpuBatch} and quarter-size shapes on the CPU accelerator, where tiled kernels' barriers are slow; 32 on the host device)" };
        var model = new Option<string>("--model") { Description = "host device: the model whose convolutions are timed (see `revnet models`)", DefaultValueFactory = _ => "revnet38" };
        var image = new Option<int>("--image") { Description = "host device: the model's input height and width", DefaultValueFactory = _ => 32 };
        var channels = new Option<int>("--channels") { Description = "host device: the model's input channels (1: Fashion-MNIST)", DefaultValueFactory = _ => 3 };
        var repeat = new Option<int>("--repeat") { Description = "timed launches per kernel; the median is reported", DefaultValueFactory = _ => 5 };
        var output = new BenchmarkOutput();
        var command = new Command("kernels", "kernel rates at RevNet CIFAR shapes, tiled vs reference") { batch, repeat, model, image, channels };
        output.AddTo(command);
        command.SetAction(parse =>
        {
            using var device = output.Device.Open(parse);
            if (device.Backend is HostBackend) return EmitHost(parse, output, device, ModelConfig.Named(parse.GetValue(model)!, parse.GetValue(channels)), parse.GetValue(image),
                parse.GetValue(batch) ?? 32, parse.GetValue(repeat));
            int b = parse.GetValue(batch) ?? (device.Kind == DeviceKind.IlgpuCpu ? KernelBenchmark.CpuBatch : 64);
            var timings = KernelBenchmark.Run(device, b, parse.GetValue(repeat), device.Kind == DeviceKind.IlgpuCpu ? KernelBenchmark.CpuConvShapes : null);
            string notes = $"Batch {b}" + (device.Kind == DeviceKind.IlgpuCpu ? " (small: on ILGPU's CPU accelerator every barrier of the tiled GEMM is an OS-thread rendezvous, so tiled kernels are very slow there and only the reference kernels run in training)" : "")
                + $". Median of {parse.GetValue(repeat)} synchronised launches after one warm-up launch. Conv and linear: GFLOP/s = 2·MACs / time. "
                + "Batch norm has one version: GB/s of the least traffic (inputs read once, outputs written once).\n";
            output.Emit(parse, "kernels", "Kernel rates, tiled vs reference", device.Name, ToTable(timings), notes,
                JsonSerializer.Serialize(timings, BenchmarkOutput.JsonOptions));
            return 0;
        });
        return command;
    }

    static int EmitHost(ParseResult parse, BenchmarkOutput output, Device device, ModelConfig config, int image, int batch, int repeat)
    {
        if (image <= 0) throw new ArgumentException($"--image must be positive, got {image}");
        bool revnet38 = config.Name == "revnet38" && image == 32 && config.InputChannels == 3;
        var report = HostConvBenchmark.Run(device, batch, repeat, revnet38 ? HostConvBenchmark.RevNet38(batch) : HostConvBenchmark.OfModel(config, batch, image));
        var table = new BenchmarkTable("host conv rates", "kernel", "algorithm", "run by", "layer", "C->K HxW kernel/stride", "per fwd", "best ms", "median ms",
            "GFLOP/s", "of peak", "error vs float64");
        foreach (var t in report.Timings)
            table.AddRow(t.Kernel, t.Algorithm, string.Join(", ", t.RunBy), t.Layer, t.Shape, t.PerForward.ToString(), t.BestMs.ToString("F3"), t.MedianMs.ToString("F3"),
                t.Gflops.ToString("F0"), $"{t.FractionOfPeak:P0}", t.RelativeError.ToString("0.0E+0"));
        // One pass of the network under each setting: per layer the algorithm that setting runs.
        foreach (var kernel in report.Timings.GroupBy(t => t.Kernel))
            foreach (string setting in Enum.GetValues<ConvAlgorithmSetting>().Select(HostConvBenchmark.SettingName))
            {
                var chosen = kernel.Where(t => t.RunBy.Contains(setting)).ToList();
                double ms = chosen.Sum(t => t.PerForward * t.BestMs), median = chosen.Sum(t => t.PerForward * t.MedianMs);
                double gflops = chosen.Sum(t => t.PerForward * t.Gflops * t.BestMs) / ms;
                table.AddRow(kernel.Key, "", setting, "one pass", $"all {chosen.Sum(t => t.PerForward)}", "", ms.ToString("F1"), median.ToString("F1"),
                    gflops.ToString("F0"), $"{gflops / report.PeakAllThreadsGflops:P0}", "");
            }
        string notes = $"{config.Name} on {config.InputChannels}x{image}x{image} input, batch {batch}, {report.Simd} kernels on {report.Threads} threads (REVNET_THREADS). FMA peak measured in this run (best of before and after): "
            + $"{report.PeakOneThreadGflops:F0} GFLOP/s on one thread, {report.PeakAllThreadsGflops:F0} GFLOP/s on {report.Threads} ('of peak' base). "
            + $"{repeat} timed calls after {HostConvBenchmark.WarmUpMs} ms of warm-up calls (at least two); GFLOP/s = 2·MACs of the direct convolution / best time "
            + "(grad-input counts the same MACs as forward; Winograd's are 'direct-equivalent' and can pass the peak). "
            + $"Error: max |error| / max |value| against float64 loops, on {report.ErrorBatch} images of the same random data. "
            + "'run by': the --conv-algorithm settings that run this algorithm at this shape; 'one pass' sums the network's convolutions once under each setting.\n";
        output.Emit(parse, "host-kernels", "Host conv kernel rates vs the FMA peak", device.Name, table, notes,
            JsonSerializer.Serialize(report, BenchmarkOutput.JsonOptions));
        return 0;
    }

    static BenchmarkTable ToTable(IReadOnlyList<KernelTiming> timings)
    {
        var table = new BenchmarkTable("kernel rates", "kernel", "shape", "unit", "tiled", "reference", "tiled / reference", "tiled ms", "reference ms");
        foreach (var group in timings.GroupBy(t => (t.Kernel, t.Shape)))
        {
            var tiled = group.FirstOrDefault(t => t.Variant == "tiled");
            var reference = group.FirstOrDefault(t => t.Variant != "tiled")!;
            table.AddRow(group.Key.Kernel, group.Key.Shape, reference.Unit,
                tiled is null ? "—" : tiled.Rate.ToString("G3"), reference.Rate.ToString("G3"),
                tiled is null ? "—" : $"{tiled.Rate / reference.Rate:F2}x",
                tiled is null ? "—" : tiled.MedianMs.ToString("G3"), reference.MedianMs.ToString("G3"));
        }
        return table;
    }
}
