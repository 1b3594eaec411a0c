using System.CommandLine;
using System.Text.Json;
using RevNetIlgpu.RevNet.Benchmarks;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet bench convs [--model M] [--batch N] [--repeat N] [--device …] [--json] [--out DIR]</c>: forward, grad-input
/// and grad-weight time of every convolution shape of a model (scripts/torch_conv_shapes.py times them with cuDNN).
/// </summary>
public static class BenchConvsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model whose convolutions are timed (see `revnet models`)", DefaultValueFactory = _ => "revnet38" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 128 };
        var repeat = new Option<int>("--repeat") { Description = "timed launches per pass; the median is reported", DefaultValueFactory = _ => 10 };
        var output = new BenchmarkOutput();
        var command = new Command("convs", "time every convolution shape of a model: forward, grad-input, grad-weight") { model, batch, repeat };
        output.AddTo(command);
        command.SetAction(parse =>
        {
            using var device = CommonOptions.OpenDevice(parse.GetValue(output.Device), parse.GetValue(output.ConvAlgorithm));
            var config = ModelConfig.Named(parse.GetValue(model)!);
            int b = parse.GetValue(batch);
            var timings = ConvShapeBenchmark.Run(device, config, b, parse.GetValue(repeat));
            var table = new BenchmarkTable("convolutions", "shape (N C H W → K KH×KW /S pP)", "pass", "ms", "GFLOP/s");
            foreach (var t in timings)
                table.AddRow($"{t.N} {t.C} {t.H} {t.W} → {t.K} {t.KH}x{t.KW} /{t.Stride} p{t.Pad}", t.Pass, t.MedianMs.ToString("G4"), t.Gflops.ToString("G4"));
            string notes = $"{config.Name}, batch {b}: every distinct convolution shape. Median of {parse.GetValue(repeat)} synchronised launches after one warm-up launch.\n";
            output.Emit(parse, "convs", $"Convolution shapes of {config.Name}", device.Name, table, notes, JsonSerializer.Serialize(timings, BenchmarkOutput.JsonOptions));
            return 0;
        });
        return command;
    }
}
