using System.CommandLine;
using RevNetIlgpu.RevNet.Gpu;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet compile-kernels --out DIR [--target ptx|opencl|all] [--arch sm_90,sm_80]</c>: finds every kernel the engine
/// launches (on the CPU accelerator) and compiles each with ILGPU's PTX and OpenCL backends, writing
/// DIR/ptx/ARCH/KERNEL.ptx and DIR/opencl/KERNEL.cl for ptxas and clang to check. One line per kernel and target, then
/// "N compiled, N failed"; a declared kernel the workload never loaded counts as a failure.
/// </summary>
public static class CompileKernelsCommand
{
    const string DefaultGolden = "Tests/TestData/golden";

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "output directory", Required = true };
        var target = new Option<string>("--target") { Description = "ptx, opencl or all", DefaultValueFactory = _ => "all" };
        target.AcceptOnlyFromAmong("ptx", "opencl", "all");
        var arch = new Option<string>("--arch") { Description = "comma-separated CUDA architectures for PTX", DefaultValueFactory = _ => "sm_90,sm_80" };
        var golden = new Option<string?>("--golden") { Description = $"golden-case directory to include in the discovery workload (default: {DefaultGolden} if present)" };
        var command = new Command("compile-kernels", "compile every kernel to PTX and OpenCL C offline (no GPU needed)") { output, target, arch, golden };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!, which = parse.GetValue(target)!;
            var architectures = parse.GetValue(arch)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var a in architectures) OfflineCompiler.ParseArchitecture(a);
            string? goldenDir = parse.GetValue(golden) ?? (Directory.Exists(DefaultGolden) ? DefaultGolden : null);
            if (goldenDir is null) Console.Error.WriteLine($"note: no golden directory ({DefaultGolden} not found); discovering from the training workload only");

            var discovery = KernelCatalog.Discover(goldenDir);
            Console.WriteLine($"{discovery.Kernels.Count} kernels discovered");
            int compiled = 0, failed = 0;
            foreach (var kernel in discovery.NeverLoaded)
            {
                Console.WriteLine($"{"-",-12} {KernelCatalog.DisplayName(kernel),-72} NOT LOADED by the discovery workload (extend KernelCatalog)");
                failed++;
            }

            using var compiler = new OfflineCompiler();
            void Report(OfflineCompilation c, string path)
            {
                string label = c.Target == KernelTarget.Ptx ? $"ptx/{c.Architecture}" : "opencl";
                if (c.Succeeded)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllText(path, c.Code);
                    compiled++;
                }
                else failed++;
                Console.WriteLine($"{label,-12} {KernelCatalog.DisplayName(c.Kernel),-72} {(c.Succeeded ? "OK" : $"FAIL {c.Error}")}");
            }
            foreach (var kernel in discovery.Kernels)
            {
                string file = KernelCatalog.FileName(kernel);
                if (which is "ptx" or "all")
                    foreach (var a in architectures)
                        Report(compiler.CompilePtx(kernel, a), Path.Combine(dir, "ptx", a, file + ".ptx"));
                if (which is "opencl" or "all")
                    Report(compiler.CompileOpenCL(kernel), Path.Combine(dir, "opencl", file + ".cl"));
            }
            Console.WriteLine($"{compiled} compiled, {failed} failed");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}
