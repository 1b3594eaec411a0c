using NUnit.Framework;
using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Tests.Kernels;

public class LinearKernelsTests : GemmTestBase
{
    /// <summary>(N, in, out): odd sizes, none a multiple of the tile, plus the degenerate 1×1×1.</summary>
    static IEnumerable<TestCaseData> SizesBothKernels() =>
        from size in new[] { (1, 1, 1), (5, 7, 3), (9, 13, 10), (3, 4, 17) }
        from tiled in new[] { false, true }
        select new TestCaseData(size.Item1, size.Item2, size.Item3, tiled);

    static double[] ReferenceForward(int n, int inF, int outF, double[] x, double[] w, double[] b)
    {
        var y = new double[n * outF];
        for (int i = 0; i < n; i++)
        for (int o = 0; o < outF; o++)
        {
            double sum = b[o];
            for (int j = 0; j < inF; j++) sum += x[i * inF + j] * w[o * inF + j];
            y[i * outF + o] = sum;
        }
        return y;
    }

    static (double[] Gx, double[] Gw, double[] Gb) ReferenceBackward(int n, int inF, int outF, double[] x, double[] w, double[] gy)
    {
        var (gx, gw, gb) = (new double[n * inF], new double[outF * inF], new double[outF]);
        for (int i = 0; i < n; i++)
        for (int o = 0; o < outF; o++)
        {
            double g = gy[i * outF + o];
            gb[o] += g;
            for (int j = 0; j < inF; j++)
            {
                gx[i * inF + j] += g * w[o * inF + j];
                gw[o * inF + j] += g * x[i * inF + j];
            }
        }
        return (gx, gw, gb);
    }

    float[] Forward(int n, int inF, int outF, float[] x, float[] w, float[] b)
    {
        using var dx = Upload(x);
        using var dw = Upload(w);
        using var db = Upload(b);
        using var dy = Poisoned(n * outF);
        K.Linear.Forward(n, inF, outF, dx.View, dw.View, db.View, dy.View);
        return Download(dy);
    }

    float[] BackwardInput(int n, int inF, int outF, float[] gy, float[] w)
    {
        using var dgy = Upload(gy);
        using var dw = Upload(w);
        using var dgx = Poisoned(n * inF);
        K.Linear.BackwardInput(n, inF, outF, dgy.View, dw.View, dgx.View);
        return Download(dgx);
    }

    /// <summary>Runs the accumulating backward <paramref name="times"/> times from zero gradients.</summary>
    (float[] Gw, float[] Gb) BackwardParams(int n, int inF, int outF, float[] x, float[] gy, int times = 1)
    {
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgw = Upload(new float[outF * inF]);
        using var dgb = Upload(new float[outF]);
        for (int i = 0; i < times; i++) K.Linear.BackwardParams(n, inF, outF, dx.View, dgy.View, dgw.View, dgb.View);
        return (Download(dgw), Download(dgb));
    }

    [TestCaseSource(nameof(SizesBothKernels))]
    public void ForwardAndBackward_MatchFloat64Reference(int n, int inF, int outF, bool tiled)
    {
        UseTiled(tiled);
        var (x, w, b, gy) = (RandomArray(n * inF), RandomArray(outF * inF), RandomArray(outF), RandomArray(n * outF));
        var (xd, wd) = (ToDouble(x), ToDouble(w));
        var expected = ReferenceBackward(n, inF, outF, xd, wd, ToDouble(gy));
        AssertClose(Forward(n, inF, outF, x, w, b), ReferenceForward(n, inF, outF, xd, wd, ToDouble(b)), 1e-5, "linear y");
        AssertClose(BackwardInput(n, inF, outF, gy, w), expected.Gx, 1e-5, "linear gx");
        var (gw, gb) = BackwardParams(n, inF, outF, x, gy);
        AssertClose(gw, expected.Gw, 1e-5, "linear gw");
        AssertClose(gb, expected.Gb, 1e-5, "linear gb");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Backward_MatchesFiniteDifferencesOfForward(bool tiled)
    {
        UseTiled(tiled);
        var (n, inF, outF) = (3, 4, 5);
        var (x, w, b, gy) = (RandomArray(n * inF), RandomArray(outF * inF), RandomArray(outF), RandomArray(n * outF));
        var (xd, wd, bd, r) = (ToDouble(x), ToDouble(w), ToDouble(b), ToDouble(gy));
        // loss = Σ y·gy, so dloss/dy = gy.
        var (gw, gb) = BackwardParams(n, inF, outF, x, gy);
        AssertClose(BackwardInput(n, inF, outF, gy, w), FiniteDifference(xd, p => Dot(ReferenceForward(n, inF, outF, p, wd, bd), r)), 1e-5, "gx vs finite differences");
        AssertClose(gw, FiniteDifference(wd, p => Dot(ReferenceForward(n, inF, outF, xd, p, bd), r)), 1e-5, "gw vs finite differences");
        AssertClose(gb, FiniteDifference(bd, p => Dot(ReferenceForward(n, inF, outF, xd, wd, p), r)), 1e-5, "gb vs finite differences");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void BackwardParams_Accumulates_TwoCallsGiveTwiceTheGradient(bool tiled)
    {
        UseTiled(tiled);
        var (n, inF, outF) = (5, 7, 3);
        var (x, w, gy) = (RandomArray(n * inF), RandomArray(outF * inF), RandomArray(n * outF));
        var once = ReferenceBackward(n, inF, outF, ToDouble(x), ToDouble(w), ToDouble(gy));
        var (gw, gb) = BackwardParams(n, inF, outF, x, gy, times: 2);
        AssertClose(gw, Scaled(once.Gw, 2), 1e-5, "gw twice");
        AssertClose(gb, Scaled(once.Gb, 2), 1e-5, "gb twice");
    }

    [TestCase("linear", false)]
    [TestCase("linear_fc_head", true)]
    public void GoldenCase_MatchesPyTorch(string name, bool tiled)
    {
        UseTiled(tiled);
        var (p, t) = LoadGolden(name);
        var (n, inF, outF) = (p.GetProperty("N").GetInt32(), p.GetProperty("in_features").GetInt32(), p.GetProperty("out_features").GetInt32());
        AssertClose(Forward(n, inF, outF, t["x"], t["w"], t["b"]), ToDouble(t["y"]), 1e-5, $"{name} y");
        AssertClose(BackwardInput(n, inF, outF, t["gy"], t["w"]), ToDouble(t["gx"]), 1e-5, $"{name} gx");
        var (gw, gb) = BackwardParams(n, inF, outF, t["x"], t["gy"]);
        AssertClose(gw, ToDouble(t["gw"]), 1e-5, $"{name} gw");
        AssertClose(gb, ToDouble(t["gb"]), 1e-5, $"{name} gb");
    }

    [Test]
    public void EntryPoints_RejectMismatchedLengths_NamingOpAndBothSizes()
    {
        var (n, inF, outF) = (2, 3, 4);
        using var x = Upload(new float[n * inF]);
        using var w = Upload(new float[outF * inF]);
        using var y = Upload(new float[n * outF]);
        void Expect(TestDelegate call, string op, string sizes)
        {
            var ex = Assert.Throws<ArgumentException>(call);
            Assert.That(ex!.Message, Does.Contain(op).And.Contain(sizes));
        }
        Expect(() => K.Linear.Forward(n, inF, outF, x.View, w.View, x.View, y.View), "linear forward", "b must have 4 elements, got 6");
        Expect(() => K.Linear.BackwardInput(n, inF, outF, y.View, w.View, y.View), "linear backward input", "gx must have 6 elements, got 8");
        Expect(() => K.Linear.BackwardParams(n, inF, outF, x.View, y.View, x.View, y.View), "linear backward params", "gw must have 12 elements, got 6");
        Expect(() => K.Linear.Forward(0, inF, outF, x.View, w.View, y.View, y.View), "linear forward", "N must be positive, got 0");
    }
}
