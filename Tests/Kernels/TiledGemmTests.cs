using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>
/// The register-tiled GEMM behind the convolutions, on ILGPU's CPU accelerator: its launch plan (tiling and split-K) for
/// the paper's RevNets at batch 128 on a 132-SM GPU, split-K and repeated runs against the plain direct kernels, bit for bit
/// where determinism is claimed. Full GPU tiles run in <see cref="FullTileGemmTests"/>.
/// </summary>
public class TiledGemmTests : GemmTestBase
{
    const int H200Multiprocessors = 132;

    static IEnumerable<TestCaseData> PaperRevNets() =>
        new[] { "revnet38", "revnet110", "revnet164" }.Select(name => new TestCaseData(name));

    /// <summary>(what, m, n, k) of the three implicit GEMMs of a convolution, as <see cref="Conv2dKernels"/> launches them.</summary>
    static IEnumerable<(string What, int M, int N, int K)> ConvGemms(Conv2dShape s)
    {
        yield return ("forward", s.K, s.N * s.OutH * s.OutW, s.C * s.KH * s.KW);
        yield return ("grad-input", s.C, s.N * s.H * s.W, s.K * s.KH * s.KW);
        yield return ("grad-weight", s.K, s.C * s.KH * s.KW, s.N * s.OutH * s.OutW);
    }

    [TestCaseSource(nameof(PaperRevNets))]
    public void Plan_EveryConvOfPaperRevNetAtBatch128_StartsTwoWavesOn132Multiprocessors(string model)
    {
        var shapes = ModelConvShapes.Of(ModelConfig.Named(model), batch: 128);
        Assert.That(shapes, Has.Count.GreaterThanOrEqualTo(4), "the model's convolutions were observed");
        var shortOfTwoWaves = new List<string>();
        foreach (var s in shapes)
            foreach (var (what, m, n, k) in ConvGemms(s))
            {
                var plan = GemmPlan.Choose(m, n, k, 2 * H200Multiprocessors, GemmPlan.MinSliceSteps, small: false);
                if (plan.Groups < 2 * H200Multiprocessors) shortOfTwoWaves.Add($"{s} {what}: {plan}");
            }
        Assert.That(shortOfTwoWaves, Is.Empty, "every conv GEMM should keep each of the 132 SMs busy for two waves of groups");
    }

    [Test]
    public void Plan_SlicesCoverKExactly_InWholeSteps()
    {
        foreach (var (m, n, k) in new[] { (32, 288, 131072), (112, 1008, 8192), (3, 7, 5), (70, 9, 1000), (64, 576, 37) })
        {
            var plan = GemmPlan.Choose(m, n, k, 264, GemmPlan.MinSliceSteps, small: false);
            var (_, _, blockK) = GemmPlan.Dimensions(plan.Tile);
            Assert.That(plan.SliceK % blockK, Is.Zero, $"{plan}: a slice is whole K steps");
            Assert.That((long)(plan.Slices - 1) * plan.SliceK, Is.LessThan(k), $"{plan}: no empty slice");
            Assert.That((long)plan.Slices * plan.SliceK, Is.GreaterThanOrEqualTo(k), $"{plan}: slices reach K");
        }
    }

    [Test]
    public void Plan_PicksTheTallestTileThatFitsTheRows_ShorterOnlyToFillTheGpu()
    {
        const int wide = 1 << 17; // N·OutH·OutW of a 32×32 layer at batch 128: plenty of column tiles
        Assert.That(GemmPlan.Choose(32, wide, 288, 264, 8, false).Tile, Is.EqualTo(GemmTileShape.Tile32x128));
        Assert.That(GemmPlan.Choose(64, wide, 288, 264, 8, false).Tile, Is.EqualTo(GemmTileShape.Tile64x128));
        Assert.That(GemmPlan.Choose(112, wide, 288, 264, 8, false).Tile, Is.EqualTo(GemmTileShape.Tile128x128));
        Assert.That(GemmPlan.Choose(112, wide, 288, 264, 8, true).Tile, Is.EqualTo(GemmTileShape.Tile16x16));
        // 256 column tiles of 128 rows fall short of 264 groups and K = 32 is too short to split: 64-row tiles make 512.
        var plan = GemmPlan.Choose(128, 256 * 128, 32, 264, 8, false);
        Assert.That((plan.Tile, plan.Slices, plan.Groups), Is.EqualTo((GemmTileShape.Tile64x128, 1, 512L)));
    }

    /// <summary>Shapes whose GEMMs are no tile multiple in any dimension; K long enough to split.</summary>
    static readonly Conv2dShape[] SplitShapes =
    {
        new(N: 2, C: 5, H: 7, W: 6, K: 19, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 3, C: 6, H: 9, W: 7, K: 5, KH: 3, KW: 3, Stride: 2, Pad: 1),
        new(N: 2, C: 9, H: 5, W: 5, K: 17, KH: 1, KW: 1, Stride: 1, Pad: 0),
    };

    [TestCaseSource(nameof(SplitShapes))]
    public void SplitK_MatchesDirectKernels_AndRepeatsBitForBit(Conv2dShape s)
    {
        var x = RandomArray(s.N * s.C * s.H * s.W);
        var w = RandomArray(s.K * s.C * s.KH * s.KW);
        var b = RandomArray(s.K);
        var gy = RandomArray(s.N * s.K * s.OutH * s.OutW);
        var gwStart = RandomArray(w.Length);

        UseTiled(false);
        var expected = RunConv(s, x, w, b, gy, gwStart);

        UseTiled(true);
        (Ilgpu.TargetGroups, Ilgpu.GemmMinSliceSteps) = (1 << 20, 1);
        try
        {
            foreach (var (what, m, n, k) in ConvGemms(s))
                Assert.That(Ilgpu.GemmPlanFor(m, n, k).Slices, Is.GreaterThan(1), $"{what} is split over K in this test");
            var first = RunConv(s, x, w, b, gy, gwStart);
            var second = RunConv(s, x, w, b, gy, gwStart);
            AssertClose(first.Y, ToDouble(expected.Y), 1e-5, "split-K forward vs direct");
            AssertClose(first.Gx, ToDouble(expected.Gx), 1e-5, "split-K grad-input vs direct");
            AssertClose(first.Gw, ToDouble(expected.Gw), 1e-5, "split-K grad-weight (accumulated) vs direct");
            Assert.That(second.Y, Is.EqualTo(first.Y), "forward: same bits on a repeated run");
            Assert.That(second.Gx, Is.EqualTo(first.Gx), "grad-input: same bits on a repeated run");
            Assert.That(second.Gw, Is.EqualTo(first.Gw), "grad-weight: same bits on a repeated run");
        }
        finally
        {
            (Ilgpu.TargetGroups, Ilgpu.GemmMinSliceSteps) = (new KernelContext(Accelerator).TargetGroups, GemmPlan.MinSliceSteps);
        }
    }

    [Test]
    public void Unsplit_RepeatsBitForBit()
    {
        var s = SplitShapes[0];
        var (x, w, b, gy, gw) = (RandomArray(s.N * s.C * s.H * s.W), RandomArray(s.K * s.C * 9), RandomArray(s.K),
            RandomArray(s.N * s.K * s.OutH * s.OutW), RandomArray(s.K * s.C * 9));
        UseTiled(true);
        Assert.That(Ilgpu.GemmPlanFor(s.K, s.C * 9, s.N * s.OutH * s.OutW).Slices, Is.EqualTo(1), "small K is not split by default");
        var first = RunConv(s, x, w, b, gy, gw);
        var second = RunConv(s, x, w, b, gy, gw);
        Assert.That((second.Y, second.Gx, second.Gw), Is.EqualTo((first.Y, first.Gx, first.Gw)), "same bits on a repeated run");
    }

    (float[] Y, float[] Gx, float[] Gw) RunConv(Conv2dShape s, float[] x, float[] w, float[] b, float[] gy, float[] gwStart) =>
        ConvRuns.Run(Accelerator, K, s, x, w, b, gy, gwStart);
}

/// <summary>Forward, grad-input and accumulated grad-weight of one convolution on an accelerator, downloaded.</summary>
static class ConvRuns
{
    public static (float[] Y, float[] Gx, float[] Gw) Run(Accelerator accelerator, KernelSet k, Conv2dShape s,
        float[] x, float[] w, float[] b, float[] gy, float[] gwStart)
    {
        using var dx = accelerator.Allocate1D(x);
        using var dw = accelerator.Allocate1D(w);
        using var db = accelerator.Allocate1D(b);
        using var dgy = accelerator.Allocate1D(gy);
        using var dgw = accelerator.Allocate1D(gwStart);
        using var dy = accelerator.Allocate1D<float>((long)s.N * s.K * s.OutH * s.OutW);
        using var dgx = accelerator.Allocate1D<float>(x.Length);
        dy.MemSet(0xFF);
        dgx.MemSet(0xFF);
        k.Conv2d.Forward(s, dx.View, dw.View, db.View, dy.View);
        k.Conv2d.BackwardInput(s, dgy.View, dw.View, dgx.View);
        k.Conv2d.BackwardWeight(s, dx.View, dgy.View, dgw.View);
        accelerator.Synchronize();
        return (dy.GetAsArray1D(), dgx.GetAsArray1D(), dgw.GetAsArray1D());
    }
}

/// <summary>
/// The GPU tilings themselves (256-thread groups), on a CPU accelerator built with groups that large: each conv GEMM
/// picks the tiling <see cref="GemmPlan.Choose"/> names, loads the kernel closed over <see cref="GemmPlan.KernelTypes"/>
/// (what offline compilation assembles), and matches the direct kernels on shapes that are no tile multiple.
/// </summary>
[TestFixture]
public sealed class FullTileGemmTests
{
    Context context = null!;
    Accelerator accelerator = null!;
    IlgpuBackend backend = null!;
    KernelContext k = null!;

    [OneTimeSetUp]
    public void CreateWideGroupAccelerator()
    {
        ThrowingTraceListener.Install();
        // 32 threads per warp × 8 warps: groups of 256 threads, as the GPU tilings launch.
        context = Context.Create(b => b.CPU(new CPUDevice(32, 8, 1)).EnableAlgorithms());
        accelerator = context.CreateCPUAccelerator(0);
        backend = new IlgpuBackend("ilgpu-cpu", accelerator);
        k = backend.Context;
        (k.UseTiled, k.SmallGemmTiles, k.TargetGroups) = (true, false, 1);
    }

    [OneTimeTearDown]
    public void Dispose()
    {
        backend.Dispose();
        context.Dispose();
    }

    /// <summary>K = 70 output channels: the 128×128 tile for forward and grad-weight; C = 3 or 40: the narrow or 64-row tile for grad-input.</summary>
    static readonly Conv2dShape[] Shapes =
    {
        new(N: 1, C: 3, H: 5, W: 6, K: 70, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 2, C: 40, H: 3, W: 3, K: 33, KH: 1, KW: 1, Stride: 2, Pad: 0),
    };

    [TestCaseSource(nameof(Shapes))]
    public void GpuTilings_MatchDirectKernels_AndLoadTheKernelsOfflineCompilationAssembles(Conv2dShape s)
    {
        var random = new Random(7);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var (x, w, b, gy, gw) = (Random(s.N * s.C * s.H * s.W), Random(s.K * s.C * s.KH * s.KW), Random(s.K),
            Random(s.N * s.K * s.OutH * s.OutW), Random(s.K * s.C * s.KH * s.KW));

        k.UseTiled = false;
        var expected = ConvRuns.Run(accelerator, backend.Kernels, s, x, w, b, gy, gw);
        k.UseTiled = true;
        var tiled = ConvRuns.Run(accelerator, backend.Kernels, s, x, w, b, gy, gw);

        Assert.That(KernelTestBase.RelativeError(tiled.Y, expected.Y), Is.LessThanOrEqualTo(1e-5), "forward");
        Assert.That(KernelTestBase.RelativeError(tiled.Gx, expected.Gx), Is.LessThanOrEqualTo(1e-5), "grad-input");
        Assert.That(KernelTestBase.RelativeError(tiled.Gw, expected.Gw), Is.LessThanOrEqualTo(1e-5), "grad-weight");

        var planned = new[]
        {
            k.GemmPlanFor(s.K, s.N * s.OutH * s.OutW, s.C * s.KH * s.KW).Tile,
            k.GemmPlanFor(s.C, s.N * s.H * s.W, s.K * s.KH * s.KW).Tile,
            k.GemmPlanFor(s.K, s.C * s.KH * s.KW, s.N * s.OutH * s.OutW).Tile,
        };
        Assert.That(planned, Has.None.EqualTo(GemmTileShape.Tile16x16), "GPU tilings in this test");
        var loadedTilings = k.LoadedKernels.Where(m => m.Name == "TiledKernel")
            .Select(m => (m.GetGenericArguments()[3], m.GetGenericArguments()[4])).ToHashSet();
        foreach (var tile in planned)
            Assert.That(loadedTilings, Does.Contain(GemmPlan.KernelTypes(tile)), $"{tile} launches the kernel offline compilation closes over its types");
    }
}
