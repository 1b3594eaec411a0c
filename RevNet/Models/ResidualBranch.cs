using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>
/// The residual function of a pre-activation unit, as nn.Sequential: basic = [BN-ReLU]-conv3x3-BN-ReLU-conv3x3,
/// bottleneck = [BN-ReLU]-conv1x1-BN-ReLU-conv3x3-BN-ReLU-conv1x1; the stride sits on the first 3x3. The very
/// first unit of a network omits the leading BN-ReLU (the stem has just applied it).
/// </summary>
public static class ResidualBranch
{
    /// <summary>The basic branch: [BN-ReLU]-conv3x3(<paramref name="stride"/>)-BN-ReLU-conv3x3, from <paramref name="inChannels"/> to <paramref name="outChannels"/>; the leading BN-ReLU only with <paramref name="leadingActivation"/>.</summary>
    public static Sequential Basic(int inChannels, int outChannels, int stride, bool leadingActivation)
    {
        var net = new Sequential();
        if (leadingActivation) net.Append(new BatchNorm2d(inChannels)).Append(new ReLU());
        return net.Append(new Conv2d(inChannels, outChannels, 3, stride, 1))
            .Append(new BatchNorm2d(outChannels)).Append(new ReLU())
            .Append(new Conv2d(outChannels, outChannels, 3, 1, 1));
    }

    /// <summary>The bottleneck branch: [BN-ReLU]-conv1x1-BN-ReLU-conv3x3(<paramref name="stride"/>)-BN-ReLU-conv1x1, from <paramref name="inChannels"/> through <paramref name="innerChannels"/> to <paramref name="outChannels"/>; the leading BN-ReLU only with <paramref name="leadingActivation"/>.</summary>
    public static Sequential Bottleneck(int inChannels, int innerChannels, int outChannels, int stride, bool leadingActivation)
    {
        var net = new Sequential();
        if (leadingActivation) net.Append(new BatchNorm2d(inChannels)).Append(new ReLU());
        return net.Append(new Conv2d(inChannels, innerChannels, 1))
            .Append(new BatchNorm2d(innerChannels)).Append(new ReLU())
            .Append(new Conv2d(innerChannels, innerChannels, 3, stride, 1))
            .Append(new BatchNorm2d(innerChannels)).Append(new ReLU())
            .Append(new Conv2d(innerChannels, outChannels, 1));
    }
}
