using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>The fused batch-norm+ReLU kernels against a float64 reference and finite differences, and their host versions against them.</summary>
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
    public void Forward_MatchesFloat64Reference_AndTheHostVersionToRounding(int n, int c, int hw)
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
        K.BatchNormRelu.Forward(n, c, hw, dx.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, da.View);
        Accelerator.Synchronize();
        BatchNormHost.NormalizeRelu(n, c, hw, x, mean, invstd, gamma, beta, HostMemory.Span<float>(host.View));
        var expected = ForwardReference(FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(gamma), FiniteDifference.ToDouble(beta), c, hw, false,
            FiniteDifference.ToDouble(mean), FiniteDifference.ToDouble(invstd));
        var a = Download(da);
        AssertClose(a, expected, 1e-5, "relu(batchnorm(x))");
        Assert.That(a.Count(v => v == 0), Is.GreaterThan(0).And.LessThan(a.Length), "both sides of the ReLU are exercised");
        // The host form fuses (x-mean)*scale+beta into one FMA, as BatchNormHost.Normalize does (it equals BN then ReLU on the
        // host bit for bit: BatchNormReluConv2dTests); against the ILGPU kernel it agrees to float32 rounding.
        AssertClose(Download(host), FiniteDifference.ToDouble(a), 1e-6, "host version");
    }

    [TestCase(true, 0.7f)]
    [TestCase(false, 0.7f)]
    [TestCase(true, 0f)]
    [TestCase(true, 1e-4f)]
    public void Backward_MatchesFiniteDifferences_ForAnyGamma_AndTheHostVersionToRounding(bool training, float firstGamma)
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
        if (training) K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, 1e-5f);
        var results = new List<(float[] Gx, float[] GGamma, float[] GBeta)>();
        foreach (bool onHost in new[] { false, true })
        {
            using var dg = Upload(ga); // backward in place: gx overwrites ga
            using var dggamma = Upload(new float[c]);
            using var dgbeta = Upload(new float[c]);
            if (onHost)
            {
                Accelerator.Synchronize();
                BatchNormHost.BackwardRelu(n, c, hw, x, HostMemory.Span<float>(dg.View), HostMemory.Span<float>(dmean.View), HostMemory.Span<float>(dinvstd.View), gamma, beta,
                    HostMemory.Span<float>(dg.View), HostMemory.Span<float>(dggamma.View), HostMemory.Span<float>(dgbeta.View), training);
            }
            else
                K.BatchNormRelu.Backward(n, c, hw, dx.View, dg.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, dg.View, dggamma.View, dgbeta.View, training);
            Accelerator.Synchronize();
            results.Add((Download(dg), Download(dggamma), Download(dgbeta)));
        }
        var (gx, ggamma, gbeta) = results[0];
        var xd = FiniteDifference.ToDouble(x);
        var gd = FiniteDifference.ToDouble(gamma);
        var bd = FiniteDifference.ToDouble(beta);
        var gad = FiniteDifference.ToDouble(ga);
        var md = FiniteDifference.ToDouble(Download(dmean));
        var sd = FiniteDifference.ToDouble(Download(dinvstd));
        double[] Y(double[] xv, double[] gv, double[] bv) => ForwardReference(xv, gv, bv, c, hw, training, md, sd);
        // float32 kernel against float64 differences; the training gx subtracts two means and loses about two digits.
        AssertClose(gx, FiniteDifference.Gradient(v => Y(v, gd, bd), xd, gad), 1e-3, "gx");
        AssertClose(ggamma, FiniteDifference.Gradient(v => Y(xd, v, bd), gd, gad), 1e-4, "ggamma");
        AssertClose(gbeta, FiniteDifference.Gradient(v => Y(xd, gd, v), bd, gad), 1e-4, "gbeta");
        // The host form (one FMA per normalisation, lane-wise sums) agrees with the ILGPU kernel to float32 rounding.
        AssertClose(results[1].Gx, FiniteDifference.ToDouble(gx), 1e-5, "host gx");
        AssertClose(results[1].GGamma, FiniteDifference.ToDouble(ggamma), 1e-5, "host ggamma");
        AssertClose(results[1].GBeta, FiniteDifference.ToDouble(gbeta), 1e-5, "host gbeta");
    }
}
