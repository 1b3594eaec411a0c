using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>x [N,C,H,W] → [N,C,⌈H/s⌉,⌈W/s⌉], every stride-th row and column (what a strided 1x1 convolution reads). Saves nothing.</summary>
    public static Tensor Subsample(Tensor x, int stride)
    {
        const string op = "subsample";
        RequireRank(op, "input", x, 4);
        if (stride <= 0) throw new ArgumentException($"{op}: stride must be positive, got {stride}");
        int n = x[0], c = x[1], h = x[2], w = x[3];
        var device = x.Device;
        var y = Tensor.Empty(device, n, c, SubsampleKernels.OutputSize(h, stride), SubsampleKernels.OutputSize(w, stride));
        Launch(device, k => k.Subsample.Forward(n * c, h, w, stride, x.View, y.View));
        device.Tape.Record(op, y, [x], [], grads =>
        {
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.Subsample.Backward(n * c, h, w, stride, grads[0]!.View, gx.View));
            return [gx];
        });
        return y;
    }
}
