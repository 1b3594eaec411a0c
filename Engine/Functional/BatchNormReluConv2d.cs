using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>
    /// conv2d(relu(batchnorm2d(x))) as one op that saves only x (with mean and invstd), not the normalised or the
    /// activated tensor: backward recomputes a = relu(batchnorm(x)) with the same kernels (so the same bits) into a
    /// temporary for the convolution's weight gradient and the ReLU mask, and frees it before returning. A pre-activation
    /// unit's BN-ReLU-conv then keeps one tensor instead of three (x, the ReLU output the ReLU and the convolution would
    /// both keep being the other two), at the cost of one more normalisation pass in backward. Gradients equal those of
    /// the three separate ops bit for bit. Shapes and statistics as in <see cref="BatchNorm2d"/> and <see cref="Conv2d"/>;
    /// gradients: x (if it needs one), gamma, beta, weight, bias (+=).
    /// </summary>
    public static Tensor BatchNormReluConv2d(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor invstd, bool batchStatistics,
        Tensor weight, Tensor? bias, int stride, int padding)
    {
        const string op = "batchnorm2d-relu-conv2d";
        var (n, c, hw) = BatchNormShape(op, x, gamma, beta, mean, invstd);
        var s = ConvShape(op, x, weight, bias, stride, padding);
        var device = x.Device;
        var y = Tensor.Empty(device, s.N, s.K, s.OutH, s.OutW);
        using (var a = NormalizeRelu(x, gamma, beta, mean, invstd))
            Launch(device, k => Conv2dKernels.Forward(k, s, a.View, weight.View, bias?.View ?? default, y.View));
        device.Tape.Record(op, y, [x], [x, mean, invstd], grads =>
        {
            var gy = grads[0]!;
            using var ga = Tensor.Empty(device, x.Shape);
            using (var a = NormalizeRelu(x, gamma, beta, mean, invstd))
            {
                Launch(device, k =>
                {
                    if (weight.Grad is { } gw) Conv2dKernels.BackwardWeight(k, s, a.View, gy.View, gw.View);
                    if (bias?.Grad is { } gb) Conv2dKernels.BackwardBias(k, s, gy.View, gb.View);
                    Conv2dKernels.BackwardInput(k, s, gy.View, weight.View, ga.View);
                    ReluKernels.Backward(k, a.View, ga.View, ga.View);
                });
            }
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k =>
            {
                if (batchStatistics)
                    BatchNormKernels.Backward(k, n, c, hw, x.View, ga.View, mean.View, invstd.View, gamma.View, gx.View, gamma.Grad!.View, beta.Grad!.View);
                else
                    BatchNormKernels.BackwardEval(k, n, c, hw, x.View, ga.View, mean.View, invstd.View, gamma.View, gx.View, gamma.Grad!.View, beta.Grad!.View);
            });
            return [gx];
        }, hasParameters: weight.Grad is not null || gamma.Grad is not null);
        return y;

        static Tensor NormalizeRelu(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor invstd)
        {
            var (n, c, hw) = Nchw(x);
            var a = Tensor.Empty(x.Device, x.Shape);
            Launch(x.Device, k =>
            {
                BatchNormKernels.Normalize(k, n, c, hw, x.View, mean.View, invstd.View, gamma.View, beta.View, a.View);
                ReluKernels.Forward(k, a.View, a.View);
            });
            return a;
        }
    }
}
