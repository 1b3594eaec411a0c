using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Engine;

/// <summary>
/// The fused BN-ReLU op that keeps only its input (a stem's and a head's) against batch norm then ReLU: same forward and
/// gradients, bit for bit, with the host kernels (cpu) and with the ILGPU kernels (ilgpu-cpu), in fewer launches.
/// </summary>
[TestFixture("cpu")]
[TestFixture("ilgpu-cpu")]
public class BatchNormReluTests(string deviceName) : DeviceFixture(deviceName)
{
    long Calls => device.Backend.KernelLaunches;

    [TestCase(3, 5, 7, 9, true)]
    [TestCase(2, 3, 1, 1, true)]
    [TestCase(2, 7, 5, 3, false)]
    public void FusedOp_EqualsBatchNormThenRelu_BitForBit_KeepsOnlyItsInput_InOneLaunchEachWay(int n, int c, int h, int w, bool batchStats)
    {
        var rng = new Random(n * 100 + c);
        using var x = Random(rng, 0f, n, c, h, w);
        using var gamma = Random(rng, 1f, c);
        using var beta = Random(rng, 0f, c);
        using var mean = Tensor.Empty(device, c);
        using var invstd = Tensor.Empty(device, c);
        if (batchStats) Functional.BatchStatistics(x, 1e-5f, mean, invstd);
        else
        {
            mean.CopyFrom(Enumerable.Range(0, c).Select(i => 0.1f * i).ToArray());
            invstd.CopyFrom(Enumerable.Range(0, c).Select(i => 1f + 0.2f * i).ToArray());
        }
        using var seed = Random(rng, 0f, n, c, h, w);
        var results = new List<(float[] Y, float[] Gx, float[] GGamma, float[] GBeta)>();
        foreach (bool fused in new[] { false, true })
        {
            foreach (var p in new[] { gamma, beta }) p.Grad = Tensor.Zeros(device, p.Shape);
            x.RequiresGrad = true;
            long bytesBefore = device.Allocator.BytesInUse, callsBefore = Calls;
            Tensor y;
            if (fused)
                y = Functional.BatchNormRelu(x, gamma, beta, mean, invstd, batchStats);
            else
            {
                using var normalized = Functional.BatchNorm2d(x, gamma, beta, mean, invstd, batchStats);
                y = Functional.Relu(normalized);
            }
            if (fused)
            {
                Assert.That(device.Allocator.BytesInUse - bytesBefore, Is.EqualTo(CachingAllocator.RoundUp(y.Length * 4)), "after forward only the output is new: x is what the op keeps");
                Assert.That(Calls - callsBefore, Is.EqualTo(1), "one forward launch");
            }
            callsBefore = Calls;
            var gx = device.Tape.Backward(y, seed, x)[0]!;
            if (fused) Assert.That(Calls - callsBefore, Is.EqualTo(1), "one backward launch");
            results.Add((y.ToArray(), gx.ToArray(), gamma.Grad!.ToArray(), beta.Grad!.ToArray()));
            gx.Release();
            y.Release();
            foreach (var p in new[] { gamma, beta }) p.Grad!.Release();
        }
        var (separate, together) = (results[0], results[1]);
        Assert.That(together.Y, Is.EqualTo(separate.Y), "forward");
        Assert.That(together.Gx, Is.EqualTo(separate.Gx), "gx");
        Assert.That(together.GGamma, Is.EqualTo(separate.GGamma), "ggamma");
        Assert.That(together.GBeta, Is.EqualTo(separate.GBeta), "gbeta");
        Assert.That(separate.Y.Any(v => v == 0) && separate.Y.Any(v => v > 0), "the ReLU both passed and cut values");
        Assert.That(separate.Gx.Any(v => v != 0), "gradients flowed");
    }
}
