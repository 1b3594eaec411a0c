using ILGPU.Runtime;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>
/// The CPU accelerator reduces with one-thread groups; GPUs use the shared-memory tree. Both must agree: every
/// reduction kernel is run here with tree groups of several sizes (including one that is not a power of two)
/// and compared with the one-thread result, whose own correctness the per-op tests establish.
/// </summary>
public class GroupReductionTests : KernelTestBase
{
    const int N = 3, C = 5, HW = 7 * 9;

    float[] Run(int groupSize, Action<KernelSet> launch, Func<float[]> read)
    {
        int saved = Ilgpu.ReductionGroupSize;
        Ilgpu.ReductionGroupSize = groupSize;
        try
        {
            launch(K);
            return read();
        }
        finally
        {
            Ilgpu.ReductionGroupSize = saved;
        }
    }

    [TestCase(5)]
    [TestCase(16)]
    public void BatchNormStatisticsAndBackward_TreeGroupsMatchOneThreadGroups(int groupSize)
    {
        using var x = Upload(RandomArray(N * C * HW, 3f));
        using var gy = Upload(RandomArray(N * C * HW));
        using var gamma = Upload(RandomArray(C));
        float[] Both(int size)
        {
            using var mean = Poisoned(C);
            using var invstd = Poisoned(C);
            using var gx = Poisoned(N * C * HW);
            using var ggamma = Upload(new float[C]);
            using var gbeta = Upload(new float[C]);
            return Run(size, k =>
            {
                k.BatchNorm.ComputeBatchStats(N, C, HW, x.View, mean.View, invstd.View, 1e-5f);
                k.BatchNorm.Backward(N, C, HW, x.View, gy.View, mean.View, invstd.View, gamma.View, gx.View, ggamma.View, gbeta.View, batchStatistics: true);
            }, () => [.. Download(mean), .. Download(invstd), .. Download(gx), .. Download(ggamma), .. Download(gbeta)]);
        }
        var reference = Both(1);
        Assert.That(RelativeError(Both(groupSize), reference), Is.LessThanOrEqualTo(1e-5), "float32 sums in a different order agree to rounding");
    }

    [TestCase(16)]
    public void ChannelSumAndCrossEntropy_TreeGroupsMatchOneThreadGroups(int groupSize)
    {
        using var x = Upload(RandomArray(N * C * HW));
        using var logits = Upload(RandomArray(6 * 10, 5f));
        using var labels = Accelerator.Allocate1D<int>(new[] { 0, 3, 9, 2, 2, 7 });
        float[] Both(int size)
        {
            using var sum = Poisoned(C);
            using var probs = Poisoned(60);
            using var loss = Poisoned(1);
            return Run(size, k =>
            {
                k.Channels.SumPerChannel(N, C, HW, x.View, sum.View);
                k.CrossEntropy.Forward(6, 10, logits.View, labels.View, probs.View, loss.View);
            }, () => [.. Download(sum), .. Download(loss)]);
        }
        Assert.That(RelativeError(Both(groupSize), Both(1)), Is.LessThanOrEqualTo(1e-5));
    }
}
