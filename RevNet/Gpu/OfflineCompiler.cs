using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace RevNetIlgpu.RevNet.Gpu;

/// <summary>
/// Compiles kernels through ILGPU's PTX and OpenCL C backends without a GPU or driver: the code a CUDA or OpenCL
/// accelerator would generate at load time, produced here so that ptxas or clang can check it offline.
/// </summary>
public sealed class OfflineCompiler : IDisposable
{
    /// <summary>
    /// PTX ISA 7.8: the newest that ptxas 11.8 (Debian 12's CUDA toolkit) accepts, and the first that allows sm_90;
    /// it covers every architecture from sm_50 up.
    /// </summary>
    public static readonly CudaInstructionSet PtxInstructionSet = CudaInstructionSet.ISA_78;

    readonly Context context = Context.Create(b => b.EnableAlgorithms());
    readonly Dictionary<string, PTXBackend> ptxBackends = new();
    CLBackend? openCLBackend;

    /// <summary>"sm_90" → SM_90; rejects anything else with the expected form.</summary>
    public static CudaArchitecture ParseArchitecture(string name)
    {
        string digits = name.Trim().ToLowerInvariant().StartsWith("sm_") ? name.Trim()[3..] : "";
        if (digits.Length < 2 || !digits.All(char.IsAsciiDigit))
            throw new ArgumentException($"unknown CUDA architecture '{name}': expected e.g. sm_80 or sm_90");
        return new CudaArchitecture(int.Parse(digits[..^1]), int.Parse(digits[^1..]));
    }

    /// <summary>The PTX a CUDA accelerator of <paramref name="architecture"/> (e.g. "sm_90") would load for <paramref name="kernel"/>.</summary>
    public OfflineCompilation CompilePtx(MethodInfo kernel, string architecture) =>
        Compile(kernel, KernelTarget.Ptx, architecture, () =>
        {
            var backend = PtxBackend(architecture);
            string ptx = ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), new KernelSpecialization())).PTXAssembly;
            return RetargetPtx(ptx, architecture);
        });

    /// <summary>
    /// ILGPU 1.5.3 writes <c>.target</c> for the newest architecture it knows (sm_80 for an sm_90 device); the driver
    /// JIT-compiles that PTX for the device it runs on. Naming the real target makes ptxas check and schedule the code for it.
    /// </summary>
    static string RetargetPtx(string ptx, string architecture) =>
        System.Text.RegularExpressions.Regex.Replace(ptx, @"^\.target\s+sm_\d+", $".target {architecture.Trim().ToLowerInvariant()}",
            System.Text.RegularExpressions.RegexOptions.Multiline);

    /// <summary>The OpenCL C 2.0 source an OpenCL accelerator would build for <paramref name="kernel"/>.</summary>
    public OfflineCompilation CompileOpenCL(MethodInfo kernel) =>
        Compile(kernel, KernelTarget.OpenCL, null, () =>
        {
            // The least capable device (no fp16, fp64, int64 atomics, sub-groups or generic address space), so that
            // a kernel needing any of them fails here instead of on a user's GPU.
            openCLBackend ??= new CLBackend(context, new CLCapabilityContext(false, false, false, false, false), CLDeviceVendor.Other, CLCVersion.CL20);
            return ((CLCompiledKernel)openCLBackend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), new KernelSpecialization())).Source;
        });

    PTXBackend PtxBackend(string architecture)
    {
        if (!ptxBackends.TryGetValue(architecture, out var backend))
        {
            var arch = ParseArchitecture(architecture);
            backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, PtxInstructionSet, null);
            ptxBackends[architecture] = backend;
        }
        return backend;
    }

    static OfflineCompilation Compile(MethodInfo kernel, KernelTarget target, string? architecture, Func<string> generate)
    {
        try
        {
            return new OfflineCompilation(kernel, target, architecture, generate(), null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Any backend exception is the finding this compiler exists to report; the kernel name says where.
            return new OfflineCompilation(kernel, target, architecture, null, $"{e.GetType().Name}: {e.Message}{Inner(e)}");
        }
    }

    static string Inner(Exception e) => e.InnerException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : "";

    /// <summary>Disposes the code generators and their ILGPU context.</summary>
    public void Dispose()
    {
        foreach (var backend in ptxBackends.Values) backend.Dispose();
        openCLBackend?.Dispose();
        context.Dispose();
    }
}
