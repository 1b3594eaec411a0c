using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Gpu;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Gpu;

/// <summary>
/// GPU readiness without a GPU: every kernel the engine launches must get through ILGPU's PTX and OpenCL C code
/// generators (what a CUDA or OpenCL accelerator does at load time), and the discovery must miss no kernel.
/// </summary>
[TestFixture]
public sealed class OfflineCompileTests
{
    KernelDiscovery discovery = null!;
    OfflineCompiler compiler = null!;

    [OneTimeSetUp]
    public void DiscoverKernels()
    {
        ThrowingTraceListener.Install();
        discovery = KernelCatalog.Discover(Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "golden"));
        compiler = new OfflineCompiler();
    }

    [OneTimeTearDown]
    public void DisposeCompiler() => compiler.Dispose();

    [Test]
    public void Discovery_LoadsEveryDeclaredKernel()
    {
        Assert.That(discovery.NeverLoaded.Select(KernelCatalog.DisplayName), Is.Empty,
            "kernels declared in Kernels/ that the discovery workload never launched would escape offline compilation");
    }

    [Test]
    public void Discovery_FindsKernelsOfEveryKernelsClass()
    {
        var classesWithKernels = typeof(KernelContext).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Kernels", StringComparison.Ordinal) && KernelCatalog.DeclaredKernels().Any(m => m.DeclaringType == t))
            .Select(t => t.Name).ToList();
        var discoveredClasses = discovery.Kernels.Select(k => k.DeclaringType!.Name).Distinct().ToList();
        Assert.That(classesWithKernels, Is.Not.Empty);
        Assert.That(discoveredClasses, Is.SupersetOf(classesWithKernels), "a Kernels/*Kernels.cs class none of whose kernels was discovered");
    }

    [Test]
    public void EveryKernel_CompilesToPtxForSm90()
    {
        var compilations = discovery.Kernels.Select(k => compiler.CompilePtx(k, "sm_90")).ToList();
        var failures = compilations.Where(c => !c.Succeeded).Select(c => $"{KernelCatalog.DisplayName(c.Kernel)}: {c.Error}").ToList();
        Assert.That(failures, Is.Empty, "ILGPU's PTX backend rejected these kernels; they would fail to load on a CUDA GPU");
        Assert.That(compilations.Select(c => c.Code), Has.All.Contains(".entry"), "PTX declares its kernel as an .entry");
        Assert.That(compilations.Select(c => c.Code), Has.All.Contains(".target sm_90\n").Or.All.Contains(".target sm_90\r\n"),
            "the PTX names the architecture it is checked for, so ptxas schedules it for that GPU");
    }

    [Test]
    public void Discovery_PlansEveryTiledGemmAtEachGpuTiling()
    {
        var tiled = discovery.Kernels.Where(k => k.Name == "TiledKernel").ToList();
        var tilings = tiled.Select(k => k.GetGenericArguments()[3]).ToHashSet();
        Assert.That(tilings, Is.EquivalentTo(GemmPlan.GpuTiles.Select(t => GemmPlan.KernelTypes(t).Tiling)),
            "offline compilation assembles the GPU tilings (which the CPU accelerator never launches), and only those");
        var loaders = tiled.Select(k => string.Join(",", k.GetGenericArguments().Take(2).Select(t => t.Name))).ToHashSet();
        Assert.That(loaders, Is.SupersetOf(new[]
        {
            "ChannelRows`2,Im2colTriplets`4", "WeightTaps`1,Col2imTriplets`3", "ChannelRows`2,Im2colTransposedTriplets`4",
            "StreamLoader`2,StreamLoader`2",
        }), "the three conv GEMMs of a 3×3 window (forward, grad-input, grad-weight) and the scalar path are among them");
    }

    [Test]
    public void EveryKernel_CompilesToOpenCLC()
    {
        // Kernels that shuffle between lanes run on CUDA only; OpenCL launches their load-only twins (also discovered).
        var compilations = discovery.Kernels.Where(k => !KernelCatalog.NeedsWarpShuffles(k)).Select(compiler.CompileOpenCL).ToList();
        var failures = compilations.Where(c => !c.Succeeded).Select(c => $"{KernelCatalog.DisplayName(c.Kernel)}: {c.Error}").ToList();
        Assert.That(failures, Is.Empty, "ILGPU's OpenCL backend rejected these kernels; they would fail to load on an OpenCL device");
        Assert.That(compilations.Select(c => c.Code), Has.All.Contains("kernel void"), "OpenCL C source declares its entry point as a kernel function");
    }
}
