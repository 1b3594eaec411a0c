using ILGPU;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>
/// conv2d(relu(batchnorm(x))) without writing the activation out (<see cref="BatchNormReluConv2dKernels"/>): forward,
/// the gradient with respect to the activation and the weight gradient against a float64 reference, in every form (ILGPU direct kernels, the tiled GEMM's fused loaders at
/// the CPU accelerator's tiling, the host form at every SIMD level), on shapes that take each loader path.
/// </summary>
public class BatchNormReluConv2dKernelsTests : GemmTestBase
{
    /// <summary>3×3 padding 1 at stride 1 and 2 (the triplet loaders), 1×1 (the word loaders), and an odd shape (the scalar streams).</summary>
    static readonly Conv2dShape[] Shapes =
    {
        new(N: 2, C: 8, H: 6, W: 8, K: 7, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 2, C: 4, H: 8, W: 16, K: 5, KH: 3, KW: 3, Stride: 2, Pad: 1),
        new(N: 3, C: 8, H: 3, W: 4, K: 6, KH: 1, KW: 1, Stride: 1, Pad: 0),
        new(N: 2, C: 3, H: 5, W: 7, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 1),
    };

    static IEnumerable<TestCaseData> ShapesBothKernels() =>
        from s in Shapes from tiled in new[] { false, true } select new TestCaseData(s, tiled);

    /// <summary>relu(gamma·(x − mean)·invstd + beta) in float64.</summary>
    static double[] Activation(Conv2dShape s, float[] x, float[] mean, float[] invstd, float[] gamma, float[] beta)
    {
        int hw = s.H * s.W;
        var a = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / hw % s.C;
            a[i] = Math.Max(0, (double)gamma[c] * (x[i] - mean[c]) * invstd[c] + beta[c]);
        }
        return a;
    }

    [TestCaseSource(nameof(ShapesBothKernels))]
    public void ForwardAndGradients_MatchFloat64Reference(Conv2dShape s, bool tiled)
    {
        UseTiled(tiled);
        var x = RandomArray(s.N * s.C * s.H * s.W);
        var (mean, invstd, gamma, beta) = (RandomArray(s.C, 0.3f), RandomArray(s.C).Select(v => 1.5f + v).ToArray(), RandomArray(s.C), RandomArray(s.C, 0.5f));
        var w = RandomArray(s.K * s.C * s.KH * s.KW);
        var bias = RandomArray(s.K);
        var gy = RandomArray(s.N * s.K * s.OutH * s.OutW);
        var gw0 = RandomArray(w.Length);
        using var dx = Upload(x);
        using var dmean = Upload(mean);
        using var dinvstd = Upload(invstd);
        using var dgamma = Upload(gamma);
        using var dbeta = Upload(beta);
        using var dw = Upload(w);
        using var dbias = Upload(bias);
        using var dgy = Upload(gy);
        using var dgw = Upload(gw0);
        using var dy = Poisoned(gy.Length);
        using var dga = Poisoned(x.Length);
        K.BatchNormReluConv2d.Forward(s, dx.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, dw.View, dbias.View, dy.View);
        K.BatchNormReluConv2d.Backward(s, dx.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, dw.View, dgy.View, dga.View, dgw.View);

        var a = Activation(s, x, mean, invstd, gamma, beta);
        Assert.That(a.Count(v => v == 0), Is.GreaterThan(0).And.LessThan(a.Length), "both sides of the ReLU are exercised");
        var wd = ToDouble(w);
        AssertClose(Download(dy), Conv2dKernelsTests.ReferenceForward(s, a, wd, ToDouble(bias)), 1e-5, "forward");
        var reference = Conv2dKernelsTests.ReferenceBackward(s, a, wd, ToDouble(gy));
        AssertClose(Download(dga), reference.Gx, 1e-5, "gradient with respect to the activation");
        AssertClose(Download(dgw), reference.Gw.Select((v, i) => v + gw0[i]).ToArray(), 1e-5, "weight gradient (accumulated)");
    }

    [Test]
    public void Forward_RejectsAnOutputOfTheWrongLength()
    {
        var s = Shapes[0];
        using var x = Upload(RandomArray(s.N * s.C * s.H * s.W));
        using var c = Upload(RandomArray(s.C));
        using var w = Upload(RandomArray(s.K * s.C * 9));
        using var y = Poisoned(s.N * s.K * s.OutH * s.OutW - 1);
        var e = Assert.Throws<ArgumentException>(() =>
            K.BatchNormReluConv2d.Forward(s, x.View, c.View, c.View, c.View, c.View, w.View, ArrayView<float>.Empty, y.View));
        Assert.That(e!.Message, Does.Contain(": y must have"));
    }
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class BatchNormReluConv2dKernelsOnHostTests(SimdLevel level) : BatchNormReluConv2dKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}
