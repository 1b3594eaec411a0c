using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

public class ChannelKernelsTests : KernelTestBase
{
    static double[] SumPerChannelReference(float[] x, int n, int c, int hw)
    {
        var sum = new double[c];
        for (int i = 0; i < x.Length; i++) sum[i / hw % c] += x[i];
        return sum;
    }

    /// <summary>Channels [start, start+count) of x [N,C,HW], as [N,count,HW].</summary>
    static double[] ChannelsReference(double[] x, int n, int c, int hw, int start, int count)
    {
        var y = new double[n * count * hw];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < count; ch++)
                for (int p = 0; p < hw; p++)
                    y[(i * count + ch) * hw + p] = x[(i * c + start + ch) * hw + p];
        return y;
    }

    static double[] PadReference(double[] x, int n, int c, int cOut, int hw)
    {
        var y = new double[n * cOut * hw];
        for (int i = 0; i < n; i++)
            Array.Copy(x, i * c * hw, y, i * cOut * hw, c * hw);
        return y;
    }

    [TestCase(3, 5, 63)]
    [TestCase(2, 17, 9)]
    public void SumPerChannel_MatchesFloat64Reference(int n, int c, int hw)
    {
        var x = RandomArray(n * c * hw);
        using var dx = Upload(x);
        using var dsum = Poisoned(c);
        K.Channels.SumPerChannel(n, c, hw, dx.View, dsum.View);
        // float32 partial sums of ~200 values of size ≤ 1: rounding stays far below 1e-5 of the largest sum.
        AssertClose(Download(dsum), SumPerChannelReference(x, n, c, hw), 1e-5, "sum per channel");
    }

    [Test]
    public void SumPerChannel_IsDeterministic()
    {
        var x = RandomArray(3 * 7 * 45);
        using var dx = Upload(x);
        using var first = Poisoned(7);
        using var second = Poisoned(7);
        K.Channels.SumPerChannel(3, 7, 45, dx.View, first.View);
        K.Channels.SumPerChannel(3, 7, 45, dx.View, second.View);
        Assert.That(Download(second), Is.EqualTo(Download(first)), "same input, same bits");
    }

    // One launch walks all of x by the grid stride: images smaller than the stride (several images per step), larger
    // than it (several steps per image), and a tensor many strides long.
    [TestCase(3, 7, 3, 15)]
    [TestCase(5, 3, 1, 3)]
    [TestCase(7, 2, 1, 1)]
    [TestCase(4, 9, 5, 37)]
    public void Split_CopiesChannelRanges_AndConcatRestoresInput(int n, int c, int c1, int hw)
    {
        var x = RandomArray(n * c * hw);
        using var dx = Upload(x);
        using var da = Poisoned(n * c1 * hw);
        using var db = Poisoned(n * (c - c1) * hw);
        using var dy = Poisoned(n * c * hw);
        K.Channels.Split(n, c, hw, c1, dx.View, da.View, db.View);
        K.Channels.Concat(n, c1, c - c1, hw, da.View, db.View, dy.View);
        var xd = FiniteDifference.ToDouble(x);
        AssertClose(Download(da), ChannelsReference(xd, n, c, hw, 0, c1), 0, "split a (a copy is exact)");
        AssertClose(Download(db), ChannelsReference(xd, n, c, hw, c1, c - c1), 0, "split b (a copy is exact)");
        AssertClose(Download(dy), xd, 0, "concat(split(x)) = x exactly");
    }

    [Test]
    public void Concat_IsSplitsBackward_ByFiniteDifferences()
    {
        const int n = 2, c1 = 2, c2 = 3, hw = 3, c = c1 + c2;
        var x = FiniteDifference.ToDouble(RandomArray(n * c * hw));
        var ga = RandomArray(n * c1 * hw);
        var gb = RandomArray(n * c2 * hw);
        using var dga = Upload(ga);
        using var dgb = Upload(gb);
        using var dgx = Poisoned(n * c * hw);
        K.Channels.Concat(n, c1, c2, hw, dga.View, dgb.View, dgx.View);
        var gy = FiniteDifference.ToDouble(ga.Concat(gb).ToArray());
        var numeric = FiniteDifference.Gradient(
            v => ChannelsReference(v, n, c, hw, 0, c1).Concat(ChannelsReference(v, n, c, hw, c1, c2)).ToArray(), x, gy);
        AssertClose(Download(dgx), numeric, 1e-8, "split backward (linear: differences exact to float64 rounding)");
    }

    [Test]
    public void PadChannels_AppendsZeroChannels()
    {
        const int n = 3, c = 5, cOut = 9, hw = 7;
        var x = RandomArray(n * c * hw);
        using var dx = Upload(x);
        using var dy = Poisoned(n * cOut * hw);
        K.Channels.PadChannels(n, c, cOut, hw, dx.View, dy.View);
        AssertClose(Download(dy), PadReference(FiniteDifference.ToDouble(x), n, c, cOut, hw), 0, "pad (a copy is exact)");
    }

    [Test]
    public void PadChannelsBackward_MatchesFiniteDifferences()
    {
        const int n = 2, c = 2, cOut = 5, hw = 3;
        var x = FiniteDifference.ToDouble(RandomArray(n * c * hw));
        var gy = RandomArray(n * cOut * hw);
        using var dgy = Upload(gy);
        using var dgx = Poisoned(n * c * hw);
        K.Channels.PadChannelsBackward(n, c, cOut, hw, dgy.View, dgx.View);
        var numeric = FiniteDifference.Gradient(v => PadReference(v, n, c, cOut, hw), x, FiniteDifference.ToDouble(gy));
        AssertClose(Download(dgx), numeric, 1e-8, "pad backward (linear: differences exact to float64 rounding)");
    }

    [Test]
    public void BadSizes_ThrowWithOpAndSizes()
    {
        using var x = Upload(RandomArray(2 * 3 * 4));
        using var small = Poisoned(5);
        var ex = Assert.Throws<ArgumentException>(() => K.Channels.SumPerChannel(2, 3, 4, x.View, small.View));
        Assert.That(ex!.Message, Does.Contain("sum per channel").And.Contain("3").And.Contain("5"));
        ex = Assert.Throws<ArgumentException>(() => K.Channels.Split(2, 3, 4, 3, x.View, small.View, small.View));
        Assert.That(ex!.Message, Does.Contain("split").And.Contain("c1"));
        ex = Assert.Throws<ArgumentException>(() => K.Channels.PadChannels(2, 3, 2, 4, x.View, small.View));
        Assert.That(ex!.Message, Does.Contain("pad channels").And.Contain("cOut"));
        ex = Assert.Throws<ArgumentException>(() => K.Channels.Concat(0, 3, 3, 4, x.View, x.View, x.View));
        Assert.That(ex!.Message, Does.Contain("concat").And.Contain("n").And.Contain("0"));
    }
}
