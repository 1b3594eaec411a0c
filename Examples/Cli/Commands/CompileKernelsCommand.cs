using System.CommandLine;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Gpu;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet compile-kernels --out DIR [--target ptx|opencl|all] [--arch sm_90,sm_80] [--plan MODEL --batch 128 --image 32 --sms 132 --stored]</c>:
/// finds every kernel the engine launches (on the CPU accelerator) and compiles each with ILGPU's PTX and OpenCL
/// backends, writing DIR/ptx/ARCH/KERNEL.ptx and DIR/opencl/KERNEL.cl for ptxas and clang to check. One line per kernel
/// and target, then "N compiled, N failed"; a declared kernel the workload never loaded counts as a failure. With
/// <c>--plan</c> it instead plans one training step of MODEL as a GPU with that many SMs would launch it
/// (<see cref="LaunchPlanner"/>), writes the launch list to DIR/launches.json and compiles exactly its kernels.
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
        var plan = new Option<string?>("--plan") { Description = "plan one training step of this model as a GPU would launch it; compile exactly its kernels and write DIR/launches.json" };
        var batch = new Option<int>("--batch") { Description = "with --plan: batch size", DefaultValueFactory = _ => 128 };
        var image = new Option<int>("--image") { Description = "with --plan: image height and width", DefaultValueFactory = _ => 32 };
        var sms = new Option<int>("--sms") { Description = "with --plan: the GPU's multiprocessors", DefaultValueFactory = _ => GpuProfile.H200.Multiprocessors };
        var stored = new Option<bool>("--stored") { Description = "with --plan: store activations instead of reconstructing" };
        var command = new Command("compile-kernels", "compile every kernel to PTX and OpenCL C offline (no GPU needed)") { output, target, arch, golden, plan, batch, image, sms, stored };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!, which = parse.GetValue(target)!;
            var architectures = parse.GetValue(arch)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var a in architectures) OfflineCompiler.ParseArchitecture(a);
            int compiled = 0, failed = 0;
            IReadOnlyList<System.Reflection.MethodInfo> kernels;
            if (parse.GetValue(plan) is { } modelName)
            {
                int multiprocessors = parse.GetValue(sms);
                if (multiprocessors <= 0) throw new ArgumentException($"--sms must be positive, got {multiprocessors}");
                var gpu = GpuProfile.H200 with { Name = $"a GPU with {multiprocessors} SMs", Multiprocessors = multiprocessors };
                var memory = parse.GetValue(stored) ? ActivationMemory.Stored : ActivationMemory.Reconstruct;
                var launches = LaunchPlanner.Step(ModelConfig.Named(modelName), parse.GetValue(batch), parse.GetValue(image), gpu, memory);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "launches.json"), LaunchPlanJson.Write(modelName, parse.GetValue(batch), parse.GetValue(image), memory, gpu, launches));
                kernels = launches.Select(l => l.Kernel).Distinct().OrderBy(KernelCatalog.DisplayName, StringComparer.Ordinal).ToList();
                Console.WriteLine($"{launches.Count} launches planned ({modelName}, batch {parse.GetValue(batch)}, {memory.Name()}, {multiprocessors} SMs), {kernels.Count} kernels");
            }
            else
            {
                string? goldenDir = parse.GetValue(golden) ?? (Directory.Exists(DefaultGolden) ? DefaultGolden : null);
                if (goldenDir is null) Console.Error.WriteLine($"note: no golden directory ({DefaultGolden} not found); discovering from the training workload only");
                var discovery = KernelCatalog.Discover(goldenDir);
                Console.WriteLine($"{discovery.Kernels.Count} kernels discovered");
                foreach (var kernel in discovery.NeverLoaded)
                {
                    Console.WriteLine($"{"-",-12} {KernelCatalog.DisplayName(kernel),-72} NOT LOADED by the discovery workload (extend KernelCatalog)");
                    failed++;
                }
                kernels = discovery.Kernels;
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
            foreach (var kernel in kernels)
            {
                string file = KernelCatalog.FileName(kernel);
                if (which is "ptx" or "all")
                    foreach (var a in architectures)
                        Report(compiler.CompilePtx(kernel, a), Path.Combine(dir, "ptx", a, file + ".ptx"));
                // Kernels that shuffle between lanes are launched on CUDA only (OpenCL devices get their load-only twins).
                if (which is "opencl" or "all" && !KernelCatalog.NeedsWarpShuffles(kernel))
                    Report(compiler.CompileOpenCL(kernel), Path.Combine(dir, "opencl", file + ".cl"));
            }
            Console.WriteLine($"{compiled} compiled, {failed} failed");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}
