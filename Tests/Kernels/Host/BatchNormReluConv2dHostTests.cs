using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels.Host;

/// <summary>
/// The host's fused batch-norm-ReLU-convolution, which applies the activation as each image is padded, gives the bits of
/// the separate ops (normalise and ReLU into a buffer, then convolve it) under every convolution setting: a reconstructing
/// network's recomputed forward must repeat its stored forward exactly.
/// </summary>
public class BatchNormReluConv2dHostTests : GemmTestBase
{
    /// <summary>32 wide (in place), 28 and 7 wide (packed panels; Winograd under auto and fastest), 8x8, and stride 2.</summary>
    static readonly Conv2dShape[] Shapes =
    {
        new(N: 3, C: 16, H: 32, W: 32, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 2, C: 8, H: 28, W: 28, K: 12, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 5, C: 17, H: 7, W: 7, K: 9, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 3, C: 24, H: 8, W: 8, K: 24, KH: 3, KW: 3, Stride: 1, Pad: 1),
        new(N: 2, C: 6, H: 16, W: 16, K: 10, KH: 3, KW: 3, Stride: 2, Pad: 1),
    };

    static IEnumerable<TestCaseData> Cases() =>
        from s in Shapes from setting in Enum.GetValues<ConvAlgorithmSetting>() select new TestCaseData(s, setting);

    [TearDown]
    public void RestoreSetting() => HostConvAlgorithm.Active = ConvAlgorithmSetting.Auto;

    [TestCaseSource(nameof(Cases))]
    public void Fused_GivesTheBitsOfTheSeparateOps(Conv2dShape s, ConvAlgorithmSetting setting)
    {
        HostConvAlgorithm.Active = setting;
        int xLength = s.N * s.C * s.H * s.W, yLength = s.N * s.K * s.OutH * s.OutW;
        var x = RandomArray(xLength);
        var (mean, invstd, gamma, beta) = (RandomArray(s.C, 0.3f), RandomArray(s.C).Select(v => 1.5f + v).ToArray(), RandomArray(s.C), RandomArray(s.C, 0.5f));
        var (w, bias, gy) = (RandomArray(s.K * s.C * 9), RandomArray(s.K), RandomArray(yLength));

        var activation = new float[xLength];
        BatchNormHost.NormalizeRelu(s.N, s.C, s.H * s.W, x, mean, invstd, gamma, beta, activation);
        var (ySeparate, gwSeparate) = (new float[yLength], RandomArray(w.Length));
        var gwFused = (float[])gwSeparate.Clone();
        Conv2dHost.Forward(s, activation, w, bias, ySeparate);
        Conv2dHost.BackwardWeight(s, activation, gy, gwSeparate);

        var (yFused, ga) = (new float[yLength], new float[xLength]);
        BatchNormReluConv2dHost.Forward(s, x, mean, invstd, gamma, beta, w, bias, yFused);
        BatchNormReluConv2dHost.Backward(s, x, mean, invstd, gamma, beta, w, gy, ga, gwFused);
        var gaSeparate = new float[xLength];
        Conv2dHost.BackwardInput(s, gy, w, gaSeparate);

        Assert.That(yFused, Is.EqualTo(ySeparate).AsCollection, "forward");
        Assert.That(gwFused, Is.EqualTo(gwSeparate).AsCollection, "weight gradient");
        Assert.That(ga, Is.EqualTo(gaSeparate).AsCollection, "activation gradient");
    }
}
