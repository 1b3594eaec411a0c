using ILGPU;
using NUnit.Framework;
using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Tests.Kernels;

public class Conv2dKernelsTests : GemmTestBase
{
    /// <summary>Odd sizes, channel counts not multiples of the tile, stride 1/2, pad 0/1, 1x1, 3x3 and 3x2 kernels.</summary>
    static readonly Conv2dShape[] Shapes =
    {
        new(N: 2, C: 3, H: 5, W: 7, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 3, C: 5, H: 7, W: 9, K: 3, KH: 3, KW: 3, Stride: 2, Pad: 1),
        new(N: 2, C: 5, H: 7, W: 5, K: 3, KH: 1, KW: 1, Stride: 1, Pad: 0),
        new(N: 1, C: 3, H: 9, W: 7, K: 5, KH: 1, KW: 1, Stride: 2, Pad: 0),
        new(N: 2, C: 3, H: 7, W: 5, K: 6, KH: 3, KW: 2, Stride: 2, Pad: 1),
        new(N: 1, C: 2, H: 5, W: 5, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 0), // N·OutH·OutW = 9
    };

    static IEnumerable<TestCaseData> ShapesBothKernels() =>
        from s in Shapes from tiled in new[] { false, true } select new TestCaseData(s, tiled);

    internal static double[] ReferenceForward(Conv2dShape s, double[] x, double[] w, double[]? b)
    {
        var y = new double[s.N * s.K * s.OutH * s.OutW];
        for (int n = 0; n < s.N; n++)
        for (int k = 0; k < s.K; k++)
        for (int oh = 0; oh < s.OutH; oh++)
        for (int ow = 0; ow < s.OutW; ow++)
        {
            double sum = b?[k] ?? 0;
            for (int c = 0; c < s.C; c++)
            for (int kh = 0; kh < s.KH; kh++)
            for (int kw = 0; kw < s.KW; kw++)
            {
                int ih = oh * s.Stride - s.Pad + kh, iw = ow * s.Stride - s.Pad + kw;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                sum += x[((n * s.C + c) * s.H + ih) * s.W + iw] * w[((k * s.C + c) * s.KH + kh) * s.KW + kw];
            }
            y[((n * s.K + k) * s.OutH + oh) * s.OutW + ow] = sum;
        }
        return y;
    }

    /// <summary>gx, gw, gb of loss = Σ y·gy, by the chain rule written out loop by loop.</summary>
    internal static (double[] Gx, double[] Gw, double[] Gb) ReferenceBackward(Conv2dShape s, double[] x, double[] w, double[] gy)
    {
        var gx = new double[x.Length];
        var gw = new double[w.Length];
        var gb = new double[s.K];
        for (int n = 0; n < s.N; n++)
        for (int k = 0; k < s.K; k++)
        for (int oh = 0; oh < s.OutH; oh++)
        for (int ow = 0; ow < s.OutW; ow++)
        {
            double g = gy[((n * s.K + k) * s.OutH + oh) * s.OutW + ow];
            gb[k] += g;
            for (int c = 0; c < s.C; c++)
            for (int kh = 0; kh < s.KH; kh++)
            for (int kw = 0; kw < s.KW; kw++)
            {
                int ih = oh * s.Stride - s.Pad + kh, iw = ow * s.Stride - s.Pad + kw;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                int xi = ((n * s.C + c) * s.H + ih) * s.W + iw, wi = ((k * s.C + c) * s.KH + kh) * s.KW + kw;
                gx[xi] += g * w[wi];
                gw[wi] += g * x[xi];
            }
        }
        return (gx, gw, gb);
    }

    static int XLength(Conv2dShape s) => s.N * s.C * s.H * s.W;
    static int WLength(Conv2dShape s) => s.K * s.C * s.KH * s.KW;
    static int YLength(Conv2dShape s) => s.N * s.K * s.OutH * s.OutW;

    float[] Forward(Conv2dShape s, float[] x, float[] w, float[]? b)
    {
        using var dx = Upload(x);
        using var dw = Upload(w);
        using var db = b is null ? null : Upload(b);
        using var dy = Poisoned(YLength(s));
        K.Conv2d.Forward(s, dx.View, dw.View, db?.View ?? ArrayView<float>.Empty, dy.View);
        return Download(dy);
    }

    float[] BackwardInput(Conv2dShape s, float[] gy, float[] w)
    {
        using var dgy = Upload(gy);
        using var dw = Upload(w);
        using var dgx = Poisoned(XLength(s));
        K.Conv2d.BackwardInput(s, dgy.View, dw.View, dgx.View);
        return Download(dgx);
    }

    /// <summary>Starts gw (and gb) at <paramref name="initial"/> and runs the accumulating backward <paramref name="times"/> times.</summary>
    float[] BackwardWeight(Conv2dShape s, float[] x, float[] gy, float[] initial, int times = 1)
    {
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgw = Upload(initial);
        for (int i = 0; i < times; i++) K.Conv2d.BackwardWeight(s, dx.View, dgy.View, dgw.View);
        return Download(dgw);
    }

    float[] BackwardBias(Conv2dShape s, float[] gy, float[] initial, int times = 1)
    {
        using var dgy = Upload(gy);
        using var dgb = Upload(initial);
        for (int i = 0; i < times; i++) K.Channels.AccumulatePerChannel(s.N, s.K, s.OutH * s.OutW, dgy.View, dgb.View); // the bias gradient of a conv
        return Download(dgb);
    }

    [TestCaseSource(nameof(ShapesBothKernels))]
    public void Forward_MatchesFloat64Reference(Conv2dShape s, bool tiled)
    {
        UseTiled(tiled);
        var (x, w, b) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(s.K));
        AssertClose(Forward(s, x, w, b), ReferenceForward(s, ToDouble(x), ToDouble(w), ToDouble(b)), 1e-5, "conv2d y");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Forward_WithEmptyBias_AddsNoBias(bool tiled)
    {
        UseTiled(tiled);
        var s = Shapes[4];
        var (x, w) = (RandomArray(XLength(s)), RandomArray(WLength(s)));
        AssertClose(Forward(s, x, w, null), ReferenceForward(s, ToDouble(x), ToDouble(w), null), 1e-5, "conv2d y without bias");
    }

    [TestCaseSource(nameof(ShapesBothKernels))]
    public void BackwardInput_MatchesFloat64Reference(Conv2dShape s, bool tiled)
    {
        UseTiled(tiled);
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var expected = ReferenceBackward(s, ToDouble(x), ToDouble(w), ToDouble(gy)).Gx;
        AssertClose(BackwardInput(s, gy, w), expected, 1e-5, "conv2d gx");
    }

    [TestCaseSource(nameof(ShapesBothKernels))]
    public void BackwardWeight_MatchesFloat64Reference(Conv2dShape s, bool tiled)
    {
        UseTiled(tiled);
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var expected = ReferenceBackward(s, ToDouble(x), ToDouble(w), ToDouble(gy)).Gw;
        AssertClose(BackwardWeight(s, x, gy, new float[w.Length]), expected, 1e-5, "conv2d gw");
    }

    [TestCaseSource(nameof(Shapes))]
    public void BackwardBias_MatchesFloat64Reference(Conv2dShape s)
    {
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var expected = ReferenceBackward(s, ToDouble(x), ToDouble(w), ToDouble(gy)).Gb;
        AssertClose(BackwardBias(s, gy, new float[s.K]), expected, 1e-5, "conv2d gb");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Backward_MatchesFiniteDifferencesOfForward(bool tiled)
    {
        UseTiled(tiled);
        var s = new Conv2dShape(N: 2, C: 2, H: 4, W: 3, K: 2, KH: 3, KW: 2, Stride: 2, Pad: 1);
        var (x, w, b, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(s.K), RandomArray(YLength(s)));
        var (xd, wd, bd, r) = (ToDouble(x), ToDouble(w), ToDouble(b), ToDouble(gy));
        // loss = Σ y·gy, so dloss/dy = gy.
        AssertClose(BackwardInput(s, gy, w), FiniteDifference(xd, p => Dot(ReferenceForward(s, p, wd, bd), r)), 1e-5, "gx vs finite differences");
        AssertClose(BackwardWeight(s, x, gy, new float[w.Length]), FiniteDifference(wd, p => Dot(ReferenceForward(s, xd, p, bd), r)), 1e-5, "gw vs finite differences");
        AssertClose(BackwardBias(s, gy, new float[s.K]), FiniteDifference(bd, p => Dot(ReferenceForward(s, xd, wd, p), r)), 1e-5, "gb vs finite differences");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ParameterGradients_Accumulate_TwoCallsGiveTwiceTheGradient(bool tiled)
    {
        UseTiled(tiled);
        var s = Shapes[1];
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var once = ReferenceBackward(s, ToDouble(x), ToDouble(w), ToDouble(gy));
        AssertClose(BackwardWeight(s, x, gy, new float[w.Length], times: 2), Scaled(once.Gw, 2), 1e-5, "gw twice");
        AssertClose(BackwardBias(s, gy, new float[s.K], times: 2), Scaled(once.Gb, 2), 1e-5, "gb twice");
    }

    [TestCase("conv2d_3x3_p1_s1", false)]
    [TestCase("conv2d_3x3_p1_s2", true)]
    [TestCase("conv2d_1x1_s1", true)]
    [TestCase("conv2d_1x1_s2", false)]
    [TestCase("conv2d_3x3_p1_s1_odd", true)]
    [TestCase("conv2d_3x3_p1_s2_odd", false)]
    [TestCase("conv2d_3x3_p0_s1_nobias", true)]
    [TestCase("conv2d_3x3_p1_s1_wide", false)]
    public void GoldenCase_MatchesPyTorch(string name, bool tiled)
    {
        UseTiled(tiled);
        var (p, t) = LoadGolden(name);
        var kernel = p.GetProperty("kernel");
        var s = new Conv2dShape(p.GetProperty("N").GetInt32(), p.GetProperty("C").GetInt32(), p.GetProperty("H").GetInt32(),
            p.GetProperty("W").GetInt32(), p.GetProperty("K").GetInt32(), kernel[0].GetInt32(), kernel[1].GetInt32(),
            p.GetProperty("stride")[0].GetInt32(), p.GetProperty("padding")[0].GetInt32());
        bool hasBias = t.ContainsKey("b");
        AssertClose(Forward(s, t["x"], t["w"], hasBias ? t["b"] : null), ToDouble(t["y"]), 1e-5, $"{name} y");
        AssertClose(BackwardInput(s, t["gy"], t["w"]), ToDouble(t["gx"]), 1e-5, $"{name} gx");
        AssertClose(BackwardWeight(s, t["x"], t["gy"], new float[t["w"].Length]), ToDouble(t["gw"]), 1e-4, $"{name} gw");
        if (hasBias) AssertClose(BackwardBias(s, t["gy"], new float[s.K]), ToDouble(t["gb"]), 1e-5, $"{name} gb");
    }

    static IEnumerable<TestCaseData> BadShapes()
    {
        var ok = new Conv2dShape(N: 1, C: 2, H: 3, W: 3, K: 2, KH: 3, KW: 3, Stride: 1, Pad: 0);
        yield return new TestCaseData(ok with { C = 0 }, "C").SetName("Validate_RejectsZeroChannels");
        yield return new TestCaseData(ok with { Stride = 0 }, "stride").SetName("Validate_RejectsZeroStride");
        yield return new TestCaseData(ok with { Pad = -1 }, "pad").SetName("Validate_RejectsNegativePad");
        yield return new TestCaseData(ok with { KH = 4 }, "kernel height 4").SetName("Validate_RejectsKernelTallerThanPaddedInput");
        yield return new TestCaseData(ok with { KW = 6, Pad = 1 }, "kernel width 6").SetName("Validate_RejectsKernelWiderThanPaddedInput");
    }

    [TestCaseSource(nameof(BadShapes))]
    public void Validate_RejectsBadShape_NamingOpAndValue(Conv2dShape s, string what)
    {
        var ex = Assert.Throws<ArgumentException>(() => s.Validate("conv2d forward"));
        Assert.That(ex!.Message, Does.Contain("conv2d forward").And.Contain(what));
    }

    [Test]
    public void EntryPoints_RejectMismatchedLengths_NamingOpAndBothSizes()
    {
        var s = Shapes[0]; // x 210, w 135, y 350, bias 5
        using var x = Upload(new float[XLength(s)]);
        using var w = Upload(new float[WLength(s)]);
        using var y = Upload(new float[YLength(s)]);
        using var shortBuf = Upload(new float[4]);
        void Expect(TestDelegate call, string op, string sizes)
        {
            var ex = Assert.Throws<ArgumentException>(call);
            Assert.That(ex!.Message, Does.Contain(op).And.Contain(sizes));
        }
        Expect(() => K.Conv2d.Forward(s, x.View, w.View, shortBuf.View, y.View), "conv2d forward", "bias must have 5 elements, got 4");
        Expect(() => K.Conv2d.Forward(s, x.View, w.View, default, x.View), "conv2d forward", "y must have 350 elements, got 210");
        Expect(() => K.Conv2d.BackwardInput(s, y.View, x.View, x.View), "conv2d backward input", "w must have 135 elements, got 210");
        Expect(() => K.Conv2d.BackwardWeight(s, x.View, y.View, x.View), "conv2d backward weight", "gw must have 135 elements, got 210");
        Expect(() => K.Conv2d.Forward(s with { Stride = 0 }, x.View, w.View, default, y.View), "conv2d forward", "stride must be positive, got 0");
    }
}
