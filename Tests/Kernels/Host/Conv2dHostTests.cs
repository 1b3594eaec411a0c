using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Tests.Kernels.Host;

/// <summary>
/// The SIMD host convolution (<see cref="Conv2dHost"/>) against the float64 loop references of
/// <see cref="Conv2dKernelsTests"/>, the ILGPU kernels on the CPU accelerator and finite differences, at every
/// <see cref="SimdLevel"/> this processor supports; plus bit-for-bit determinism across runs and thread counts.
/// </summary>
public class Conv2dHostTests : GemmTestBase
{
    /// <summary>
    /// Batch 1, 1x1 and 7x7 maps, channel counts off the vector width, stride 1/2/3, pad 0/1/2 (pad past KH−1 too),
    /// 1x1, 2x2, 3x3 and 3x2 kernels; output rows of 8, 16 and 32 at stride 1 and 2 (read in place, also with a
    /// half-filled last panel); the last seven span several column panels, and the very last needs two grad-weight
    /// image groups.
    /// </summary>
    static readonly Conv2dShape[] Shapes =
    {
        new(N: 1, C: 16, H: 7, W: 7, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 2, C: 5, H: 7, W: 7, K: 17, KH: 3, KW: 3, Stride: 2, Pad: 1),
        new(N: 1, C: 17, H: 1, W: 1, K: 33, KH: 1, KW: 1, Stride: 1, Pad: 0),
        new(N: 2, C: 33, H: 7, W: 5, K: 3, KH: 1, KW: 1, Stride: 2, Pad: 0),
        new(N: 1, C: 3, H: 9, W: 8, K: 17, KH: 3, KW: 2, Stride: 2, Pad: 1),
        new(N: 3, C: 5, H: 6, W: 7, K: 6, KH: 3, KW: 3, Stride: 1, Pad: 0),
        new(N: 1, C: 3, H: 5, W: 5, K: 4, KH: 1, KW: 1, Stride: 1, Pad: 1),
        new(N: 2, C: 4, H: 8, W: 9, K: 5, KH: 2, KW: 2, Stride: 3, Pad: 2),
        new(N: 2, C: 5, H: 5, W: 32, K: 9, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 3, C: 3, H: 5, W: 16, K: 17, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 2, C: 20, H: 3, W: 16, K: 10, KH: 1, KW: 1, Stride: 1, Pad: 0),
        new(N: 2, C: 5, H: 9, W: 16, K: 17, KH: 3, KW: 3, Stride: 2, Pad: 1),
        new(N: 2, C: 6, H: 6, W: 32, K: 5, KH: 1, KW: 1, Stride: 2, Pad: 0),
        new(N: 2, C: 17, H: 13, W: 11, K: 33, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 9, C: 3, H: 12, W: 12, K: 65, KH: 3, KW: 3, Stride: 1, Pad: 1),
    };

    static IEnumerable<TestCaseData> ShapesAtEveryLevel() =>
        from s in Shapes from level in HostSimd.Supported select new TestCaseData(s, level);

    SimdLevel defaultLevel;
    int defaultThreads;

    [SetUp]
    public void RememberHostSettings() => (defaultLevel, defaultThreads) = (HostSimd.Active, HostThreads.Count);

    [TearDown]
    public void RestoreHostSettings() => (HostSimd.Active, HostThreads.Count) = (defaultLevel, defaultThreads);

    static int XLength(Conv2dShape s) => s.N * s.C * s.H * s.W;
    static int WLength(Conv2dShape s) => s.K * s.C * s.KH * s.KW;
    static int YLength(Conv2dShape s) => s.N * s.K * s.OutH * s.OutW;

    static float[] Forward(Conv2dShape s, float[] x, float[] w, float[]? b)
    {
        var y = Filled(YLength(s), Poison);
        Conv2dHost.Forward(s, x, w, b, y);
        return y;
    }

    static float[] BackwardInput(Conv2dShape s, float[] gy, float[] w)
    {
        var gx = Filled(XLength(s), Poison);
        Conv2dHost.BackwardInput(s, gy, w, gx);
        return gx;
    }

    static float[] BackwardWeight(Conv2dShape s, float[] x, float[] gy, float[] initial)
    {
        var gw = (float[])initial.Clone();
        Conv2dHost.BackwardWeight(s, x, gy, gw);
        return gw;
    }

    static float[] Filled(int length, float value)
    {
        var a = new float[length];
        Array.Fill(a, value);
        return a;
    }

    [TestCaseSource(nameof(ShapesAtEveryLevel))]
    public void Forward_MatchesFloat64Reference(Conv2dShape s, SimdLevel level)
    {
        HostSimd.Active = level;
        var (x, w, b) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(s.K));
        AssertClose(Forward(s, x, w, b), Conv2dKernelsTests.ReferenceForward(s, ToDouble(x), ToDouble(w), ToDouble(b)), 1e-5, $"y at {level}");
        AssertClose(Forward(s, x, w, null), Conv2dKernelsTests.ReferenceForward(s, ToDouble(x), ToDouble(w), null), 1e-5, $"y without bias at {level}");
    }

    [TestCaseSource(nameof(ShapesAtEveryLevel))]
    public void BackwardInput_MatchesFloat64Reference(Conv2dShape s, SimdLevel level)
    {
        HostSimd.Active = level;
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var expected = Conv2dKernelsTests.ReferenceBackward(s, ToDouble(x), ToDouble(w), ToDouble(gy)).Gx;
        AssertClose(BackwardInput(s, gy, w), expected, 1e-5, $"gx at {level}");
    }

    [TestCaseSource(nameof(ShapesAtEveryLevel))]
    public void BackwardWeight_AccumulatesFloat64Reference(Conv2dShape s, SimdLevel level)
    {
        HostSimd.Active = level;
        var (x, w, gy, initial) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)), RandomArray(WLength(s)));
        var gradient = Conv2dKernelsTests.ReferenceBackward(s, ToDouble(x), ToDouble(w), ToDouble(gy)).Gw;
        var expected = gradient.Select((g, i) => g + initial[i]).ToArray();
        AssertClose(BackwardWeight(s, x, gy, initial), expected, 1e-5, $"gw (+= onto random values) at {level}");
    }

    [Test]
    public void AllThree_MatchTheIlgpuKernelsOnTheCpuAccelerator()
    {
        var s = new Conv2dShape(N: 3, C: 5, H: 9, W: 7, K: 17, KH: 3, KW: 3, Stride: 2, Pad: 1);
        var (x, w, b, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(s.K), RandomArray(YLength(s)));
        using var dx = Upload(x);
        using var dw = Upload(w);
        using var db = Upload(b);
        using var dgy = Upload(gy);
        using var dy = Poisoned(YLength(s));
        using var dgx = Poisoned(XLength(s));
        using var dgw = Upload(new float[WLength(s)]);
        K.Conv2d.Forward(s, dx.View, dw.View, db.View, dy.View);
        K.Conv2d.BackwardInput(s, dgy.View, dw.View, dgx.View);
        K.Conv2d.BackwardWeight(s, dx.View, dgy.View, dgw.View);
        Assert.That(RelativeError(Forward(s, x, w, b), Download(dy)), Is.LessThanOrEqualTo(1e-5), "y vs ILGPU");
        Assert.That(RelativeError(BackwardInput(s, gy, w), Download(dgx)), Is.LessThanOrEqualTo(1e-5), "gx vs ILGPU");
        Assert.That(RelativeError(BackwardWeight(s, x, gy, new float[WLength(s)]), Download(dgw)), Is.LessThanOrEqualTo(1e-5), "gw vs ILGPU");
    }

    [TestCaseSource(typeof(HostSimd), nameof(HostSimd.Supported))]
    public void Backward_MatchesFiniteDifferencesOfForward(SimdLevel level)
    {
        HostSimd.Active = level;
        var s = new Conv2dShape(N: 2, C: 3, H: 5, W: 4, K: 2, KH: 3, KW: 2, Stride: 2, Pad: 1);
        var (x, w, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(YLength(s)));
        var (xd, wd, r) = (ToDouble(x), ToDouble(w), ToDouble(gy));
        // loss = Σ y·gy, so dloss/dy = gy.
        AssertClose(BackwardInput(s, gy, w), FiniteDifference(xd, p => Dot(Conv2dKernelsTests.ReferenceForward(s, p, wd, null), r)), 1e-5, "gx vs finite differences");
        AssertClose(BackwardWeight(s, x, gy, new float[w.Length]), FiniteDifference(wd, p => Dot(Conv2dKernelsTests.ReferenceForward(s, xd, p, null), r)), 1e-5, "gw vs finite differences");
    }

    [Test]
    public void AllThree_GiveTheSameBits_OnEveryRunAndThreadCount()
    {
        var s = Shapes[^1];
        var (x, w, b, gy) = (RandomArray(XLength(s)), RandomArray(WLength(s)), RandomArray(s.K), RandomArray(YLength(s)));
        float[][] Run(int threads)
        {
            HostThreads.Count = threads;
            return [Forward(s, x, w, b), BackwardInput(s, gy, w), BackwardWeight(s, x, gy, new float[WLength(s)])];
        }
        var first = Run(defaultThreads);
        foreach (int threads in new[] { defaultThreads, 1, 3 })
        {
            var again = Run(threads);
            for (int i = 0; i < first.Length; i++)
                Assert.That(again[i], Is.EqualTo(first[i]).AsCollection, $"output {i} with {threads} threads differs from the first run");
        }
    }
}
