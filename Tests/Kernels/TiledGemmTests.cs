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
/// The register-tiled GEMM behind the convolutions, on ILGPU's CPU accelerator at its 16-thread tiling: the launch plan
/// (tiling and split-K) for the paper's RevNets at batch 128 on a 132-SM GPU, the tilings' warp layouts, and every
/// loader path (16-byte triplets at stride 1 and 2, 16-byte words of 1×1 convolutions, scalar streams; raw and
/// batch-norm-ReLU inputs) and split-K against the plain direct kernels, bit for bit where determinism is claimed.
/// Full GPU tiles run in <see cref="FullTileGemmTests"/>.
/// </summary>
public class TiledGemmTests : GemmTestBase
{
    const int H200Multiprocessors = 132;

    static IEnumerable<TestCaseData> PaperRevNets() =>
        new[] { "revnet38", "revnet110", "revnet164" }.Select(name => new TestCaseData(name));

    /// <summary>(what, m, n, k, K step) of the three implicit GEMMs of a 3×3 convolution, as Conv2dIlgpu launches them.</summary>
    static IEnumerable<(string What, int M, int N, int K, int BlockK)> ConvGemms(Conv2dShape s)
    {
        bool window = s.KH == 3;
        yield return ("forward", s.K, s.N * s.OutH * s.OutW, s.C * s.KH * s.KW, window ? 12 : 8);
        yield return ("grad-input", s.C, s.N * s.H * s.W, s.K * s.KH * s.KW, window ? 18 : 8);
        yield return ("grad-weight", s.K, s.C * s.KH * s.KW, s.N * s.OutH * s.OutW, 16);
    }

    [TestCaseSource(nameof(PaperRevNets))]
    public void Plan_EveryConvOfPaperRevNetAtBatch128_StartsTwoGroupsPerSmOn132Multiprocessors(string model)
    {
        var shapes = ModelConvShapes.Of(ModelConfig.Named(model), batch: 128);
        Assert.That(shapes, Has.Count.GreaterThanOrEqualTo(4), "the model's convolutions were observed");
        var shortOfTarget = new List<string>();
        foreach (var s in shapes)
            foreach (var (what, m, n, k, blockK) in ConvGemms(s))
            {
                var plan = GemmPlan.Choose(m, n, k, blockK, 2 * H200Multiprocessors, GemmPlan.MinSliceSteps, small: false);
                if (plan.Groups < 2 * H200Multiprocessors) shortOfTarget.Add($"{s} {what}: {plan}");
            }
        Assert.That(shortOfTarget, Is.Empty, "every conv GEMM should start at least two groups on each of the 132 SMs");
    }

    [Test]
    public void Plan_SlicesCoverKExactly_InWholeSteps()
    {
        foreach (var (m, n, k, blockK) in new[] { (32, 288, 131072, 16), (112, 1008, 8192, 16), (3, 7, 5, 8), (70, 9, 1000, 8), (64, 576, 37, 12), (16, 144, 131072, 16) })
        {
            var plan = GemmPlan.Choose(m, n, k, blockK, 264, GemmPlan.MinSliceSteps, small: false);
            Assert.That(plan.SliceK % blockK, Is.Zero, $"{plan}: a slice is whole K steps");
            Assert.That((long)(plan.Slices - 1) * plan.SliceK, Is.LessThan(k), $"{plan}: no empty slice");
            Assert.That((long)plan.Slices * plan.SliceK, Is.GreaterThanOrEqualTo(k), $"{plan}: slices reach K");
        }
    }

    [Test]
    public void Plan_FitsTheTileToTheRows_SoNarrowLayersDoNotRunHalfEmptyTiles()
    {
        const int wide = 1 << 17; // N·OutH·OutW of a 32×32 layer at batch 128
        foreach (var (rows, tallest) in new[] { (16, 16), (32, 32), (56, 64), (64, 64), (112, 128) })
        {
            var plan = GemmPlan.Choose(rows, wide, 9 * rows, 12, 264, 8, small: false);
            Assert.That(GemmPlan.Dimensions(plan.Tile).BlockM, Is.EqualTo(tallest), $"{rows} rows: {plan}");
            Assert.That(plan.Slices, Is.EqualTo(1), "wide N fills the GPU without splitting K");
        }
        Assert.That(GemmPlan.Choose(112, wide, 288, 12, 264, 8, small: true).Tile, Is.EqualTo(GemmTileShape.Tile16x16));
    }

    [Test]
    public void Tilings_AreWholeWarpsWithConflictFreeFragments()
    {
        foreach (var tile in Enum.GetValues<GemmTileShape>())
        {
            var (tiling, registers) = GemmPlan.KernelTypes(tile);
            var t = (IGemmTiling)Activator.CreateInstance(tiling)!;
            var r = (IRegisterTile)Activator.CreateInstance(registers)!;
            Assert.That((r.Rows, r.Cols), Is.EqualTo((t.ThreadRows, t.ThreadCols)), $"{tile}: its register tile holds its thread tile");
            int lanesM = t.WarpThreads / t.LanesN, threads = GemmPlan.Dimensions(tile).Threads;
            Assert.That(threads % t.WarpThreads, Is.Zero, $"{tile}: whole warps");
            Assert.That(t.BlockM % (lanesM * t.ThreadRows) + t.BlockN % (t.LanesN * t.ThreadCols), Is.Zero, $"{tile}: whole warp tiles");
            Assert.That(t.BlockM / (lanesM * t.ThreadRows) * (t.BlockN / (t.LanesN * t.ThreadCols)) * t.WarpThreads, Is.EqualTo(threads), $"{tile}: one warp tile per warp");
            if (tile != GemmTileShape.Tile16x16)
                Assert.That(t.LanesN, Is.EqualTo(8), $"{tile}: a quarter-warp's 8 lanes read 8 consecutive 16-byte words of B (all 32 banks once)");
        }
    }

    /// <summary>
    /// 3×3 padding 1 at stride 1 and 2 with rows that fit a warp's lanes (neighbours by shuffle) and rows 24 wide that do
    /// not (neighbours by load), 1×1, and shapes no 16-byte loader takes (C·9 not a multiple of 4, 3×2).
    /// </summary>
    internal static readonly Conv2dShape[] LoaderShapes =
    {
        new(N: 2, C: 8, H: 6, W: 8, K: 20, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 2, C: 4, H: 7, W: 16, K: 6, KH: 3, KW: 3, Stride: 2, Pad: 1),
        new(N: 1, C: 4, H: 3, W: 24, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 1, C: 4, H: 4, W: 48, K: 6, KH: 3, KW: 3, Stride: 2, Pad: 1),
        new(N: 2, C: 12, H: 3, W: 4, K: 20, KH: 1, KW: 1, Stride: 1, Pad: 0),
        new(N: 1, C: 3, H: 5, W: 8, K: 7, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 2, C: 5, H: 7, W: 6, K: 19, KH: 3, KW: 2, Stride: 1, Pad: 1),
    };

    static IEnumerable<TestCaseData> LoaderCases() =>
        from s in LoaderShapes from fused in new[] { false, true } select new TestCaseData(s, fused);

    [TestCaseSource(nameof(LoaderCases))]
    public void EveryLoaderPath_MatchesDirectKernels(Conv2dShape s, bool fused)
    {
        var inputs = ConvInputs.Random(s, Rng);
        UseTiled(false);
        var expected = ConvRuns.Run(Accelerator, K, s, inputs, fused);
        UseTiled(true);
        var tiled = ConvRuns.Run(Accelerator, K, s, inputs, fused);
        ConvRuns.AssertClose(tiled, expected, 1e-5);
    }

    [TestCaseSource(nameof(LoaderCases))]
    public void SplitK_MatchesDirectKernels_AndRepeatsBitForBit(Conv2dShape s, bool fused)
    {
        var inputs = ConvInputs.Random(s, Rng);
        UseTiled(false);
        var expected = ConvRuns.Run(Accelerator, K, s, inputs, fused);
        UseTiled(true);
        (Ilgpu.TargetGroups, Ilgpu.GemmMinSliceSteps) = (1 << 20, 1);
        try
        {
            var first = ConvRuns.Run(Accelerator, K, s, inputs, fused);
            var second = ConvRuns.Run(Accelerator, K, s, inputs, fused);
            ConvRuns.AssertClose(first, expected, 1e-5);
            Assert.That((second.Y, second.Gx, second.Gw), Is.EqualTo((first.Y, first.Gx, first.Gw)), "same bits on a repeated run");
        }
        finally
        {
            (Ilgpu.TargetGroups, Ilgpu.GemmMinSliceSteps) = (new KernelContext(Accelerator).TargetGroups, GemmPlan.MinSliceSteps);
        }
    }

    [Test]
    public void SplitK_IsOneLaunchPerGemm_WithTheSlicesSummedByTheLastGroup()
    {
        var s = LoaderShapes[0];
        var inputs = ConvInputs.Random(s, Rng);
        UseTiled(true);
        (Ilgpu.TargetGroups, Ilgpu.GemmMinSliceSteps) = (1 << 20, 1);
        var recorder = new LaunchRecorder();
        Ilgpu.Recorder = recorder;
        try
        {
            ConvRuns.Run(Accelerator, K, s, inputs, fused: false);
        }
        finally
        {
            Ilgpu.Recorder = null;
            (Ilgpu.TargetGroups, Ilgpu.GemmMinSliceSteps) = (new KernelContext(Accelerator).TargetGroups, GemmPlan.MinSliceSteps);
        }
        Assert.That(recorder.Launches.Select(l => l.Name), Is.EqualTo(Enumerable.Repeat("GemmKernels.TiledKernel", 3)), "forward, grad-input, grad-weight");
        Assert.That(recorder.Launches.Select(l => l.Grid.Z), Has.All.GreaterThan(1), "each split over K");
    }

    [Test]
    public void PairedGradients_AreOneLaunch_AndMatchTheSeparateGemmsBitForBit()
    {
        var s = LoaderShapes[0];
        // relu(batchnorm(x)) = x: the fused op then computes the plain convolution's gradients.
        var inputs = ConvInputs.Random(s, Rng).WithIdentityBatchNorm();
        UseTiled(true);
        (Ilgpu.TargetGroups, Ilgpu.GemmMinSliceSteps) = (1 << 20, 1);
        var recorder = new LaunchRecorder();
        try
        {
            var separate = ConvRuns.Run(Accelerator, K, s, inputs, fused: false);
            Ilgpu.Recorder = recorder;
            var paired = ConvRuns.Run(Accelerator, K, s, inputs, fused: true);
            Ilgpu.Recorder = null;
            Assert.That((paired.Gx, paired.Gw), Is.EqualTo((separate.Gx, separate.Gw)), "the pair launch runs the same two GEMMs, split the same way");
        }
        finally
        {
            Ilgpu.Recorder = null;
            (Ilgpu.TargetGroups, Ilgpu.GemmMinSliceSteps) = (new KernelContext(Accelerator).TargetGroups, GemmPlan.MinSliceSteps);
        }
        Assert.That(recorder.Launches.Select(l => l.Name), Is.EqualTo(new[] { "GemmKernels.TiledKernel", "GemmKernels.PairKernel" }));
    }
}

/// <summary>Random inputs of one convolution, its batch norm included.</summary>
record ConvInputs(float[] X, float[] W, float[] B, float[] Gy, float[] GwStart, float[] Mean, float[] Invstd, float[] Gamma, float[] Beta)
{
    public static ConvInputs Random(Conv2dShape s, Random random)
    {
        float[] Values(int n, float scale = 1f, float offset = 0f) => Enumerable.Range(0, n).Select(_ => offset + scale * (float)(random.NextDouble() * 2 - 1)).ToArray();
        return new(Values(s.N * s.C * s.H * s.W), Values(s.K * s.C * s.KH * s.KW), Values(s.K), Values(s.N * s.K * s.OutH * s.OutW),
            Values(s.K * s.C * s.KH * s.KW), Values(s.C, 0.3f), Values(s.C, 0.5f, 1.5f), Values(s.C), Values(s.C, 0.5f));
    }

    /// <summary>Non-negative x and a batch norm that is the identity (mean 0, invstd 1, gamma 1, beta 0): relu(batchnorm(x)) = x exactly.</summary>
    public ConvInputs WithIdentityBatchNorm() => this with
    {
        X = X.Select(Math.Abs).ToArray(), Mean = new float[Mean.Length], Invstd = Enumerable.Repeat(1f, Invstd.Length).ToArray(),
        Gamma = Enumerable.Repeat(1f, Gamma.Length).ToArray(), Beta = new float[Beta.Length],
    };
}

/// <summary>
/// Forward, grad-input and accumulated grad-weight of one convolution (or, fused, of conv(relu(batchnorm(x))), whose
/// grad-input is then the convolution's, with respect to its normalised input), on an accelerator, downloaded.
/// </summary>
static class ConvRuns
{
    public static (float[] Y, float[] Gx, float[] Gw) Run(Accelerator accelerator, KernelSet k, Conv2dShape s, ConvInputs v, bool fused)
    {
        using var dx = accelerator.Allocate1D(v.X);
        using var dw = accelerator.Allocate1D(v.W);
        using var db = accelerator.Allocate1D(v.B);
        using var dgy = accelerator.Allocate1D(v.Gy);
        using var dgw = accelerator.Allocate1D(v.GwStart);
        using var mean = accelerator.Allocate1D(v.Mean);
        using var invstd = accelerator.Allocate1D(v.Invstd);
        using var gamma = accelerator.Allocate1D(v.Gamma);
        using var beta = accelerator.Allocate1D(v.Beta);
        using var dy = accelerator.Allocate1D<float>((long)s.N * s.K * s.OutH * s.OutW);
        using var dgx = accelerator.Allocate1D<float>(v.X.Length);
        dy.MemSet(0xFF);
        dgx.MemSet(0xFF);
        if (fused)
        {
            // The convolution's input gradient (with respect to relu(batchnorm(x))) and its weight gradient in one call.
            k.BatchNormReluConv2d.Forward(s, dx.View, mean.View, invstd.View, gamma.View, beta.View, dw.View, db.View, dy.View);
            k.BatchNormReluConv2d.Backward(s, dx.View, mean.View, invstd.View, gamma.View, beta.View, dw.View, dgy.View, dgx.View, dgw.View);
        }
        else
        {
            k.Conv2d.Forward(s, dx.View, dw.View, db.View, dy.View);
            k.Conv2d.BackwardWeight(s, dx.View, dgy.View, dgw.View);
            k.Conv2d.BackwardInput(s, dgy.View, dw.View, dgx.View);
        }
        accelerator.Synchronize();
        return (dy.GetAsArray1D(), dgx.GetAsArray1D(), dgw.GetAsArray1D());
    }

    public static void AssertClose((float[] Y, float[] Gx, float[] Gw) actual, (float[] Y, float[] Gx, float[] Gw) expected, double tolerance)
    {
        Assert.That(KernelTestBase.RelativeError(actual.Y, expected.Y), Is.LessThanOrEqualTo(tolerance), "forward");
        Assert.That(KernelTestBase.RelativeError(actual.Gx, expected.Gx), Is.LessThanOrEqualTo(tolerance), "grad-input");
        Assert.That(KernelTestBase.RelativeError(actual.Gw, expected.Gw), Is.LessThanOrEqualTo(tolerance), "grad-weight (accumulated)");
    }
}

/// <summary>
/// The GPU tilings themselves (64 to 256 threads per group), on a CPU accelerator built with groups that large: every
/// GPU tiling on a 3×3 shape, every loader path at the tiling the GPU plan picks, and split-K at full tiles, each against
/// the direct kernels on shapes that are no tile multiple.
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
        // 32 threads per warp × 8 warps: groups of up to 256 threads, as the GPU tilings launch.
        context = Context.Create(b => b.CPU(new CPUDevice(32, 8, 1)).EnableAlgorithms());
        accelerator = context.CreateCPUAccelerator(0);
        backend = new IlgpuBackend("ilgpu-cpu", accelerator);
        k = backend.Context;
    }

    [SetUp]
    public void GpuProfile()
    {
        k.UseGpuProfile(1);
        (k.TargetGroups, k.GemmMinSliceSteps, k.GemmTile) = (1, GemmPlan.MinSliceSteps, null);
    }

    [OneTimeTearDown]
    public void Dispose()
    {
        backend.Dispose();
        context.Dispose();
    }

    (float[] Y, float[] Gx, float[] Gw) Direct(Conv2dShape s, ConvInputs inputs, bool fused)
    {
        k.UseTiled = false;
        var expected = ConvRuns.Run(accelerator, backend.Kernels, s, inputs, fused);
        k.UseTiled = true;
        return expected;
    }

    static IEnumerable<TestCaseData> GpuTiles() => GemmPlan.GpuTiles.Select(t => new TestCaseData(t));

    [TestCaseSource(nameof(GpuTiles))]
    public void EachGpuTiling_MatchesDirectKernels_InEveryConvGemm(GemmTileShape tile)
    {
        var s = TiledGemmTests.LoaderShapes[0];
        var inputs = ConvInputs.Random(s, new Random(7));
        var expected = Direct(s, inputs, fused: true);
        k.GemmTile = tile;
        var recorder = new LaunchRecorder();
        k.Recorder = recorder;
        var tiled = ConvRuns.Run(accelerator, backend.Kernels, s, inputs, fused: true);
        k.Recorder = null;
        ConvRuns.AssertClose(tiled, expected, 1e-5);
        var (tiling, _) = GemmPlan.KernelTypes(tile);
        Assert.That(recorder.Launches.Select(l => l.Name), Is.EqualTo(new[] { "GemmKernels.TiledKernel", "GemmKernels.PairKernel" }), "forward, then both gradients paired");
        var arguments = recorder.Launches.SelectMany(l => l.Kernel.GetGenericArguments()).ToList();
        Assert.That(arguments.Count(a => a == tiling), Is.EqualTo(3), $"all three GEMMs ran at {tile}");
    }

    /// <summary>The triplet loaders with 32-lane warps (neighbours by shuffle, and by load for 24-wide rows), fused; the word and stream paths run at small tiles.</summary>
    static IEnumerable<TestCaseData> TripletShapes() => TiledGemmTests.LoaderShapes.Take(4).Select(s => new TestCaseData(s));

    [TestCaseSource(nameof(TripletShapes))]
    public void TripletLoaders_AtTheGpuPlansTiling_MatchDirectKernels(Conv2dShape s)
    {
        var inputs = ConvInputs.Random(s, new Random(11));
        var expected = Direct(s, inputs, fused: true);
        ConvRuns.AssertClose(ConvRuns.Run(accelerator, backend.Kernels, s, inputs, fused: true), expected, 1e-5);
    }

    [Test]
    public void SplitK_AtFullTiles_MatchesDirectKernels_AndRepeatsBitForBit()
    {
        var s = TiledGemmTests.LoaderShapes[0];
        var inputs = ConvInputs.Random(s, new Random(13));
        var expected = Direct(s, inputs, fused: true);
        (k.TargetGroups, k.GemmMinSliceSteps) = (1 << 20, 1);
        var first = ConvRuns.Run(accelerator, backend.Kernels, s, inputs, fused: true);
        var second = ConvRuns.Run(accelerator, backend.Kernels, s, inputs, fused: true);
        ConvRuns.AssertClose(first, expected, 1e-5);
        Assert.That((second.Y, second.Gx, second.Gw), Is.EqualTo((first.Y, first.Gx, first.Gw)), "same bits on a repeated run");
    }
}
