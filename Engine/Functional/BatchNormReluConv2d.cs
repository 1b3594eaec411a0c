using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>
    /// conv2d(relu(batchnorm2d(x))) as one op that saves only x (with mean and invstd), not the normalised or the
    /// activated tensor: the convolution and its weight gradient read a = relu(batchnorm(x)) through
    /// <see cref="BatchNormReluConv2dKernels"/>, which normalises x as it loads it (GPU and ILGPU forms) or pads it (host
    /// form), and the fused batch-norm-ReLU backward takes the mask from x itself (<see cref="BatchNormReluKernels"/>;
    /// no division by gamma). A pre-activation unit's BN-ReLU-conv then keeps one tensor instead of three (x, and the
    /// activation both the ReLU and the convolution would keep, plus the batch norm's output). Shapes and statistics as in <see cref="BatchNorm2d"/> and
    /// <see cref="Conv2d"/>; gradients: x, gamma, beta, weight, bias (+=).
    /// </summary>
    public static Tensor BatchNormReluConv2d(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor invstd, bool batchStatistics,
        Tensor weight, Tensor? bias, int stride, int padding)
    {
        const string op = "batchnorm2d-relu-conv2d";
        var (n, c, hw) = BatchNormShape(op, x, gamma, beta, mean, invstd);
        var s = ConvShape(op, x, weight, bias, stride, padding);
        var device = x.Device;
        device.OnConv2dForward(s);
        var y = Tensor.Empty(device, s.N, s.K, s.OutH, s.OutW);
        Launch(device, k => k.BatchNormReluConv2d.Forward(s, x.View, mean.View, invstd.View, gamma.View, beta.View, weight.View, bias?.View ?? default, y.View));
        device.Tape.Record(op, y, [x], [x, mean, invstd], grads =>
        {
            var gy = grads[0]!;
            if (bias?.Grad is { } gb) Launch(device, k => k.Channels.AccumulatePerChannel(s.N, s.K, s.OutH * s.OutW, gy.View, gb.View));
            // dL/da (and dL/dw in the same call), then batch norm + ReLU's backward in place over it: it becomes dL/dx.
            var g = Tensor.Empty(device, x.Shape);
            if (weight.Grad is { } gw)
                Launch(device, k => k.BatchNormReluConv2d.Backward(s, x.View, mean.View, invstd.View, gamma.View, beta.View, weight.View, gy.View, g.View, gw.View));
            else Launch(device, k => k.Conv2d.BackwardInput(s, gy.View, weight.View, g.View));
            Launch(device, k => k.BatchNormRelu.Backward(n, c, hw, x.View, g.View, mean.View, invstd.View, gamma.View, beta.View, g.View,
                gamma.Grad!.View, beta.Grad!.View, batchStatistics));
            return [g];
        }, hasParameters: weight.Grad is not null || gamma.Grad is not null);
        return y;
    }
}
