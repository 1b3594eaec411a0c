using System.CommandLine;
using System.Globalization;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet gradcheck --model revnet38 --batch 2 [--exact-reconstruction]</c>: one step reconstructing and one with stored
/// activations, both with the same couplings; the worst per-tensor gradient difference and each reversible block's rebuild
/// error. Last line: <c>worst_rel_l2=&lt;x&gt; max_rebuild_error=&lt;x&gt; loss_equal=&lt;bool&gt; running_stats_equal=&lt;bool&gt;</c>.
/// Exit code 1 when the two steps differ beyond float32 rounding, or at all with exact reconstruction.
/// </summary>
public static class GradcheckCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model name (see `revnet models`)", DefaultValueFactory = _ => "revnet38" };
        var batch = new Option<int>("--batch") { Description = "batch size (at least 2)", DefaultValueFactory = _ => 2 };
        var image = new Option<int>("--image") { Description = "image height and width", DefaultValueFactory = _ => 32 };
        var seed = new Option<int>("--seed") { Description = "weights and batch seed", DefaultValueFactory = _ => 0 };
        var exact = new Option<bool>("--exact-reconstruction") { Description = "couple reversible blocks in exact fixed point (both runs): every difference must be 0" };
        var device = new DeviceOptions();
        var command = new Command("gradcheck", "compare the reconstructing backward with the stored-activation backward") { model, batch, image, seed, exact };
        device.AddTo(command);
        command.SetAction(parse =>
        {
            var config = ModelConfig.Named(parse.GetValue(model)!);
            bool isExact = parse.GetValue(exact);
            using var dev = device.Open(parse);
            dev.RequireValues("gradcheck compares values");
            var r = GradientCheck.Run(dev, config, parse.GetValue(batch), parse.GetValue(image), parse.GetValue(seed), isExact ? FixedPointFormat.Default : null);
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"{config.Name}: {r.RelativeL2ByTensor.Count} parameter tensors compared, {(isExact ? $"exact couplings ({FixedPointFormat.Default})" : "float32 couplings")}");
            Console.WriteLine(string.Create(inv, $"loss reconstruct={r.LossReconstruct:R} stored={r.LossStored:R}"));
            Console.WriteLine(r.WorstRelativeL2 == 0 ? "worst tensor: none, every gradient equal bit for bit" : string.Create(inv, $"worst tensor: {r.WorstTensor} rel_l2={Number(r.WorstRelativeL2)}"));
            foreach (var (block, error) in r.RebuildErrorByBlock)
                Console.WriteLine(string.Create(inv, $"{block} rebuild max rel error={Number(error)}"));
            Console.WriteLine(string.Create(inv,
                $"worst_rel_l2={Number(r.WorstRelativeL2)} max_rebuild_error={Number(r.MaxRebuildError)} loss_equal={Bool(r.LossEqual)} running_stats_equal={Bool(r.RunningStatsEqual)}"));
            bool equal = isExact ? r.WorstRelativeL2 == 0 && r.MaxRebuildError == 0 : r.WorstRelativeL2 <= 1e-3;
            return equal && r.LossEqual && r.RunningStatsEqual ? 0 : 1;
        });
        return command;
    }

    /// <summary>"0" for an exact zero (what exact reconstruction promises), else three significant digits ("2.023E-006").</summary>
    static string Number(double value) => value == 0 ? "0" : value.ToString("E3", CultureInfo.InvariantCulture);

    static string Bool(bool value) => value ? "true" : "false";
}
