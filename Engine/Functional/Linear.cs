using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>y = x wᵀ + b as nn.Linear: x [N,in], weight [out,in], bias [out], y [N,out]. Saves x.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor bias)
    {
        const string op = "linear";
        RequireRank(op, "input", x, 2);
        RequireRank(op, "weight", weight, 2);
        if (x[1] != weight[1])
            throw new ArgumentException($"{op}: input {x.ShapeString} has {x[1]} features but weight {weight.ShapeString} expects {weight[1]}");
        if (bias.Rank != 1 || bias[0] != weight[0])
            throw new ArgumentException($"{op}: bias {bias.ShapeString} must be [{weight[0]}] for weight {weight.ShapeString}");
        int n = x[0], inFeatures = x[1], outFeatures = weight[0];
        var device = x.Device;
        var y = Tensor.Empty(device, n, outFeatures);
        Launch(device, k => k.Linear.Forward(n, inFeatures, outFeatures, x.View, weight.View, bias.View, y.View));
        device.Tape.Record(op, y, [x], [x], grads =>
        {
            var gy = grads[0]!;
            Tensor? gx = null;
            if (x.RequiresGrad)
            {
                gx = Tensor.Empty(device, x.Shape);
                Launch(device, k => k.Linear.BackwardInput(n, inFeatures, outFeatures, gy.View, weight.View, gx.View));
            }
            if (weight.Grad is { } gw && bias.Grad is { } gb)
                Launch(device, k => k.Linear.BackwardParams(n, inFeatures, outFeatures, x.View, gy.View, gw.View, gb.View));
            return [gx];
        }, hasParameters: weight.Grad is not null);
        return y;
    }
}
