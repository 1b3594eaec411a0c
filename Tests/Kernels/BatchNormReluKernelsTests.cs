using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>
/// The fused batch-norm+ReLU kernels and their host versions against a float64 reference and finite differences. (The host
/// versions are built from the host batch norm and ReLU, whose SIMD arithmetic rounds differently from the ILGPU kernels:
/// each form is checked against the reference, and against its own device's separate ops bit for bit in BatchNormReluConv2dTests.)
/// </summary>
public class BatchNormReluKernelsTests : KernelTestBase
{
    /// <summary>relu(gamma*(x-mean)*invstd + beta) in float64; with batchStats, mean and invstd are x's biased batch statistics (eps 1e-5).</summary>
    static double[] ForwardReference(double[] x, double[] gamma, double[] beta, int c, int hw, bool batchStats, double[] mean, double[] invstd)
    {
        if (batchStats)
        {
            double m = x.Length / c;
            mean = new double[c];
            var variance = new double[c];
            for (int i = 0; i < x.Length; i++) mean[i / hw % c] += x[i] / m;
            for (int i = 0; i < x.Length; i++) variance[i / hw % c] += Math.Pow(x[i] - mean[i / hw % c], 2) / m;
            invstd = variance.Select(v => 1 / Math.Sqrt(v + 1e-5)).ToArray();
        }
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / hw % c;
            y[i] = Math.Max(0, gamma[ch] * (x[i] - mean[ch]) * invstd[ch] + beta[ch]);
        }
        return y;
    }

    [TestCase(3, 5, 63)]
    [TestCase(2, 17, 9)]
    public void Forward_MatchesFloat64Reference_InBothForms(int n, int c, int hw)
    {
        var x = RandomArray(n * c * hw);
        var gamma = RandomArray(c);
        var beta = RandomArray(c, 0.5f);
        var mean = RandomArray(c, 0.3f);
        var invstd = RandomArray(c).Select(v => 1.5f + v).ToArray();
        using var dx = Upload(x);
        using var dgamma = Upload(gamma);
        using var dbeta = Upload(beta);
        using var dmean = Upload(mean);
        using var dinvstd = Upload(invstd);
        using var da = Poisoned(x.Length);
        using var host = Poisoned(x.Length);
        BatchNormReluKernels.Forward(K, n, c, hw, dx.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, da.View);
        BatchNormReluHostKernels.Forward(new BatchNormReluKernels.Affine { Mean = dmean.View, Invstd = dinvstd.View, Gamma = dgamma.View, Beta = dbeta.View, C = c, Hw = hw },
            dx.View, host.View);
        Accelerator.Synchronize();
        var expected = ForwardReference(FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(gamma), FiniteDifference.ToDouble(beta), c, hw, false,
            FiniteDifference.ToDouble(mean), FiniteDifference.ToDouble(invstd));
        var a = Download(da);
        AssertClose(a, expected, 1e-5, "relu(batchnorm(x))");
        Assert.That(a.Count(v => v == 0), Is.GreaterThan(0).And.LessThan(a.Length), "both sides of the ReLU are exercised");
        AssertClose(Download(host), expected, 1e-5, "host relu(batchnorm(x))");
    }

    [TestCase(true, 0.7f)]
    [TestCase(false, 0.7f)]
    [TestCase(true, 0f)]
    [TestCase(true, 1e-4f)]
    public void Backward_MatchesFiniteDifferences_ForAnyGamma_InBothForms(bool training, float firstGamma)
    {
        const int n = 3, c = 3, hw = 7;
        var x = RandomArray(n * c * hw);
        var gamma = RandomArray(c).Select(v => v + 1.5f).ToArray();
        gamma[0] = firstGamma; // gamma 0 or tiny: the mask comes from x, so nothing is divided by it
        var beta = RandomArray(c, 0.5f);
        beta[0] = 0.2f;
        var ga = RandomArray(x.Length);
        var mean = RandomArray(c, 0.3f);
        var invstd = RandomArray(c).Select(v => 1.5f + v).ToArray();
        using var dx = Upload(x);
        using var dgamma = Upload(gamma);
        using var dbeta = Upload(beta);
        using var dmean = Upload(mean);
        using var dinvstd = Upload(invstd);
        if (training) BatchNormKernels.ComputeBatchStats(K, n, c, hw, dx.View, dmean.View, dinvstd.View, 1e-5f);
        var results = new List<(float[] Gx, float[] GGamma, float[] GBeta)>();
        foreach (bool onHost in new[] { false, true })
        {
            using var dg = Upload(ga); // backward in place: gx overwrites ga
            using var dggamma = Upload(new float[c]);
            using var dgbeta = Upload(new float[c]);
            if (onHost)
                BatchNormReluHostKernels.Backward(new BatchNormReluKernels.BackwardArgs
                {
                    Affine = new BatchNormReluKernels.Affine { Mean = dmean.View, Invstd = dinvstd.View, Gamma = dgamma.View, Beta = dbeta.View, C = c, Hw = hw },
                    X = dx.View, Ga = dg.View, Gx = dg.View, GGamma = dggamma.View, GBeta = dgbeta.View, BatchStats = training ? 1 : 0,
                });
            else
                BatchNormReluKernels.Backward(K, n, c, hw, dx.View, dg.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, dg.View, dggamma.View, dgbeta.View, training);
            Accelerator.Synchronize();
            results.Add((Download(dg), Download(dggamma), Download(dgbeta)));
        }
        var xd = FiniteDifference.ToDouble(x);
        var gd = FiniteDifference.ToDouble(gamma);
        var bd = FiniteDifference.ToDouble(beta);
        var gad = FiniteDifference.ToDouble(ga);
        var md = FiniteDifference.ToDouble(Download(dmean));
        var sd = FiniteDifference.ToDouble(Download(dinvstd));
        double[] Y(double[] xv, double[] gv, double[] bv) => ForwardReference(xv, gv, bv, c, hw, training, md, sd);
        var expectedGx = FiniteDifference.Gradient(v => Y(v, gd, bd), xd, gad);
        var expectedGGamma = FiniteDifference.Gradient(v => Y(xd, v, bd), gd, gad);
        var expectedGBeta = FiniteDifference.Gradient(v => Y(xd, gd, v), bd, gad);
        foreach (var (form, (gx, ggamma, gbeta)) in new[] { "ilgpu", "host" }.Zip(results))
        {
            // float32 kernel against float64 differences; the training gx subtracts two means and loses about two digits.
            AssertClose(gx, expectedGx, 1e-3, $"{form} gx");
            AssertClose(ggamma, expectedGGamma, 1e-4, $"{form} ggamma");
            AssertClose(gbeta, expectedGBeta, 1e-4, $"{form} gbeta");
        }
    }
}
