using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
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

    static void RunBinary(KernelContext k, string op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        switch (op)
        {
            case "add": ElementwiseKernels.Add(k, a, b, y); break;
            case "subtract": ElementwiseKernels.Subtract(k, a, b, y); break;
            default: ElementwiseKernels.Multiply(k, a, b, y); break;
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
        ElementwiseKernels.Scale(K, dx.View, -2.5f, dy.View);
        AssertClose(Download(dy), x.Select(v => -2.5 * v).ToArray(), 1e-7, "scale (one rounding)");
        ElementwiseKernels.Exp(K, dx.View, dy.View);
        AssertClose(Download(dy), x.Select(v => Math.Exp(v)).ToArray(), 1e-6, "exp (float32 exp within a few ulp)");
        ElementwiseKernels.Copy(K, dx.View, dy.View);
        AssertClose(Download(dy), FiniteDifference.ToDouble(x), 0, "copy is exact");
        ElementwiseKernels.Fill(K, dy.View, 0.75f);
        AssertClose(Download(dy), Enumerable.Repeat(0.75, Length).ToArray(), 0, "fill is exact");
    }

    [Test]
    public void Axpy_Accumulates_AndScaleWorksInPlace()
    {
        var x = RandomArray(Length);
        var y = RandomArray(Length);
        using var dx = Upload(x);
        using var dy = Upload(y);
        ElementwiseKernels.Axpy(K, 0.5f, dx.View, dy.View);
        AssertClose(Download(dy), y.Select((v, i) => v + 0.5 * x[i]).ToArray(), 1e-7, "axpy (one rounding)");
        ElementwiseKernels.Scale(K, dx.View, 2f, dx.View);
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
        ElementwiseKernels.CountNonFinite(K, dx.View, count.View);
        Accelerator.Synchronize();
        Assert.That(count.GetAsArray1D()[0], Is.EqualTo(3), "NaN, +Inf and -Inf, not MaxValue; the stale 123 is overwritten");
        ElementwiseKernels.CountNonFinite(K, dx.View, count.View);
        Accelerator.Synchronize();
        Assert.That(count.GetAsArray1D()[0], Is.EqualTo(3), "a second call recounts from zero");
    }

    [Test]
    public void MismatchedLengths_ThrowWithOpAndSizes()
    {
        using var a = Upload(RandomArray(6));
        using var b = Upload(RandomArray(5));
        var ex = Assert.Throws<ArgumentException>(() => ElementwiseKernels.Add(K, a.View, b.View, a.View));
        Assert.That(ex!.Message, Does.Contain("add").And.Contain("6").And.Contain("5"));
        ex = Assert.Throws<ArgumentException>(() => ElementwiseKernels.Axpy(K, 1f, a.View, b.View));
        Assert.That(ex!.Message, Does.Contain("axpy").And.Contain("6").And.Contain("5"));
        ex = Assert.Throws<ArgumentException>(() => ElementwiseKernels.Copy(K, a.View, b.View));
        Assert.That(ex!.Message, Does.Contain("copy").And.Contain("6").And.Contain("5"));
    }
}
