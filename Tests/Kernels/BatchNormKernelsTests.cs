using System.Runtime.InteropServices;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

public class BatchNormKernelsTests : KernelTestBase
{
    const float Eps = 1e-5f;

    /// <summary>Float64 reference forward; with batchStats false, mean and invstd are the fixed ones given.</summary>
    static double[] ForwardReference(double[] x, double[] gamma, double[] beta, int c, int hw, bool batchStats,
        ref double[] mean, ref double[] invstd)
    {
        if (batchStats) (mean, invstd) = StatsReference(x, c, hw);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / hw % c;
            y[i] = gamma[ch] * (x[i] - mean[ch]) * invstd[ch] + beta[ch];
        }
        return y;
    }

    static (double[] Mean, double[] Invstd) StatsReference(double[] x, int c, int hw)
    {
        double m = x.Length / c;
        var mean = new double[c];
        var variance = new double[c];
        for (int i = 0; i < x.Length; i++) mean[i / hw % c] += x[i] / m;
        for (int i = 0; i < x.Length; i++) variance[i / hw % c] += Math.Pow(x[i] - mean[i / hw % c], 2) / m;
        return (mean, variance.Select(v => 1 / Math.Sqrt(v + Eps)).ToArray());
    }

    /// <summary>The gradient of Σ gy·y with respect to x, gamma and beta, by finite differences of the float64 forward.</summary>
    static (double[] Gx, double[] GGamma, double[] GBeta) NumericGradients(float[] x, float[] gamma, float[] beta, float[] gy,
        int c, int hw, bool batchStats, float[] mean, float[] invstd)
    {
        var xd = FiniteDifference.ToDouble(x);
        var gd = FiniteDifference.ToDouble(gamma);
        var bd = FiniteDifference.ToDouble(beta);
        var gyd = FiniteDifference.ToDouble(gy);
        var md = FiniteDifference.ToDouble(mean);
        var sd = FiniteDifference.ToDouble(invstd);
        double[] Y(double[] xv, double[] gv, double[] bv)
        {
            var (m, s) = (md, sd);
            return ForwardReference(xv, gv, bv, c, hw, batchStats, ref m, ref s);
        }
        return (FiniteDifference.Gradient(v => Y(v, gd, bd), xd, gyd),
            FiniteDifference.Gradient(v => Y(xd, v, bd), gd, gyd),
            FiniteDifference.Gradient(v => Y(xd, gd, v), bd, gyd));
    }

    static float[] Golden(string file) =>
        MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "golden", file))).ToArray();

    [TestCase(3, 5, 63)]
    [TestCase(2, 17, 9)]
    public void TrainingForward_MatchesFloat64Reference(int n, int c, int hw)
    {
        // An offset mean makes a one-pass Σx² - M·mean² variance lose digits; the two-pass one must not.
        var x = RandomArray(n * c * hw).Select(v => v + 4f).ToArray();
        var gamma = RandomArray(c);
        var beta = RandomArray(c);
        using var dx = Upload(x);
        using var dgamma = Upload(gamma);
        using var dbeta = Upload(beta);
        using var dmean = Poisoned(c);
        using var dinvstd = Poisoned(c);
        using var dy = Poisoned(x.Length);
        K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);
        K.BatchNorm.Normalize(n, c, hw, dx.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, dy.View);
        double[] mean = [], invstd = [];
        var y = ForwardReference(FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(gamma), FiniteDifference.ToDouble(beta), c, hw, true, ref mean, ref invstd);
        // float32 sums of a few hundred values: relative errors of order 1e-6.
        AssertClose(Download(dmean), mean, 1e-5, "batch mean");
        AssertClose(Download(dinvstd), invstd, 1e-5, "batch invstd");
        AssertClose(Download(dy), y, 1e-5, "normalized y");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Backward_MatchesFiniteDifferences(bool training)
    {
        const int n = 2, c = 3, hw = 5;
        var x = RandomArray(n * c * hw);
        var gamma = RandomArray(c);
        var beta = RandomArray(c);
        var gy = RandomArray(x.Length);
        var mean = training ? new float[c] : RandomArray(c, 0.3f);
        var invstd = training ? new float[c] : RandomArray(c).Select(v => 1.5f + v).ToArray();
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgamma = Upload(gamma);
        using var dmean = Upload(mean);
        using var dinvstd = Upload(invstd);
        using var dgx = Poisoned(x.Length);
        using var dggamma = Upload(new float[c]);
        using var dgbeta = Upload(new float[c]);
        if (training)
        {
            K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);
            K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, dgx.View, dggamma.View, dgbeta.View, batchStatistics: true);
        }
        else
            K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, dgx.View, dggamma.View, dgbeta.View, batchStatistics: false);
        var (gx, ggamma, gbeta) = NumericGradients(x, gamma, beta, gy, c, hw, training, Download(dmean), Download(dinvstd));
        // float32 kernel against float64 differences; the training gx subtracts two means and loses about two digits.
        AssertClose(Download(dgx), gx, 1e-4, "gx");
        AssertClose(Download(dggamma), ggamma, 1e-5, "ggamma");
        AssertClose(Download(dgbeta), gbeta, 1e-5, "gbeta");
    }

    [Test]
    public void StatsAndBackward_AreDeterministic_BackwardOverwritesGxAndAccumulatesParameterGradients()
    {
        const int n = 3, c = 5, hw = 21;
        var x = RandomArray(n * c * hw);
        var gy = RandomArray(x.Length);
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgamma = Upload(RandomArray(c));
        using var dmean = Poisoned(c);
        using var dinvstd = Poisoned(c);
        using var dgx = Poisoned(x.Length);
        using var dggamma = Upload(new float[c]);
        using var dgbeta = Upload(new float[c]);
        K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);
        var (mean1, invstd1) = (Download(dmean), Download(dinvstd));
        K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);
        Assert.That(Download(dmean), Is.EqualTo(mean1), "batch mean: same bits on a second run");
        Assert.That(Download(dinvstd), Is.EqualTo(invstd1), "batch invstd: same bits on a second run");
        K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, dgx.View, dggamma.View, dgbeta.View, batchStatistics: true);
        var (gx1, ggamma1, gbeta1) = (Download(dgx), Download(dggamma), Download(dgbeta));
        K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, dgx.View, dggamma.View, dgbeta.View, batchStatistics: true);
        Assert.That(Download(dgx), Is.EqualTo(gx1), "gx is overwritten with the same bits");
        Assert.That(Download(dggamma), Is.EqualTo(ggamma1.Select(v => 2 * v).ToArray()), "ggamma += the same sum (doubling is exact)");
        Assert.That(Download(dgbeta), Is.EqualTo(gbeta1.Select(v => 2 * v).ToArray()), "gbeta += the same sum (doubling is exact)");
    }

    /// <summary>Float64 training-mode backward from the float64 statistics: gx, Σgy·xhat, Σgy.</summary>
    static (double[] Gx, double[] GGamma, double[] GBeta) BackwardReference(double[] x, double[] gamma, double[] gy, int c, int hw)
    {
        var (mean, invstd) = StatsReference(x, c, hw);
        double m = x.Length / c;
        var gbeta = new double[c];
        var ggamma = new double[c];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / hw % c;
            gbeta[ch] += gy[i];
            ggamma[ch] += gy[i] * (x[i] - mean[ch]) * invstd[ch];
        }
        var gx = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / hw % c;
            double xhat = (x[i] - mean[ch]) * invstd[ch];
            gx[i] = gamma[ch] * invstd[ch] * (gy[i] - gbeta[ch] / m - xhat * ggamma[ch] / m);
        }
        return (gx, ggamma, gbeta);
    }

    /// <summary>
    /// Runs <paramref name="body"/> with many groups per channel (every channel cut into short slices) and the given group
    /// size on the ILGPU backend; the host backend has no groups, and runs it as it is.
    /// </summary>
    void WithSlices(int groupSize, Action body)
    {
        if (HostKernels)
        {
            body();
            return;
        }
        var (target, size) = (Ilgpu.TargetGroups, Ilgpu.ReductionGroupSize);
        (Ilgpu.TargetGroups, Ilgpu.ReductionGroupSize) = (1 << 20, groupSize);
        try
        {
            body();
        }
        finally
        {
            (Ilgpu.TargetGroups, Ilgpu.ReductionGroupSize) = (target, size);
        }
    }

    /// <summary>Checks of how the ILGPU backend splits channels into groups; nothing to check on the host backend.</summary>
    void AssertSlices(int n, int c, int hw, bool lastShort)
    {
        if (HostKernels) return;
        Assert.That(ChannelSlices.For(Ilgpu, n, c, hw).Slices, Is.GreaterThan(4), "several groups per channel");
        if (lastShort) Assert.That(n * hw % ChannelSlices.For(Ilgpu, n, c, hw).SliceLength, Is.Not.Zero, "slices are no divisor of M");
    }

    [TestCase(1)]
    [TestCase(4)]
    public void Stats_ManyGroupsPerChannel_MeanFarLargerThanSpread_MatchFloat64(int groupSize)
    {
        const int n = 3, c = 3, hw = 67;
        // Mean 10⁴, spread ±1: Σx² − M·mean² in float32 would lose every digit of the variance (≈ 1/3).
        var x = RandomArray(n * c * hw).Select(v => 1e4f + v).ToArray();
        WithSlices(groupSize, () =>
        {
            AssertSlices(n, c, hw, lastShort: true);
            using var dx = Upload(x);
            using var dmean = Poisoned(c);
            using var dinvstd = Poisoned(c);
            K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);
            var (mean, invstd) = StatsReference(FiniteDifference.ToDouble(x), c, hw);
            var (mean1, invstd1) = (Download(dmean), Download(dinvstd));
            AssertClose(mean1, mean, 1e-6, "batch mean (float32 holds 10⁴ to about 1e-3)");
            AssertClose(invstd1, invstd, 1e-4, "batch invstd with mean 10⁴ and variance 1/3");
            K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);
            Assert.That((Download(dmean), Download(dinvstd)), Is.EqualTo((mean1, invstd1)), "same bits on a repeated run");
        });
    }

    [TestCase(1)]
    [TestCase(4)]
    public void Backward_ManyGroupsPerChannel_MatchesFloat64_AndRepeatsBitForBit(int groupSize)
    {
        const int n = 3, c = 4, hw = 37;
        var x = RandomArray(n * c * hw).Select(v => 3f + 2f * v).ToArray();
        var gy = RandomArray(x.Length);
        var gamma = RandomArray(c);
        var (gx, ggamma, gbeta) = BackwardReference(FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(gamma), FiniteDifference.ToDouble(gy), c, hw);
        WithSlices(groupSize, () =>
        {
            AssertSlices(n, c, hw, lastShort: false);
            using var dx = Upload(x);
            using var dgy = Upload(gy);
            using var dgamma = Upload(gamma);
            using var dmean = Poisoned(c);
            using var dinvstd = Poisoned(c);
            using var dgx = Poisoned(x.Length);
            using var dggamma = Upload(new float[c]);
            using var dgbeta = Upload(new float[c]);
            K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);
            K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, dgx.View, dggamma.View, dgbeta.View, batchStatistics: true);
            var (gx1, ggamma1, gbeta1) = (Download(dgx), Download(dggamma), Download(dgbeta));
            AssertClose(gx1, gx, 1e-4, "gx (two means subtracted: about two digits lost)");
            AssertClose(ggamma1, ggamma, 1e-5, "ggamma");
            AssertClose(gbeta1, gbeta, 1e-5, "gbeta");
            K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, dgx.View, dggamma.View, dgbeta.View, batchStatistics: true);
            Assert.That(Download(dgx), Is.EqualTo(gx1), "gx: same bits on a repeated run");
            Assert.That(Download(dggamma), Is.EqualTo(ggamma1.Select(v => 2 * v).ToArray()), "ggamma += the same bits");
            Assert.That(Download(dgbeta), Is.EqualTo(gbeta1.Select(v => 2 * v).ToArray()), "gbeta += the same bits");
        });
    }

    [Test]
    public void StatsWithRunningUpdate_IsOneLaunch_AndMatchesPyTorchGolden()
    {
        const int n = 4, c = 5, hw = 21;
        using var dx = Upload(Golden("bn2d_train.x.bin"));
        using var drm = Upload(Golden("bn2d_train.running_mean_in.bin"));
        using var drv = Upload(Golden("bn2d_train.running_var_in.bin"));
        using var dmean = Poisoned(c);
        using var dinvstd = Poisoned(c);
        WithSlices(1, () =>
        {
            long before = Backend.KernelLaunches;
            K.BatchNorm.ComputeBatchStatsAndUpdateRunning(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps, 0.1f, drm.View, drv.View);
            Assert.That(Backend.KernelLaunches - before, Is.EqualTo(1), "statistics and running statistics in one launch (one host call)");
        });
        Assert.Multiple(() =>
        {
            AssertClose(Download(dmean), FiniteDifference.ToDouble(Golden("bn2d_train.batch_mean.bin")), 1e-5, "batch mean");
            AssertClose(Download(dinvstd), FiniteDifference.ToDouble(Golden("bn2d_train.batch_invstd.bin")), 1e-5, "batch invstd");
            AssertClose(Download(drm), FiniteDifference.ToDouble(Golden("bn2d_train.running_mean_out.bin")), 1e-5, "running mean");
            AssertClose(Download(drv), FiniteDifference.ToDouble(Golden("bn2d_train.running_var_out.bin")), 1e-5, "running var (unbiased)");
        });
    }

    [Test]
    public void Training_MatchesPyTorchGolden_IncludingRunningStats()
    {
        const int n = 4, c = 5, hw = 21, m = n * hw;
        using var dx = Upload(Golden("bn2d_train.x.bin"));
        using var dgamma = Upload(Golden("bn2d_train.gamma.bin"));
        using var dbeta = Upload(Golden("bn2d_train.beta.bin"));
        using var drm = Upload(Golden("bn2d_train.running_mean_in.bin"));
        using var drv = Upload(Golden("bn2d_train.running_var_in.bin"));
        using var dgy = Upload(Golden("bn2d_train.gy.bin"));
        using var dmean = Poisoned(c);
        using var dinvstd = Poisoned(c);
        using var dy = Poisoned(n * c * hw);
        using var dgx = Poisoned(n * c * hw);
        using var dggamma = Upload(new float[c]);
        using var dgbeta = Upload(new float[c]);
        K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);
        K.BatchNorm.Normalize(n, c, hw, dx.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, dy.View);
        K.BatchNorm.UpdateRunningStats(c, m, dmean.View, dinvstd.View, Eps, 0.1f, drm.View, drv.View);
        K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, dgx.View, dggamma.View, dgbeta.View, batchStatistics: true);
        // Tolerances from the case's hint: 1e-5 of max|ref|, 1e-4 for gx (cancellation).
        Assert.Multiple(() =>
        {
            AssertClose(Download(dmean), FiniteDifference.ToDouble(Golden("bn2d_train.batch_mean.bin")), 1e-5, "batch mean");
            AssertClose(Download(dinvstd), FiniteDifference.ToDouble(Golden("bn2d_train.batch_invstd.bin")), 1e-5, "batch invstd");
            AssertClose(Download(dy), FiniteDifference.ToDouble(Golden("bn2d_train.y.bin")), 1e-5, "y");
            AssertClose(Download(drm), FiniteDifference.ToDouble(Golden("bn2d_train.running_mean_out.bin")), 1e-5, "running mean");
            AssertClose(Download(drv), FiniteDifference.ToDouble(Golden("bn2d_train.running_var_out.bin")), 1e-5, "running var (unbiased)");
            AssertClose(Download(dgx), FiniteDifference.ToDouble(Golden("bn2d_train.gx.bin")), 1e-4, "gx");
            AssertClose(Download(dggamma), FiniteDifference.ToDouble(Golden("bn2d_train.ggamma.bin")), 1e-5, "ggamma");
            AssertClose(Download(dgbeta), FiniteDifference.ToDouble(Golden("bn2d_train.gbeta.bin")), 1e-5, "gbeta");
        });
    }

    [Test]
    public void Eval_MatchesPyTorchGolden()
    {
        const int n = 3, c = 4, hw = 30;
        using var dx = Upload(Golden("bn2d_eval.x.bin"));
        using var dgamma = Upload(Golden("bn2d_eval.gamma.bin"));
        using var dbeta = Upload(Golden("bn2d_eval.beta.bin"));
        using var drm = Upload(Golden("bn2d_eval.running_mean.bin"));
        using var drv = Upload(Golden("bn2d_eval.running_var.bin"));
        using var dgy = Upload(Golden("bn2d_eval.gy.bin"));
        using var dmean = Poisoned(c);
        using var dinvstd = Poisoned(c);
        using var dy = Poisoned(n * c * hw);
        using var dgx = Poisoned(n * c * hw);
        using var dggamma = Upload(new float[c]);
        using var dgbeta = Upload(new float[c]);
        K.BatchNorm.EvalStats(c, drm.View, drv.View, Eps, dmean.View, dinvstd.View);
        K.BatchNorm.Normalize(n, c, hw, dx.View, dmean.View, dinvstd.View, dgamma.View, dbeta.View, dy.View);
        K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, dgx.View, dggamma.View, dgbeta.View, batchStatistics: false);
        Assert.Multiple(() =>
        {
            // The hint is 1e-6; rsqrt and a 90-term float32 sum sit a little above one ulp, so 1e-5 for the sums.
            AssertClose(Download(dmean), FiniteDifference.ToDouble(Golden("bn2d_eval.running_mean.bin")), 0, "mean = running mean");
            AssertClose(Download(dy), FiniteDifference.ToDouble(Golden("bn2d_eval.y.bin")), 1e-6, "y");
            AssertClose(Download(dgx), FiniteDifference.ToDouble(Golden("bn2d_eval.gx.bin")), 1e-6, "gx");
            AssertClose(Download(dggamma), FiniteDifference.ToDouble(Golden("bn2d_eval.ggamma.bin")), 1e-5, "ggamma");
            AssertClose(Download(dgbeta), FiniteDifference.ToDouble(Golden("bn2d_eval.gbeta.bin")), 1e-5, "gbeta");
        });
    }

    [Test]
    public void BadSizes_ThrowWithOpAndSizes()
    {
        using var x = Upload(RandomArray(2 * 3 * 4));
        using var three = Upload(RandomArray(3));
        using var four = Upload(RandomArray(4));
        var ex = Assert.Throws<ArgumentException>(() => K.BatchNorm.ComputeBatchStats(2, 3, 4, x.View, three.View, four.View, Eps));
        Assert.That(ex!.Message, Does.Contain("batch norm stats").And.Contain("invstd").And.Contain("3").And.Contain("4"));
        ex = Assert.Throws<ArgumentException>(() =>
            K.BatchNorm.Backward(2, 3, 4, x.View, x.View, three.View, three.View, four.View, x.View, three.View, three.View, batchStatistics: true));
        Assert.That(ex!.Message, Does.Contain("batch norm backward").And.Contain("gamma").And.Contain("3").And.Contain("4"));
        ex = Assert.Throws<ArgumentException>(() => K.BatchNorm.UpdateRunningStats(3, 1, three.View, three.View, Eps, 0.1f, three.View, three.View));
        Assert.That(ex!.Message, Does.Contain("running stats").And.Contain("m").And.Contain("1"));
        ex = Assert.Throws<ArgumentException>(() => K.BatchNorm.Normalize(2, 3, 5, x.View, three.View, three.View, three.View, three.View, x.View));
        Assert.That(ex!.Message, Does.Contain("normalize").And.Contain("30").And.Contain("24"));
    }
}
