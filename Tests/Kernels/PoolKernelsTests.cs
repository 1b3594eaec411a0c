using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

public class PoolKernelsTests : KernelTestBase
{
    static double[] AvgPool2x2Reference(double[] x, int planes, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        var y = new double[planes * ho * wo];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    int top = (p * h + 2 * i) * w + 2 * j;
                    y[(p * ho + i) * wo + j] = (x[top] + x[top + 1] + x[top + w] + x[top + w + 1]) / 4;
                }
        return y;
    }

    /// <summary>The 2x2 pool of x [N,C,H,W] (ceil: zero-padded to even size) with channels C..cOut-1 of y zero.</summary>
    static double[] AvgPool2x2PadChannelsReference(double[] x, int n, int c, int cOut, int h, int w, bool ceil)
    {
        int ho = ceil ? (h + 1) / 2 : h / 2, wo = ceil ? (w + 1) / 2 : w / 2;
        var y = new double[n * cOut * ho * wo];
        for (int image = 0; image < n; image++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                    {
                        double sum = 0;
                        for (int dy = 0; dy < 2; dy++)
                            for (int dx = 0; dx < 2; dx++)
                                if (2 * i + dy < h && 2 * j + dx < w) sum += x[((image * c + ch) * h + 2 * i + dy) * w + 2 * j + dx];
                        y[((image * cOut + ch) * ho + i) * wo + j] = sum / 4;
                    }
        return y;
    }

    [TestCase(3, 5, 9, 7, 9, true)]
    [TestCase(3, 5, 9, 7, 9, false)]
    [TestCase(2, 3, 3, 6, 5, true)]
    [TestCase(1, 1, 4, 2, 3, false)]
    public void AvgPool2x2PadChannels_MatchesReference_EqualsPoolThenPad_AndBackwardMatchesFiniteDifferences(int n, int c, int cOut, int h, int w, bool ceil)
    {
        var o = PoolKernels.AvgPool2x2OutputSize(h, w, ceil);
        int pooledLength = n * c * o.X * o.Y, outLength = n * cOut * o.X * o.Y;
        var x = RandomArray(n * c * h * w);
        using var dx = Upload(x);
        using var fused = Poisoned(outLength);
        using var pooled = Poisoned(pooledLength);
        using var separate = Poisoned(outLength);
        K.Pool.AvgPool2x2PadChannelsForward(n, c, cOut, h, w, dx.View, fused.View, ceil);
        K.Pool.AvgPool2x2Forward(n, c, h, w, dx.View, pooled.View, ceil);
        K.Channels.PadChannels(n, c, cOut, o.X * o.Y, pooled.View, separate.View);
        // Up to four float32 additions and an exact multiply by 1/4.
        AssertClose(Download(fused), AvgPool2x2PadChannelsReference(FiniteDifference.ToDouble(x), n, c, cOut, h, w, ceil), 1e-6, "pool + pad");
        Assert.That(Download(fused), Is.EqualTo(Download(separate)), "one launch, the same bits as pool then pad");

        var gy = RandomArray(outLength);
        using var dgy = Upload(gy);
        using var dgx = Poisoned(x.Length);
        K.Pool.AvgPool2x2PadChannelsBackward(n, c, cOut, h, w, dgy.View, dgx.View, ceil);
        var numeric = FiniteDifference.Gradient(v => AvgPool2x2PadChannelsReference(v, n, c, cOut, h, w, ceil), FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(gy));
        AssertClose(Download(dgx), numeric, 1e-8, "pool + pad backward (linear: differences exact to float64 rounding)");
    }

    static double[] GlobalAvgReference(double[] x, int planes, int hw)
    {
        var y = new double[planes];
        for (int i = 0; i < x.Length; i++) y[i / hw] += x[i] / hw;
        return y;
    }

    [TestCase(3, 5, 7, 9)]
    [TestCase(2, 17, 8, 6)]
    public void AvgPool2x2Forward_MatchesReference_FloorDropsOddEdge(int n, int c, int h, int w)
    {
        var x = RandomArray(n * c * h * w);
        using var dx = Upload(x);
        using var dy = Poisoned(n * c * (h / 2) * (w / 2));
        K.Pool.AvgPool2x2Forward(n, c, h, w, dx.View, dy.View);
        // Four float32 additions and an exact multiply by 1/4.
        AssertClose(Download(dy), AvgPool2x2Reference(FiniteDifference.ToDouble(x), n * c, h, w), 1e-6, "avg pool 2x2");
    }

    [TestCase(2, 3, 5, 7)]
    [TestCase(1, 2, 4, 4)]
    public void AvgPool2x2Backward_MatchesFiniteDifferences(int n, int c, int h, int w)
    {
        var x = FiniteDifference.ToDouble(RandomArray(n * c * h * w));
        var gy = RandomArray(n * c * (h / 2) * (w / 2));
        using var dgy = Upload(gy);
        using var dgx = Poisoned(x.Length);
        K.Pool.AvgPool2x2Backward(n, c, h, w, dgy.View, dgx.View);
        var numeric = FiniteDifference.Gradient(v => AvgPool2x2Reference(v, n * c, h, w), x, FiniteDifference.ToDouble(gy));
        AssertClose(Download(dgx), numeric, 1e-8, "avg pool backward (linear: zeros on the dropped edge included)");
    }

    [Test]
    public void AvgPool2x2Backward_LargeOddShape_MatchesReference()
    {
        const int n = 3, c = 5, h = 7, w = 9;
        var gy = RandomArray(n * c * 3 * 4);
        using var dgy = Upload(gy);
        using var dgx = Poisoned(n * c * h * w);
        K.Pool.AvgPool2x2Backward(n, c, h, w, dgy.View, dgx.View);
        var expected = new double[n * c * h * w];
        for (int i = 0; i < expected.Length; i++)
        {
            int p = i / (h * w), r = i % (h * w), oy = r / w / 2, ox = r % w / 2;
            expected[i] = oy < 3 && ox < 4 ? gy[(p * 3 + oy) * 4 + ox] / 4.0 : 0;
        }
        AssertClose(Download(dgx), expected, 0, "avg pool backward (quartering is exact)");
    }

    [TestCase(3, 5, 63)]
    [TestCase(4, 17, 64)]
    public void GlobalAvgPoolForward_MatchesReference(int n, int c, int hw)
    {
        var x = RandomArray(n * c * hw);
        using var dx = Upload(x);
        using var dy = Poisoned(n * c);
        K.Pool.GlobalAvgPoolForward(n, c, hw, dx.View, dy.View);
        // A 64-term float32 sum: relative error a few 1e-7 of the largest mean.
        AssertClose(Download(dy), GlobalAvgReference(FiniteDifference.ToDouble(x), n * c, hw), 1e-5, "global avg pool");
    }

    [Test]
    public void GlobalAvgPoolBackward_MatchesFiniteDifferences_AndLargeReference()
    {
        const int n = 2, c = 3, hw = 5;
        var x = FiniteDifference.ToDouble(RandomArray(n * c * hw));
        var gy = RandomArray(n * c);
        using var dgy = Upload(gy);
        using var dgx = Poisoned(x.Length);
        K.Pool.GlobalAvgPoolBackward(n, c, hw, dgy.View, dgx.View);
        var numeric = FiniteDifference.Gradient(v => GlobalAvgReference(v, n * c, hw), x, FiniteDifference.ToDouble(gy));
        AssertClose(Download(dgx), numeric, 1e-7, "global avg pool backward (linear; gy/HW rounds once in float32)");

        var gyLarge = RandomArray(3 * 7);
        using var dgyLarge = Upload(gyLarge);
        using var dgxLarge = Poisoned(3 * 7 * 63);
        K.Pool.GlobalAvgPoolBackward(3, 7, 63, dgyLarge.View, dgxLarge.View);
        AssertClose(Download(dgxLarge), Enumerable.Range(0, 3 * 7 * 63).Select(i => gyLarge[i / 63] / 63.0).ToArray(), 1e-7, "gy/HW (one rounding)");
    }

    [Test]
    public void BadSizes_ThrowWithOpAndSizes()
    {
        using var x = Upload(RandomArray(2 * 3 * 5 * 5));
        using var y = Poisoned(2 * 3 * 2 * 3);
        var ex = Assert.Throws<ArgumentException>(() => K.Pool.AvgPool2x2Forward(2, 3, 5, 5, x.View, y.View));
        Assert.That(ex!.Message, Does.Contain("avg pool 2x2").And.Contain("24").And.Contain("36"));
        ex = Assert.Throws<ArgumentException>(() => K.Pool.AvgPool2x2Forward(2, 3, 1, 75, x.View, y.View));
        Assert.That(ex!.Message, Does.Contain("avg pool 2x2").And.Contain("1x75"));
        ex = Assert.Throws<ArgumentException>(() => K.Pool.GlobalAvgPoolBackward(2, 3, 25, x.View, x.View));
        Assert.That(ex!.Message, Does.Contain("global avg pool backward").And.Contain("6").And.Contain("150"));
    }
}
