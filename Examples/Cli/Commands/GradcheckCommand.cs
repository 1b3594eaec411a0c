using System.CommandLine;
using System.Globalization;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet gradcheck --model revnet38 --batch 2</c>: one step reconstructing and one with stored activations;
/// the worst per-tensor gradient difference and per-stage reconstruction error. Last line:
/// <c>worst_rel_l2=&lt;x&gt; loss_equal=&lt;bool&gt; running_stats_equal=&lt;bool&gt;</c>.
/// </summary>
public static class GradcheckCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model name (see `revnet models`)", DefaultValueFactory = _ => "revnet38" };
        var batch = new Option<int>("--batch") { Description = "batch size (at least 2)", DefaultValueFactory = _ => 2 };
        var image = new Option<int>("--image") { Description = "image height and width", DefaultValueFactory = _ => 32 };
        var seed = new Option<int>("--seed") { Description = "weights and batch seed", DefaultValueFactory = _ => 0 };
        var device = CommonOptions.Device();
        var convAlgorithm = CommonOptions.ConvAlgorithm();
        var command = new Command("gradcheck", "compare the reconstructing backward with the stored-activation backward") { model, batch, image, seed, device, convAlgorithm };
        command.SetAction(parse =>
        {
            var config = ModelConfig.Named(parse.GetValue(model)!);
            using var dev = CommonOptions.OpenDevice(parse.GetValue(device), parse.GetValue(convAlgorithm));
            if (dev.IsMeta) throw new ArgumentException("gradcheck compares values; the meta device has none (use --device cpu or cuda)");
            var r = GradientCheck.Run(dev, config, parse.GetValue(batch), parse.GetValue(image), parse.GetValue(seed));
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"{config.Name}: {r.RelativeL2ByTensor.Count} parameter tensors compared");
            Console.WriteLine(string.Create(inv, $"loss reconstruct={r.LossReconstruct:R} stored={r.LossStored:R}"));
            Console.WriteLine(string.Create(inv, $"worst tensor: {r.WorstTensor} rel_l2={r.WorstRelativeL2:E3}"));
            for (int s = 0; s < r.ReconstructionErrorByStage.Count; s++)
                Console.WriteLine(string.Create(inv, $"stage{s + 1} reconstruction max rel error={r.ReconstructionErrorByStage[s]:E3}"));
            Console.WriteLine(string.Create(inv,
                $"worst_rel_l2={r.WorstRelativeL2:E3} loss_equal={r.LossEqual.ToString().ToLowerInvariant()} running_stats_equal={r.RunningStatsEqual.ToString().ToLowerInvariant()}"));
            return r.WorstRelativeL2 <= 1e-3 && r.LossEqual && r.RunningStatsEqual ? 0 : 1;
        });
        return command;
    }
}
