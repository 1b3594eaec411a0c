using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

public class ElementwiseKernelsTests : KernelTestBase
{
    const int Length = 3 * 5 * 7 * 9; // many grid strides on the CPU accelerator

    static IEnumerable<TestCaseData> BinaryCases()
    {
        yield return new TestCaseData("add", (Func<double, double, double>)((a, b) => a + b));
        yield return new TestCaseData("subtract", (Func<double, double, double>)((a, b) => a - b));
        yield return new TestCaseData("multiply", (Func<double, double, double>)((a, b) => a * b));
    }

    static void RunBinary(KernelSet k, string op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        switch (op)
        {
            case "add": k.Elementwise.Add(a, b, y); break;
            case "subtract": k.Elementwise.Subtract(a, b, y); break;
            default: k.Elementwise.Multiply(a, b, y); break;
        }
    }

    [TestCaseSource(nameof(BinaryCases))]
    public void Binary_MatchesReference_AlsoWhenOutputIsFirstInput(string op, Func<double, double, double> reference)
    {
        var a = RandomArray(Length);
        var b = RandomArray(Length);
        var expected = a.Select((v, i) => (double)(float)reference(v, b[i])).ToArray();
        using var da = Upload(a);
        using var db = Upload(b);
        using var dy = Poisoned(Length);
        RunBinary(K, op, da.View, db.View, dy.View);
        // One float32 operation on float32 inputs, rounded once: bit-exact against the float64 result rounded to float32.
        AssertClose(Download(dy), expected, 0, op);
        RunBinary(K, op, da.View, db.View, da.View);
        AssertClose(Download(da), expected, 0, op + " in place (y == a)");
    }

    [Test]
    public void Scale_Exp_Copy_Fill_MatchReference()
    {
        var x = RandomArray(Length, 3f);
        using var dx = Upload(x);
        using var dy = Poisoned(Length);
        K.Elementwise.Scale(dx.View, -2.5f, dy.View);
        AssertClose(Download(dy), x.Select(v => -2.5 * v).ToArray(), 1e-7, "scale (one rounding)");
        K.Elementwise.Exp(dx.View, dy.View);
        AssertClose(Download(dy), x.Select(v => Math.Exp(v)).ToArray(), 1e-6, "exp (float32 exp within a few ulp)");
        K.Elementwise.Copy(dx.View, dy.View);
        AssertClose(Download(dy), FiniteDifference.ToDouble(x), 0, "copy is exact");
        K.Elementwise.Fill(dy.View, 0.75f);
        AssertClose(Download(dy), Enumerable.Repeat(0.75, Length).ToArray(), 0, "fill is exact");
    }

    [Test]
    public void Exp_IsWithinTwoUlpsOverItsRange_ZeroBelowIt_InfinityAboveIt_AndKeepsNaN()
    {
        // Every element against float64 exp, relative to itself (not to the largest element): the whole float range.
        var x = Enumerable.Range(0, Length).Select(i => -87.3f + 175.6f * i / (Length - 1)).Concat([-100f, 90f, float.NaN, 0f]).ToArray();
        using var dx = Upload(x);
        using var dy = Poisoned(x.Length);
        K.Elementwise.Exp(dx.View, dy.View);
        var y = Download(dy);
        for (int i = 0; i < Length; i++)
        {
            double expected = Math.Exp(x[i]);
            Assert.That(Math.Abs(y[i] - expected) / expected, Is.LessThanOrEqualTo(2.5e-7), $"exp({x[i]:R}) = {y[i]:R}, float64 {expected:R}");
        }
        Assert.That(y[^4..], Is.EqualTo(new[] { 0f, float.PositiveInfinity, float.NaN, 1f }), "exp(-100) = 0, exp(90) = +inf, exp(NaN) = NaN, exp(0) = 1");
    }

    [Test]
    public void Axpy_Accumulates_AndScaleWorksInPlace()
    {
        var x = RandomArray(Length);
        var y = RandomArray(Length);
        using var dx = Upload(x);
        using var dy = Upload(y);
        K.Elementwise.Axpy(0.5f, dx.View, dy.View);
        AssertClose(Download(dy), y.Select((v, i) => v + 0.5 * x[i]).ToArray(), 1e-7, "axpy (one rounding)");
        K.Elementwise.Scale(dx.View, 2f, dx.View);
        AssertClose(Download(dx), x.Select(v => 2.0 * v).ToArray(), 0, "scale in place (by 2 is exact)");
    }

    [Test]
    public void CountNonFinite_CountsNaNAndInfinities_Deterministically()
    {
        var x = RandomArray(Length);
        x[0] = float.NaN;
        x[17] = float.PositiveInfinity;
        x[Length - 1] = float.NegativeInfinity;
        x[500] = float.MaxValue; // finite, must not count
        using var dx = Upload(x);
        using var count = Accelerator.Allocate1D(new[] { 123 });
        K.Elementwise.CountNonFinite(dx.View, count.View);
        Accelerator.Synchronize();
        Assert.That(count.GetAsArray1D()[0], Is.EqualTo(3), "NaN, +Inf and -Inf, not MaxValue; the stale 123 is overwritten");
        K.Elementwise.CountNonFinite(dx.View, count.View);
        Accelerator.Synchronize();
        Assert.That(count.GetAsArray1D()[0], Is.EqualTo(3), "a second call recounts from zero");
    }

    [Test]
    public void MismatchedLengths_ThrowWithOpAndSizes()
    {
        using var a = Upload(RandomArray(6));
        using var b = Upload(RandomArray(5));
        var ex = Assert.Throws<ArgumentException>(() => K.Elementwise.Add(a.View, b.View, a.View));
        Assert.That(ex!.Message, Does.Contain("add").And.Contain("6").And.Contain("5"));
        ex = Assert.Throws<ArgumentException>(() => K.Elementwise.Axpy(1f, a.View, b.View));
        Assert.That(ex!.Message, Does.Contain("axpy").And.Contain("6").And.Contain("5"));
        ex = Assert.Throws<ArgumentException>(() => K.Elementwise.Copy(a.View, b.View));
        Assert.That(ex!.Message, Does.Contain("copy").And.Contain("6").And.Contain("5"));
    }
}
