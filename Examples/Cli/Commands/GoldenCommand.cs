using System.CommandLine;
using RevNetIlgpu.RevNet.Golden;

namespace RevNetIlgpu.Cli.Commands;

/// <summary><c>revnet golden DIR</c>: runs every PyTorch golden case in DIR; one line per case, then "N passed, N failed".</summary>
public static class GoldenCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "directory of golden cases (CASE.json manifests with CASE.TENSOR.bin files)" };
        var device = CommonOptions.Device();
        var convAlgorithm = CommonOptions.ConvAlgorithm();
        var command = new Command("golden", "check the engine against PyTorch-computed reference cases") { dir, device, convAlgorithm };
        command.SetAction(parse =>
        {
            using var dev = CommonOptions.OpenDevice(parse.GetValue(device), parse.GetValue(convAlgorithm));
            var manifests = GoldenCase.FindManifests(parse.GetValue(dir)!);
            var runner = new GoldenRunner(dev);
            int passed = 0, failed = 0;
            foreach (var manifest in manifests)
            {
                var r = runner.RunManifest(manifest);
                if (r.Passed) passed++; else failed++;
                string detail = r.Passed ? "" : $"  ({r.Detail})";
                Console.WriteLine($"{r.Name,-28} {r.Op,-22} worst_rel={r.WorstRelativeError:0.00E+00} {(r.Passed ? "PASS" : "FAIL")}{detail}");
            }
            if (manifests.Count == 0) Console.Error.WriteLine("revnet: error: no golden cases found");
            Console.WriteLine($"{passed} passed, {failed} failed");
            return failed == 0 && manifests.Count > 0 ? 0 : 1;
        });
        return command;
    }
}
