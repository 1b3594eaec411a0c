using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

public class ReluKernelsTests : KernelTestBase
{
    [TestCase(1)]
    [TestCase(7)]
    [TestCase(3 * 5 * 7 * 9)]
    public void Forward_MatchesReference(int length)
    {
        var x = RandomArray(length);
        using var dx = Upload(x);
        using var dy = Poisoned(length);
        K.Elementwise.Map(new ReluOp(), dx.View, dy.View);
        var expected = x.Select(v => (double)Math.Max(v, 0f)).ToArray();
        AssertClose(Download(dy), expected, 0, "relu forward");
    }

    [TestCase(5 * 3 * 7)]
    public void Backward_PassesGradientWherePositive(int length)
    {
        var x = RandomArray(length);
        var gy = RandomArray(length);
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgx = Poisoned(length);
        K.Elementwise.Zip(new ReluBackwardOp(), dx.View, dgy.View, dgx.View);
        var expected = x.Select((v, i) => v > 0 ? (double)gy[i] : 0.0).ToArray();
        AssertClose(Download(dgx), expected, 0, "relu backward");
    }

    [TestCase(37)]
    public void Backward_MatchesFiniteDifferences_AwayFromTheKink(int length)
    {
        // |x| ≥ 0.1 keeps every probe x ± h on one side of 0, where ReLU is differentiable.
        var x = RandomArray(length).Select(v => v >= 0 ? v + 0.1f : v - 0.1f).ToArray();
        var gy = RandomArray(length);
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgx = Poisoned(length);
        K.Elementwise.Zip(new ReluBackwardOp(), dx.View, dgy.View, dgx.View);
        var numeric = FiniteDifference.Gradient(v => v.Select(e => Math.Max(e, 0)).ToArray(), FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(gy));
        AssertClose(Download(dgx), numeric, 1e-6, "relu backward vs finite differences");
    }

    [Test]
    public void Forward_RejectsMismatchedLengths()
    {
        using var dx = Upload(RandomArray(6));
        using var dy = Poisoned(5);
        var ex = Assert.Throws<ArgumentException>(() => K.Elementwise.Map(new ReluOp(), dx.View, dy.View));
        Assert.That(ex!.Message, Does.Contain("relu").And.Contain("6").And.Contain("5"));
    }
}
