using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>
/// Sync-BN's halves, in both forms (ILGPU kernels and host C#): a batch cut into two slices by image, reduced per slice,
/// the sums added as the all-reduce would, and applied per slice, must give what batch norm computes on the whole batch.
/// </summary>
public class SyncBatchNormKernelsTests : KernelTestBase
{
    const float Eps = 1e-5f;

    KernelContext Form(bool host) => host ? new KernelContext(Accelerator, isHost: true) : K;

    [TestCase(false, 3, 2, 5, 7)]
    [TestCase(true, 3, 2, 5, 7)]
    [TestCase(false, 5, 3, 3, 1)]
    [TestCase(true, 5, 1, 3, 11)]
    public void StatisticsFromTwoSlices_EqualWholeBatchStatistics(bool host, int n, int firstSlice, int c, int hw)
    {
        var k = Form(host);
        var x = RandomArray(n * c * hw).Select(v => v + 3f).ToArray();
        using var dx = Upload(x);
        using var partial = Poisoned(c);
        using var dmean = Poisoned(c);
        var slices = new[] { (Start: 0, Images: firstSlice), (Start: firstSlice, Images: n - firstSlice) };
        long count = (long)n * hw;

        var sums = new double[c];
        foreach (var (start, images) in slices)
        {
            ChannelKernels.SumPerChannel(k, images, c, hw, Slice(dx, start, images, c, hw), partial.View);
            Add(sums, Download(partial));
        }
        var mean = sums.Select(s => (float)(s / count)).ToArray();
        dmean.CopyFromCPU(mean);
        var squares = new double[c];
        foreach (var (start, images) in slices)
        {
            SyncBatchNormKernels.CentredSquareSums(k, images, c, hw, Slice(dx, start, images, c, hw), dmean.View, partial.View);
            Add(squares, Download(partial));
        }
        var invstd = squares.Select(s => 1 / Math.Sqrt(s / count + Eps)).ToArray();

        var (expectedMean, expectedInvstd) = StatsReference(x, c, hw);
        AssertClose(mean, expectedMean, 1e-5, "mean from slice sums");
        AssertClose(invstd.Select(v => (float)v).ToArray(), expectedInvstd, 1e-5, "invstd from slice sums of centred squares");
    }

    [TestCase(false, 4, 1, 3, 9)]
    [TestCase(true, 4, 1, 3, 9)]
    [TestCase(false, 3, 2, 7, 5)]
    [TestCase(true, 3, 2, 7, 5)]
    public void BackwardFromTwoSlices_EqualsWholeBatchBackward(bool host, int n, int firstSlice, int c, int hw)
    {
        var k = Form(host);
        var x = RandomArray(n * c * hw);
        var gy = RandomArray(x.Length);
        var gamma = RandomArray(c);
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgamma = Upload(gamma);
        using var dmean = Poisoned(c);
        using var dinvstd = Poisoned(c);
        BatchNormKernels.ComputeBatchStats(K, n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);

        // The whole batch in one process: the reference (itself checked against finite differences).
        using var wholeGx = Poisoned(x.Length);
        using var wholeGGamma = Upload(new float[c]);
        using var wholeGBeta = Upload(new float[c]);
        BatchNormKernels.Backward(K, n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, wholeGx.View, wholeGGamma.View, wholeGBeta.View);

        // Two slices: reduce each, add the sums (what MPI_Allreduce does across ranks), apply to each.
        var slices = new[] { (Start: 0, Images: firstSlice), (Start: firstSlice, Images: n - firstSlice) };
        using var sums = Poisoned(2 * c);
        using var gx = Poisoned(x.Length);
        using var ggamma = Upload(new float[c]);
        using var gbeta = Upload(new float[c]);
        var total = new float[2 * c];
        foreach (var (start, images) in slices)
        {
            SyncBatchNormKernels.BackwardSums(k, images, c, hw, Slice(dx, start, images, c, hw), Slice(dgy, start, images, c, hw),
                dmean.View, dinvstd.View, sums.View, ggamma.View, gbeta.View);
            var part = Download(sums);
            for (int i = 0; i < total.Length; i++) total[i] += part[i];
        }
        sums.CopyFromCPU(total);
        foreach (var (start, images) in slices)
            SyncBatchNormKernels.BackwardApply(k, images, c, hw, Slice(dx, start, images, c, hw), Slice(dgy, start, images, c, hw),
                dmean.View, dinvstd.View, dgamma.View, sums.View, (long)n * hw, Slice(gx, start, images, c, hw));

        // Float32 sums added in another order: differences of a few ulps, amplified where gx subtracts two means.
        Assert.That(RelativeError(Download(gx), Download(wholeGx)), Is.LessThan(1e-5), "gx");
        Assert.That(RelativeError(Download(ggamma), Download(wholeGGamma)), Is.LessThan(1e-5), "ggamma accumulated over the slices");
        Assert.That(RelativeError(Download(gbeta), Download(wholeGBeta)), Is.LessThan(1e-5), "gbeta accumulated over the slices");
    }

    [Test]
    public void HostForm_EqualsKernelForm_BitForBit()
    {
        const int n = 3, c = 5, hw = 13;
        var x = RandomArray(n * c * hw);
        var gy = RandomArray(x.Length);
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgamma = Upload(RandomArray(c));
        using var dmean = Upload(RandomArray(c, 0.2f));
        using var dinvstd = Upload(RandomArray(c).Select(v => 1.5f + v).ToArray());
        float[][] Run(KernelContext k)
        {
            using var squares = Poisoned(c);
            using var sums = Poisoned(2 * c);
            using var ggamma = Upload(Enumerable.Repeat(0.5f, c).ToArray());
            using var gbeta = Upload(Enumerable.Repeat(-0.25f, c).ToArray());
            using var gx = Poisoned(x.Length);
            SyncBatchNormKernels.CentredSquareSums(k, n, c, hw, dx.View, dmean.View, squares.View);
            SyncBatchNormKernels.BackwardSums(k, n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, sums.View, ggamma.View, gbeta.View);
            SyncBatchNormKernels.BackwardApply(k, n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, sums.View, 3L * n * hw, gx.View);
            return [Download(squares), Download(sums), Download(ggamma), Download(gbeta), Download(gx)];
        }
        var kernel = Run(K);
        var host = Run(Form(host: true));
        string[] names = ["centred squares", "backward sums", "ggamma", "gbeta", "gx"];
        for (int i = 0; i < names.Length; i++)
        {
            Assert.That(kernel[i].All(float.IsFinite), $"{names[i]}: every element written");
            Assert.That(host[i], Is.EqualTo(kernel[i]), $"{names[i]}: host and ILGPU forms sum in the same order");
        }
    }

    [Test]
    public void BackwardApply_RejectsACountBelowTheSlice()
    {
        using var v = Upload(new float[2 * 3 * 4]);
        using var ch = Upload(new float[3]);
        using var sums = Upload(new float[6]);
        var e = Assert.Throws<ArgumentException>(() =>
            SyncBatchNormKernels.BackwardApply(K, 2, 3, 4, v.View, v.View, ch.View, ch.View, ch.View, sums.View, 7, v.View));
        Assert.That(e!.Message, Does.Contain("count per channel (7)"));
    }

    static ArrayView<float> Slice(MemoryBuffer1D<float, Stride1D.Dense> buffer, int firstImage, int images, int c, int hw) =>
        buffer.View.SubView((long)firstImage * c * hw, (long)images * c * hw);

    static void Add(double[] total, float[] part)
    {
        for (int i = 0; i < total.Length; i++) total[i] += part[i];
    }

    static (double[] Mean, double[] Invstd) StatsReference(float[] x, int c, int hw)
    {
        double m = x.Length / c;
        var mean = new double[c];
        var variance = new double[c];
        for (int i = 0; i < x.Length; i++) mean[i / hw % c] += x[i] / m;
        for (int i = 0; i < x.Length; i++) variance[i / hw % c] += Math.Pow(x[i] - mean[i / hw % c], 2) / m;
        return (mean, variance.Select(v => 1 / Math.Sqrt(v + Eps)).ToArray());
    }
}
