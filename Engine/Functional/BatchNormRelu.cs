using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>
    /// relu(batchnorm2d(x)) as one op that saves only x (with mean and invstd): forward is one fused pass
    /// (<see cref="BatchNormReluKernels"/>, the same bits as the two ops one after the other), and backward takes the ReLU's
    /// mask from x itself, so neither the normalised nor the activated tensor is kept, and the ReLU's and the batch norm's
    /// backwards are one launch. For a BN-ReLU that does not feed a convolution (a network's stem and head); the one that
    /// does goes through <see cref="BatchNormReluConv2d"/>. Shapes and statistics as in <see cref="BatchNorm2d"/>;
    /// gradients: x, gamma (+=), beta (+=).
    /// </summary>
    public static Tensor BatchNormRelu(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor invstd, bool batchStatistics)
    {
        const string op = "batchnorm2d-relu";
        var (n, c, hw) = BatchNormShape(op, x, gamma, beta, mean, invstd);
        var device = x.Device;
        var a = Tensor.Empty(device, x.Shape);
        Launch(device, k => k.BatchNormRelu.Forward(n, c, hw, x.View, mean.View, invstd.View, gamma.View, beta.View, a.View));
        device.Tape.Record(op, a, [x], [x, mean, invstd], grads =>
        {
            var ga = grads[0]!;
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.BatchNormRelu.Backward(n, c, hw, x.View, ga.View, mean.View, invstd.View, gamma.View, beta.View, gx.View,
                gamma.Grad!.View, beta.Grad!.View, batchStatistics));
            return [gx];
        }, hasParameters: gamma.Grad is not null);
        return a;
    }
}
