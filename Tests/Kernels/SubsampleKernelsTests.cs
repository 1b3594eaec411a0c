using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>Strided subsampling against a plain reference on odd shapes, its backward as the exact adjoint, and its host version.</summary>
public class SubsampleKernelsTests : KernelTestBase
{
    [TestCase(3, 7, 9, 2)]
    [TestCase(2, 8, 5, 3)]
    [TestCase(5, 1, 1, 2)]
    public void ForwardAndBackward_MatchThePlainReference_AndTheHostVersion(int planes, int h, int w, int stride)
    {
        int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
        var x = RandomArray(planes * h * w);
        var gy = RandomArray(planes * oh * ow);
        var expectedY = new float[gy.Length];
        var expectedGx = new float[x.Length];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    expectedY[(p * oh + i) * ow + j] = x[(p * h + i * stride) * w + j * stride];
                    expectedGx[(p * h + i * stride) * w + j * stride] = gy[(p * oh + i) * ow + j];
                }
        using var dx = Upload(x);
        using var dgy = Upload(gy);
        using var dy = Poisoned(gy.Length);
        using var dgx = Poisoned(x.Length);
        using var hy = Poisoned(gy.Length);
        using var hgx = Poisoned(x.Length);
        K.Subsample.Forward(planes, h, w, stride, dx.View, dy.View);
        K.Subsample.Backward(planes, h, w, stride, dgy.View, dgx.View);
        var shape = new SubsampleKernels.Planes { H = h, W = w, OutH = oh, OutW = ow, Stride = stride };
        SubsampleHost.Forward(shape, HostMemory.Span<float>(dx.View), HostMemory.Span<float>(hy.View));
        SubsampleHost.Backward(shape, HostMemory.Span<float>(dgy.View), HostMemory.Span<float>(hgx.View));
        Accelerator.Synchronize();
        Assert.That(Download(dy), Is.EqualTo(expectedY), "y");
        Assert.That(Download(dgx), Is.EqualTo(expectedGx), "gx: gy where the subsample read, zero elsewhere");
        Assert.That(Download(hy), Is.EqualTo(expectedY), "host y");
        Assert.That(Download(hgx), Is.EqualTo(expectedGx), "host gx");
    }

    [TestCase("ilgpu-cpu")]
    [TestCase("cpu")]
    public void SubsampleThenStride1Conv_EqualsTheStridedOneByOneConv_BitForBit(string deviceName)
    {
        using var device = Device.Create(deviceName);
        var rng = new Random(5);
        Tensor Random(params int[] shape) => Tensor.FromArray(device,
            Enumerable.Range(0, shape.Aggregate(1, (a, d) => a * d)).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), shape);
        using var x = Random(2, 3, 7, 9);
        using var weight = Random(4, 3, 1, 1);
        using var strided = Functional.Conv2d(x, weight, null, 2, 0);
        using var subsampled = Functional.Subsample(x, 2);
        using var viaSubsample = Functional.Conv2d(subsampled, weight, null, 1, 0);
        Assert.That(viaSubsample.Shape, Is.EqualTo(strided.Shape));
        Assert.That(viaSubsample.ToArray(), Is.EqualTo(strided.ToArray()));
    }
}
