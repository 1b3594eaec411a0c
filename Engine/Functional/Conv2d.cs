using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>
    /// 2-D convolution (cross-correlation, zero padding). x [N,C,H,W], weight [K,C,KH,KW], bias [K] or null,
    /// y [N,K,OH,OW]. Saves x for the weight gradient. Gradients: x (if it needs one), weight and bias (+=).
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, int stride, int padding)
    {
        const string op = "conv2d";
        var s = ConvShape(op, x, weight, bias, stride, padding);
        var device = x.Device;
        device.OnConv2dForward(s);
        var y = Tensor.Empty(device, s.N, s.K, s.OutH, s.OutW);
        Launch(device, k => k.Conv2d.Forward(s, x.View, weight.View, bias?.View ?? default, y.View));
        device.Tape.Record(op, y, [x], [x], grads =>
        {
            var gy = grads[0]!;
            Tensor? gx = null;
            if (x.RequiresGrad)
            {
                gx = Tensor.Empty(device, x.Shape);
                Launch(device, k => k.Conv2d.BackwardInput(s, gy.View, weight.View, gx.View));
            }
            if (weight.Grad is { } gw) Launch(device, k => k.Conv2d.BackwardWeight(s, x.View, gy.View, gw.View));
            if (bias?.Grad is { } gb) Launch(device, k => k.Channels.AccumulatePerChannel(s.N, s.K, s.OutH * s.OutW, gy.View, gb.View));
            return [gx];
        }, hasParameters: weight.Grad is not null);
        return y;
    }

    /// <summary>The checked shape of a convolution of x [N,C,H,W] by weight [K,C,KH,KW] with optional bias [K].</summary>
    static Conv2dShape ConvShape(string op, Tensor x, Tensor weight, Tensor? bias, int stride, int padding)
    {
        RequireRank(op, "input", x, 4);
        RequireRank(op, "weight", weight, 4);
        if (weight[1] != x[1])
            throw new ArgumentException($"{op}: input {x.ShapeString} has {x[1]} channels but weight {weight.ShapeString} expects {weight[1]}");
        if (bias is not null && (bias.Rank != 1 || bias[0] != weight[0]))
            throw new ArgumentException($"{op}: bias {bias.ShapeString} must be [{weight[0]}] for weight {weight.ShapeString}");
        var s = new Conv2dShape(x[0], x[1], x[2], x[3], weight[0], weight[2], weight[3], stride, padding);
        s.Validate(op);
        return s;
    }
}
