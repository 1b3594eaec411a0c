using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Engine;

/// <summary>
/// The fused BN-ReLU-conv op that keeps only its input against the three separate ops: same forward and gradients, bit for
/// bit, with the host kernels (cpu) and with the ILGPU kernels (ilgpu-cpu).
/// </summary>
[TestFixture("cpu")]
[TestFixture("ilgpu-cpu")]
public class BatchNormReluConv2dTests(string deviceName) : DeviceFixture(deviceName)
{
    [TestCase(3, 5, 7, 9, 6, 3, 2, 1, true)]
    [TestCase(2, 3, 5, 5, 4, 1, 1, 0, true)]
    [TestCase(2, 3, 6, 5, 4, 3, 1, 1, false)]
    public void FusedOp_EqualsBatchNormThenReluThenConv_BitForBit_AndKeepsOnlyItsInput(int n, int c, int h, int w, int k, int size, int stride, int pad, bool batchStats)
    {
        var rng = new Random(n * 100 + c);
        using var x = Random(rng, 0f, n, c, h, w);
        using var gamma = Random(rng, 1f, c);
        using var beta = Random(rng, 0f, c);
        using var weight = Random(rng, 0f, k, c, size, size);
        using var mean = Tensor.Empty(device, c);
        using var invstd = Tensor.Empty(device, c);
        if (batchStats) Functional.BatchStatistics(x, 1e-5f, mean, invstd);
        else
        {
            mean.CopyFrom(Enumerable.Range(0, c).Select(i => 0.1f * i).ToArray());
            invstd.CopyFrom(Enumerable.Range(0, c).Select(i => 1f + 0.2f * i).ToArray());
        }
        var s = new RevNetIlgpu.Kernels.Conv2dShape(n, c, h, w, k, size, size, stride, pad);
        using var seed = Random(rng, 0f, n, k, s.OutH, s.OutW);
        var results = new List<(float[] Y, float[] Gx, float[] GGamma, float[] GBeta, float[] GW)>();
        foreach (bool fused in new[] { false, true })
        {
            foreach (var p in new[] { gamma, beta, weight }) p.Grad = Tensor.Zeros(device, p.Shape);
            x.RequiresGrad = true;
            long before = device.Allocator.BytesInUse;
            Tensor y;
            if (fused)
                y = Functional.BatchNormReluConv2d(x, gamma, beta, mean, invstd, batchStats, weight, null, stride, pad);
            else
            {
                using var normalized = Functional.BatchNorm2d(x, gamma, beta, mean, invstd, batchStats);
                using var activated = Functional.Relu(normalized);
                y = Functional.Conv2d(activated, weight, null, stride, pad);
            }
            if (fused)
                Assert.That(device.Allocator.BytesInUse - before, Is.EqualTo(CachingAllocator.RoundUp(y.Length * 4)), "after forward only the output is new: x is what the op keeps");
            var gx = device.Tape.Backward(y, seed, x)[0]!;
            results.Add((y.ToArray(), gx.ToArray(), gamma.Grad!.ToArray(), beta.Grad!.ToArray(), weight.Grad!.ToArray()));
            gx.Release();
            y.Release();
            foreach (var p in new[] { gamma, beta, weight }) p.Grad!.Release();
        }
        var (separate, together) = (results[0], results[1]);
        Assert.That(together.Y, Is.EqualTo(separate.Y), "forward");
        Assert.That(together.Gx, Is.EqualTo(separate.Gx), "gx");
        Assert.That(together.GGamma, Is.EqualTo(separate.GGamma), "ggamma");
        Assert.That(together.GBeta, Is.EqualTo(separate.GBeta), "gbeta");
        Assert.That(together.GW, Is.EqualTo(separate.GW), "gweight");
        Assert.That(separate.Gx.Any(v => v != 0) && separate.GW.Any(v => v != 0), "gradients flowed");
    }
}
