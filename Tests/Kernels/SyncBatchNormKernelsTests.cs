using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>
/// Sync-BN's halves, in both forms (ILGPU kernels and host C#): a batch cut into two slices by image, reduced per slice,
/// the sums added as the all-reduce would, and applied per slice, must give what batch norm computes on the whole batch
/// (float64 references, and the single-process kernels).
/// </summary>
public class SyncBatchNormKernelsTests : KernelTestBase
{
    const float Eps = 1e-5f;

    /// <summary>"kernel": ILGPU kernels as the CPU accelerator runs them (one thread per channel); "kernel-groups": with 8-thread
    /// groups, the GPU's tree sums; "host": the C# forms.</summary>
    KernelSet Form(string form) => form switch
    {
        "host" => new HostBackend(Accelerator).Kernels,
        "kernel-groups" => GroupedIlgpuKernels(),
        _ => K,
    };

    /// <summary>A second ILGPU backend over the fixture's accelerator (which the fixture's backend disposes), reducing in 8-thread groups.</summary>
    KernelSet GroupedIlgpuKernels()
    {
        var backend = new IlgpuBackend("ilgpu-cpu", Accelerator);
        backend.Context.ReductionGroupSize = 8;
        return backend.Kernels;
    }

    [TestCase("kernel", 3, 2, 5, 7)]
    [TestCase("kernel-groups", 3, 2, 5, 7)]
    [TestCase("host", 3, 2, 5, 7)]
    [TestCase("kernel", 5, 3, 3, 1)]
    [TestCase("host", 5, 1, 3, 11)]
    public void StatisticsFromTwoSlices_EqualWholeBatchStatistics(string form, int n, int firstSlice, int c, int hw)
    {
        var k = Form(form);
        var x = RandomArray(n * c * hw).Select(v => v + 3f).ToArray();
        using var dx = Upload(x);
        using var partial = Poisoned(2 * c);
        using var dmean = Poisoned(c);
        var slices = new[] { (Start: 0, Images: firstSlice), (Start: firstSlice, Images: n - firstSlice) };
        long count = (long)n * hw;

        var sums = new double[c];
        foreach (var (start, images) in slices)
        {
            k.SyncBatchNorm.ChannelSums(images, c, hw, Slice(dx, start, images, c, hw), partial.View);
            Add(sums, Combine(Download(partial), c));
        }
        var mean = sums.Select(s => (float)(s / count)).ToArray();
        dmean.CopyFromCPU(mean);
        var squares = new double[c];
        foreach (var (start, images) in slices)
        {
            k.SyncBatchNorm.CentredSquareSums(images, c, hw, Slice(dx, start, images, c, hw), dmean.View, partial.View);
            Add(squares, Combine(Download(partial), c));
        }
        var invstd = squares.Select(s => 1 / Math.Sqrt(s / count + Eps)).ToArray();

        var (expectedMean, expectedInvstd) = StatsReference(x, c, hw);
        // Compensated sums: a few float32 ulps, however the batch is cut.
        AssertClose(mean, expectedMean, 1e-6, "mean from slice sums");
        AssertClose(invstd.Select(v => (float)v).ToArray(), expectedInvstd, 1e-6, "invstd from slice sums of centred squares");
    }

    [TestCase("kernel", 4, 1, 3, 9)]
    [TestCase("kernel-groups", 4, 1, 3, 9)]
    [TestCase("host", 4, 1, 3, 9)]
    [TestCase("kernel", 3, 2, 7, 5)]
    [TestCase("host", 3, 2, 7, 5)]
    public void BackwardFromTwoSlices_EqualsWholeBatchBackward(string form, int n, int firstSlice, int c, int hw)
    {
        var k = Form(form);
        var x = RandomArray(n * c * hw);
        var gy = RandomArray(x.Length);
        var gamma = RandomArray(c);
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dgamma = Upload(gamma);
        using var dmean = Poisoned(c);
        using var dinvstd = Poisoned(c);
        K.BatchNorm.ComputeBatchStats(n, c, hw, dx.View, dmean.View, dinvstd.View, Eps);

        // The whole batch in one process: the reference (itself checked against finite differences).
        using var wholeGx = Poisoned(x.Length);
        using var wholeGGamma = Upload(new float[c]);
        using var wholeGBeta = Upload(new float[c]);
        K.BatchNorm.Backward(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, wholeGx.View, wholeGGamma.View, wholeGBeta.View, batchStatistics: true);

        // Two slices: reduce each, add the sums (what MPI_Allreduce does across ranks), apply to each.
        var slices = new[] { (Start: 0, Images: firstSlice), (Start: firstSlice, Images: n - firstSlice) };
        using var sums = Poisoned(4 * c);
        using var gx = Poisoned(x.Length);
        using var ggamma = Upload(new float[c]);
        using var gbeta = Upload(new float[c]);
        var total = new double[2 * c];
        foreach (var (start, images) in slices)
        {
            k.SyncBatchNorm.BackwardSums(images, c, hw, Slice(dx, start, images, c, hw), Slice(dgy, start, images, c, hw),
                dmean.View, dinvstd.View, sums.View, ggamma.View, gbeta.View);
            Add(total, Combine(Download(sums), c));
        }
        using var means = Upload(total.Select(t => (float)(t / ((long)n * hw))).ToArray());
        foreach (var (start, images) in slices)
            k.SyncBatchNorm.BackwardApply(images, c, hw, Slice(dx, start, images, c, hw), Slice(dgy, start, images, c, hw),
                dmean.View, dinvstd.View, dgamma.View, means.View, Slice(gx, start, images, c, hw));

        var (expectedGx, expectedGGamma, expectedGBeta) = BackwardReference(x, gy, gamma, Download(dmean), Download(dinvstd), c, hw);
        AssertClose(Download(gx), expectedGx, 1e-6, "gx against float64");
        AssertClose(Download(ggamma), expectedGGamma, 1e-6, "ggamma against float64");
        AssertClose(Download(gbeta), expectedGBeta, 1e-6, "gbeta against float64");
        // The single-process kernels sum in float32: they agree to their own rounding.
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
        var gradientMeans = RandomArray(2 * c);
        float[][] Run(KernelSet k)
        {
            using var channelSums = Poisoned(2 * c);
            using var squares = Poisoned(2 * c);
            using var sums = Poisoned(4 * c);
            using var means = Upload(gradientMeans);
            using var ggamma = Upload(Enumerable.Repeat(0.5f, c).ToArray());
            using var gbeta = Upload(Enumerable.Repeat(-0.25f, c).ToArray());
            using var gx = Poisoned(x.Length);
            k.SyncBatchNorm.ChannelSums(n, c, hw, dx.View, channelSums.View);
            k.SyncBatchNorm.CentredSquareSums(n, c, hw, dx.View, dmean.View, squares.View);
            k.SyncBatchNorm.BackwardSums(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, sums.View, ggamma.View, gbeta.View);
            k.SyncBatchNorm.BackwardApply(n, c, hw, dx.View, dgy.View, dmean.View, dinvstd.View, dgamma.View, means.View, gx.View);
            return [Download(channelSums), Download(squares), Download(sums), Download(ggamma), Download(gbeta), Download(gx)];
        }
        var kernel = Run(K);
        var host = Run(Form("host"));
        string[] names = ["channel sums", "centred squares", "backward sums", "ggamma", "gbeta", "gx"];
        for (int i = 0; i < names.Length; i++)
        {
            Assert.That(kernel[i].All(float.IsFinite), $"{names[i]}: every element written");
            Assert.That(host[i], Is.EqualTo(kernel[i]), $"{names[i]}: host and ILGPU forms sum in the same order");
        }
    }

    [Test]
    public void CompensatedSum_KeepsWhatAPlainFloatSumLoses()
    {
        // 1 followed by 10,000 terms of 1e-8: a float32 running sum never moves from 1 (each term is below half an ulp of 1).
        var sum = new CompensatedSum();
        float plain = 0f;
        sum.Add(1f);
        plain += 1f;
        for (int i = 0; i < 10_000; i++)
        {
            sum.Add(1e-8f);
            plain += 1e-8f;
        }
        double exact = 1 + 10_000 * (double)1e-8f;
        Assert.That(plain, Is.EqualTo(1f), "the plain sum lost every small term");
        Assert.That(sum.Value, Is.EqualTo(exact).Within(1e-7 * exact), "the compensated sum kept them, to float32 precision");
    }

    [Test]
    public void BackwardApply_RejectsGradientMeansOfTheWrongLength()
    {
        using var v = Upload(new float[2 * 3 * 4]);
        using var ch = Upload(new float[3]);
        var e = Assert.Throws<ArgumentException>(() =>
            K.SyncBatchNorm.BackwardApply(2, 3, 4, v.View, v.View, ch.View, ch.View, ch.View, ch.View, v.View));
        Assert.That(e!.Message, Does.Contain("gradientMeans"));
    }

    static ArrayView<float> Slice(MemoryBuffer1D<float, Stride1D.Dense> buffer, int firstImage, int images, int c, int hw) =>
        buffer.View.SubView((long)firstImage * c * hw, (long)images * c * hw);

    /// <summary>Float64 values of a kernel's compensated sums laid out as the kernels write them: per sum, C high parts then C low parts.</summary>
    static double[] Combine(float[] parts, int c)
    {
        var values = new double[parts.Length / 2];
        for (int sum = 0; sum < values.Length / c; sum++)
            for (int ch = 0; ch < c; ch++)
                values[sum * c + ch] = (double)parts[2 * sum * c + ch] + parts[(2 * sum + 1) * c + ch];
        return values;
    }

    static (double[] Gx, double[] GGamma, double[] GBeta) BackwardReference(float[] x, float[] gy, float[] gamma, float[] mean, float[] invstd, int c, int hw)
    {
        double m = x.Length / c;
        var sumGy = new double[c];
        var sumGyXhat = new double[c];
        double Xhat(int i) => ((double)x[i] - mean[i / hw % c]) * invstd[i / hw % c];
        for (int i = 0; i < x.Length; i++)
        {
            sumGy[i / hw % c] += gy[i];
            sumGyXhat[i / hw % c] += gy[i] * Xhat(i);
        }
        var gx = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / hw % c;
            gx[i] = (double)gamma[ch] * invstd[ch] * (gy[i] - sumGy[ch] / m - Xhat(i) * sumGyXhat[ch] / m);
        }
        return (gx, sumGyXhat, sumGy);
    }

    static void Add(double[] total, double[] part)
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
