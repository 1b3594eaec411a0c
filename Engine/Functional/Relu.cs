using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>y = max(x, 0), any shape. Saves its output (positive exactly where x is), not its input.</summary>
    public static Tensor Relu(Tensor x)
    {
        var device = x.Device;
        var y = Tensor.Empty(device, x.Shape);
        Launch(device, k => k.Elementwise.Map(new ReluOp(), x.View, y.View));
        device.Tape.Record("relu", y, [x], [y], grads =>
        {
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.Elementwise.Zip(new ReluBackwardOp(), y.View, grads[0]!.View, gx.View));
            return [gx];
        });
        return y;
    }
}
