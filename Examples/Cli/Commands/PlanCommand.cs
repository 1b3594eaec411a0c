using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using Spectre.Console;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet plan --model M --memory SIZE [--image N] [--channels C] [--classes K] [--json]</c>: for every mode `revnet train`
/// offers (stored, reconstruct, reconstruct+recompute), each with float32 and with exact couplings, the largest batch whose
/// peak held bytes (parameters, gradients, optimizer state and the batch included) fit in SIZE, found on the meta device.
/// <c>--json</c>: one object per mode, <c>{"mode": "stored|reconstruct|reconstruct+recompute", "exact": true|false,
/// "max_batch": N, "peak_held_bytes": N}</c> (max_batch 0: not even a batch of 2 fits). Train within it with
/// <c>revnet train --batch N --memory-limit SIZE</c>.
/// </summary>
public static class PlanCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model name (see `revnet models`)", DefaultValueFactory = _ => "revnet38" };
        var memory = new Option<string>("--memory") { Description = "the device memory to fit, e.g. 256MiB, 16GiB, 80GiB", Required = true };
        var image = new Option<int>("--image") { Description = "image height and width", DefaultValueFactory = _ => 32 };
        var channels = new Option<int>("--channels") { Description = "input channels", DefaultValueFactory = _ => 3 };
        var classes = new Option<int>("--classes") { Description = "classes", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "print a JSON array, one object per mode, instead of a table" };
        var command = new Command("plan", "the largest batch that fits in a memory budget, in every training mode (stored, reconstructing, exact)")
        {
            model, memory, image, channels, classes, json,
        };
        command.SetAction(parse =>
        {
            long budget = ByteSize.Parse(parse.GetValue(memory)!, "--memory");
            var config = ModelConfig.Named(parse.GetValue(model)!, parse.GetValue(channels), parse.GetValue(classes));
            int size = parse.GetValue(image);
            var plan = BatchPlan.Plan(ModelBlueprint.Of(config, size), budget);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(plan.Select(e => new Dictionary<string, object>
                {
                    ["mode"] = e.Mode.Name(),
                    ["exact"] = e.Exact,
                    ["max_batch"] = e.MaxBatch,
                    ["peak_held_bytes"] = e.PeakHeldBytes,
                }), new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
                return 0;
            }
            var table = new Table().Title($"{config.Name}, {size}x{size}x{config.InputChannels}, {config.Classes} classes: the largest training batch within {parse.GetValue(memory)} (meta device)");
            foreach (var h in new[] { "mode", "couplings", "max batch", "peak held (MiB)", "x stored" })
                table.AddColumn(new TableColumn(h).RightAligned());
            int stored = plan.Where(e => e.Mode == ActivationMemory.Stored && !e.Exact).Select(e => e.MaxBatch).FirstOrDefault();
            foreach (var e in plan)
                table.AddRow(e.Mode.Name(), e.Exact ? "exact" : "float32", e.MaxBatch == 0 ? "none (2 does not fit)" : e.MaxBatch.ToString("N0"),
                    MemoryCommand.MiB(e.PeakHeldBytes).ToString("F1"), stored > 0 ? $"{(double)e.MaxBatch / stored:F1}x" : "");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
