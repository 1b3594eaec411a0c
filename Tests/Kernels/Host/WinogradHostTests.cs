using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Tests.Kernels.Host;

/// <summary>
/// The Winograd host convolution (<see cref="WinogradHost"/>, both tile sizes, all three passes) against the float64 loop references of
/// <see cref="Conv2dKernelsTests"/> and finite differences at every <see cref="SimdLevel"/> this processor supports;
/// the same bits on every thread count; and <see cref="Conv2dHost"/> taking it exactly where
/// <see cref="HostConvAlgorithm"/> says.
/// </summary>
public class WinogradHostTests : GemmTestBase
{
    /// <summary>
    /// 3x3 stride 1 only. Batch 1, 1x1, 3x3, 5x5 and 7x7 maps and odd rectangles (tiles cut by the map's edge), channel
    /// counts 3, 5, 17 and 33 (off the vector width and the micro-kernel's row block), padding 0, 1 and 2 (grad-input
    /// then pads by 2, 1 and 0); the last three put several blocks of tiles in one tile row, split tile rows across
    /// blocks, and end on a part-filled block.
    /// </summary>
    static readonly Conv2dShape[] Shapes =
    {
        new(N: 1, C: 3, H: 1, W: 1, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 1, C: 5, H: 3, W: 3, K: 17, KH: 3, KW: 3, Stride: 1, Pad: 0),
        new(N: 2, C: 17, H: 5, W: 5, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 1, C: 33, H: 7, W: 7, K: 33, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 3, C: 5, H: 7, W: 5, K: 17, KH: 3, KW: 3, Stride: 1, Pad: 0),
        new(N: 2, C: 3, H: 6, W: 5, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 2),
        new(N: 1, C: 17, H: 9, W: 70, K: 9, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 3, C: 5, H: 13, W: 11, K: 17, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 7, C: 3, H: 8, W: 8, K: 10, KH: 3, KW: 3, Stride: 1, Pad: 1),
    };

    static readonly ConvAlgorithm[] Tiles = { ConvAlgorithm.WinogradF2, ConvAlgorithm.WinogradF4 };

    static IEnumerable<TestCaseData> ShapesAtEveryLevel() =>
        from s in Shapes from level in HostSimd.Supported from tile in Tiles select new TestCaseData(s, level, tile);

    static IEnumerable<TestCaseData> TilesAtEveryLevel() =>
        from level in HostSimd.Supported from tile in Tiles select new TestCaseData(level, tile);

    SimdLevel defaultLevel;
    int defaultThreads;
    ConvAlgorithmSetting defaultSetting;

    [SetUp]
    public void RememberHostSettings() => (defaultLevel, defaultThreads, defaultSetting) = (HostSimd.Active, HostThreads.Count, HostConvAlgorithm.Active);

    [TearDown]
    public void RestoreHostSettings() => (HostSimd.Active, HostThreads.Count, HostConvAlgorithm.Active) = (defaultLevel, defaultThreads, defaultSetting);

    static int XLength(Conv2dShape s) => s.N * s.C * s.H * s.W;
    static int WLength(Conv2dShape s) => s.K * s.C * s.KH * s.KW;
    static int YLength(Conv2dShape s) => s.N * s.K * s.OutH * s.OutW;

    static float[] Forward(Conv2dShape s, ConvAlgorithm tile, float[] x, float[] w, float[]? b)
    {
        var y = Filled(YLength(s), Poison);
        WinogradHost.Forward(s, tile, x, w, b, y);
        return y;
    }

    static float[] BackwardInput(Conv2dShape s, ConvAlgorithm tile, float[] gy, float[] w)
    {
        var gx = Filled(XLength(s), Poison);
        WinogradHost.BackwardInput(s, tile, gy, w, gx);
        return gx;
    }

    static float[] BackwardWeight(Conv2dShape s, ConvAlgorithm tile, float[] x, float[] gy, float[] initial)
    {
        var gw = (float[])initial.Clone();
        WinogradHost.BackwardWeight(s, tile, x, gy, gw);
        return gw;
    }

    static float[] Filled(int length, float value)
    {
        var a = new float[length];
        Array.Fill(a, value);
        return a;
    }

    /// <summary>The float32 rounding tolerance of the direct tests (<see cref="Conv2dHostTests"/>): Winograd must meet it too.</summary>
    const double Tolerance = 1e-5;

    [TestCaseSource(nameof(ShapesAtEveryLevel))]
    public void Forward_MatchesFloat64Reference(Conv2dShape s, SimdLevel level, ConvAlgorithm tile)
    {
        HostSimd.Active = level;
        var (x, w, b) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(s.K));
        AssertClose(Forward(s, tile, x, w, b), Conv2dKernelsTests.ReferenceForward(s, ToDouble(x), ToDouble(w), ToDouble(b)), Tolerance, $"y at {level}");
        AssertClose(Forward(s, tile, x, w, null), Conv2dKernelsTests.ReferenceForward(s, ToDouble(x), ToDouble(w), null), Tolerance, $"y without bias at {level}");
    }

    [TestCaseSource(nameof(ShapesAtEveryLevel))]
    public void BackwardInput_MatchesFloat64Reference(Conv2dShape s, SimdLevel level, ConvAlgorithm tile)
    {
        HostSimd.Active = level;
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var expected = Conv2dKernelsTests.ReferenceBackward(s, ToDouble(x), ToDouble(w), ToDouble(gy)).Gx;
        AssertClose(BackwardInput(s, tile, gy, w), expected, Tolerance, $"gx at {level}");
    }

    [TestCaseSource(nameof(ShapesAtEveryLevel))]
    public void BackwardWeight_AccumulatesFloat64Reference(Conv2dShape s, SimdLevel level, ConvAlgorithm tile)
    {
        HostSimd.Active = level;
        var (x, w, gy, initial) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)), RandomArray(WLength(s)));
        var gradient = Conv2dKernelsTests.ReferenceBackward(s, ToDouble(x), ToDouble(w), ToDouble(gy)).Gw;
        var expected = gradient.Select((g, i) => g + initial[i]).ToArray();
        AssertClose(BackwardWeight(s, tile, x, gy, initial), expected, Tolerance, $"gw (+= onto random values) at {level}");
    }

    [TestCaseSource(nameof(TilesAtEveryLevel))]
    public void Backward_MatchesFiniteDifferencesOfForward(SimdLevel level, ConvAlgorithm tile)
    {
        HostSimd.Active = level;
        var s = new Conv2dShape(N: 2, C: 3, H: 6, W: 5, K: 2, KH: 3, KW: 3, Stride: 1, Pad: 1);
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var (xd, wd, r) = (ToDouble(x), ToDouble(w), ToDouble(gy));
        // loss = Σ y·gy, so dloss/dx and dloss/dw are the gradients of gy.
        AssertClose(BackwardInput(s, tile, gy, w), FiniteDifference(xd, p => Dot(Conv2dKernelsTests.ReferenceForward(s, p, wd, null), r)), Tolerance, "gx vs finite differences");
        AssertClose(BackwardWeight(s, tile, x, gy, new float[w.Length]), FiniteDifference(wd, p => Dot(Conv2dKernelsTests.ReferenceForward(s, xd, p, null), r)), Tolerance, "gw vs finite differences");
    }

    [TestCaseSource(nameof(Tiles))]
    public void AllThree_GiveTheSameBits_OnEveryRunAndThreadCount(ConvAlgorithm tile)
    {
        // Several blocks and, for grad-weight, several groups of blocks.
        var s = new Conv2dShape(N: 41, C: 17, H: 12, W: 13, K: 20, KH: 3, KW: 3, Stride: 1, Pad: 1);
        var (x, w, b, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(s.K), RandomArray(YLength(s)));
        float[][] Run(int threads)
        {
            HostThreads.Count = threads;
            return [Forward(s, tile, x, w, b), BackwardInput(s, tile, gy, w), BackwardWeight(s, tile, x, gy, new float[WLength(s)])];
        }
        var first = Run(defaultThreads);
        foreach (int threads in new[] { defaultThreads, 1, 2, 3 })
        {
            var again = Run(threads);
            for (int i = 0; i < first.Length; i++)
                Assert.That(again[i], Is.EqualTo(first[i]).AsCollection, $"output {i} with {threads} threads differs from the first run");
        }
    }

    [TestCase(ConvAlgorithmSetting.Winograd)]
    [TestCase(ConvAlgorithmSetting.Fastest)]
    [TestCase(ConvAlgorithmSetting.Auto)]
    [TestCase(ConvAlgorithmSetting.Direct)]
    public void Conv2dHost_RunsTheAlgorithmTheSettingChooses(ConvAlgorithmSetting setting)
    {
        HostConvAlgorithm.Active = setting;
        var s = new Conv2dShape(N: 2, C: 16, H: 8, W: 8, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1);
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var y = Filled(YLength(s), Poison);
        var gx = Filled(XLength(s), Poison);
        Conv2dHost.Forward(s, x, w, default, y);
        Conv2dHost.BackwardInput(s, gy, w, gx);
        var forward = HostConvAlgorithm.Choose(s, ConvPass.Forward);
        var gradInput = HostConvAlgorithm.Choose(s, ConvPass.GradInput);
        if (setting == ConvAlgorithmSetting.Direct) Assert.That((forward, gradInput), Is.EqualTo((ConvAlgorithm.Direct, ConvAlgorithm.Direct)));
        if (setting == ConvAlgorithmSetting.Winograd) Assert.That(new[] { forward, gradInput }, Has.None.EqualTo(ConvAlgorithm.Direct));
        if (setting == ConvAlgorithmSetting.Auto) Assert.That((forward, gradInput), Is.EqualTo((ConvAlgorithm.Direct, ConvAlgorithm.WinogradF4)));
        HostConvAlgorithm.Active = ConvAlgorithmSetting.Direct;
        float[] expectedY = forward == ConvAlgorithm.Direct ? RunDirect(y.Length, o => Conv2dHost.Forward(s, x, w, default, o)) : Forward(s, forward, x, w, null);
        float[] expectedGx = gradInput == ConvAlgorithm.Direct ? RunDirect(gx.Length, o => Conv2dHost.BackwardInput(s, gy, w, o)) : BackwardInput(s, gradInput, gy, w);
        Assert.That(y, Is.EqualTo(expectedY).AsCollection, $"forward by {forward}");
        Assert.That(gx, Is.EqualTo(expectedGx).AsCollection, $"grad-input by {gradInput}");
    }

    static float[] RunDirect(int length, Action<float[]> call)
    {
        var output = Filled(length, Poison);
        call(output);
        return output;
    }

    [Test]
    public void Choose_UnderFastest_FollowsTheMeasuredPlan()
    {
        ConvAlgorithm Auto(Conv2dShape shape, ConvPass pass) => HostConvAlgorithm.Choose(shape, pass, ConvAlgorithmSetting.Fastest);
        // 32 wide: direct reads im2col in place; Winograd for forward and grad-input from 9 channels in and out.
        var stage = new Conv2dShape(N: 32, C: 16, H: 32, W: 32, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1);
        Assert.That(Auto(stage, ConvPass.Forward), Is.EqualTo(ConvAlgorithm.WinogradF4));
        Assert.That(Auto(stage, ConvPass.GradInput), Is.EqualTo(ConvAlgorithm.WinogradF4));
        Assert.That(Auto(stage, ConvPass.GradWeight), Is.EqualTo(ConvAlgorithm.Direct));
        Assert.That(Auto(stage with { C = 8, K = 8 }, ConvPass.Forward), Is.EqualTo(ConvAlgorithm.Direct));
        Assert.That(Auto(stage with { C = 3, K = 32 }, ConvPass.Forward), Is.EqualTo(ConvAlgorithm.Direct));
        // 28 wide: direct packs panels; Winograd for every pass from 3 input channels.
        var packed = new Conv2dShape(N: 64, C: 8, H: 28, W: 28, K: 8, KH: 3, KW: 3, Stride: 1, Pad: 1);
        Assert.That(new[] { ConvPass.Forward, ConvPass.GradInput, ConvPass.GradWeight }.Select(p => Auto(packed, p)), Has.All.EqualTo(ConvAlgorithm.WinogradF4));
        Assert.That(Auto(packed with { C = 1, K = 16 }, ConvPass.Forward), Is.EqualTo(ConvAlgorithm.Direct), "the stem's forward reads one channel");
        Assert.That(Auto(packed with { C = 1, K = 16 }, ConvPass.GradInput), Is.EqualTo(ConvAlgorithm.WinogradF4), "its grad-input reads 16");
        // Forced: every pass.
        Assert.That(HostConvAlgorithm.Choose(stage with { C = 3 }, ConvPass.GradWeight, ConvAlgorithmSetting.Winograd), Is.EqualTo(ConvAlgorithm.WinogradF4));
    }

    [Test]
    public void Choose_UnderAuto_KeepsEveryForwardDirect_AndFollowsThePlanForGradients()
    {
        // Forwards rebuild a reconstructing network's activations: under auto they stay direct's bits.
        var shapes = new[]
        {
            new Conv2dShape(N: 32, C: 16, H: 32, W: 32, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1),
            new Conv2dShape(N: 64, C: 8, H: 28, W: 28, K: 8, KH: 3, KW: 3, Stride: 1, Pad: 1),
            new Conv2dShape(N: 64, C: 1, H: 28, W: 28, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1),
        };
        foreach (var s in shapes)
        {
            Assert.That(HostConvAlgorithm.Choose(s, ConvPass.Forward, ConvAlgorithmSetting.Auto), Is.EqualTo(ConvAlgorithm.Direct), s.ToString());
            foreach (var pass in new[] { ConvPass.GradInput, ConvPass.GradWeight })
                Assert.That(HostConvAlgorithm.Choose(s, pass, ConvAlgorithmSetting.Auto), Is.EqualTo(HostConvAlgorithm.Choose(s, pass, ConvAlgorithmSetting.Fastest)), $"{s} {pass}");
        }
        Assert.That(HostConvAlgorithm.Choose(shapes[0], ConvPass.GradInput, ConvAlgorithmSetting.Auto), Is.EqualTo(ConvAlgorithm.WinogradF4));
        Assert.That(HostConvAlgorithm.Choose(shapes[1], ConvPass.GradWeight, ConvAlgorithmSetting.Auto), Is.EqualTo(ConvAlgorithm.WinogradF4));
    }

    [Test]
    public void Choose_IsDirectForOtherKernelsAndStrides_AndUnderTheDirectSetting()
    {
        var threeByThree = new Conv2dShape(N: 32, C: 32, H: 16, W: 16, K: 32, KH: 3, KW: 3, Stride: 1, Pad: 1);
        Assert.That(HostConvAlgorithm.Choose(threeByThree with { Stride = 2 }, ConvPass.Forward, ConvAlgorithmSetting.Winograd), Is.EqualTo(ConvAlgorithm.Direct));
        Assert.That(HostConvAlgorithm.Choose(threeByThree with { KH = 1, KW = 1, Pad = 0 }, ConvPass.Forward, ConvAlgorithmSetting.Winograd), Is.EqualTo(ConvAlgorithm.Direct));
        Assert.That(HostConvAlgorithm.Choose(threeByThree, ConvPass.Forward, ConvAlgorithmSetting.Direct), Is.EqualTo(ConvAlgorithm.Direct));
        Assert.That(HostConvAlgorithm.Choose(threeByThree, ConvPass.Forward, ConvAlgorithmSetting.Winograd), Is.Not.EqualTo(ConvAlgorithm.Direct));
    }

    [Test]
    public void Parse_AcceptsTheFourSettings_AndNamesABadValue()
    {
        Assert.That(HostConvAlgorithm.Parse("FASTEST", "--conv-algorithm"), Is.EqualTo(ConvAlgorithmSetting.Fastest));
        Assert.That(HostConvAlgorithm.Parse("Winograd", "--conv-algorithm"), Is.EqualTo(ConvAlgorithmSetting.Winograd));
        Assert.That(HostConvAlgorithm.Parse(" direct ", "--conv-algorithm"), Is.EqualTo(ConvAlgorithmSetting.Direct));
        Assert.That(HostConvAlgorithm.Parse("auto", "--conv-algorithm"), Is.EqualTo(ConvAlgorithmSetting.Auto));
        var ex = Assert.Throws<ArgumentException>(() => HostConvAlgorithm.Parse("fft", "--conv-algorithm"));
        Assert.That(ex!.Message, Is.EqualTo("--conv-algorithm='fft': expected auto, fastest, direct or winograd"));
    }

    [Test]
    public void EntryPoints_RejectShapesWinogradDoesNotCompute()
    {
        var s = new Conv2dShape(N: 1, C: 2, H: 5, W: 5, K: 2, KH: 3, KW: 3, Stride: 2, Pad: 1);
        var (x, w, y) = (new float[XLength(s)], new float[WLength(s)], new float[YLength(s)]);
        var ex = Assert.Throws<ArgumentException>(() => WinogradHost.Forward(s, ConvAlgorithm.WinogradF2, x, w, default, y));
        Assert.That(ex!.Message, Does.Contain("3x3 kernel at stride 1, got 3x3 at stride 2"));
        var one = s with { Stride = 1 };
        ex = Assert.Throws<ArgumentException>(() => WinogradHost.BackwardInput(one, ConvAlgorithm.Direct, new float[YLength(one)], w, x));
        Assert.That(ex!.Message, Does.Contain("Direct is not a Winograd algorithm"));
    }
}
