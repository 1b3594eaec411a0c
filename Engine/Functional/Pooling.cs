using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>2x2 average pool, stride 2: x [N,C,H,W] → [N,C,H/2,W/2] (floor), or ⌈H/2⌉x⌈W/2⌉ with
    /// <paramref name="ceil"/> (as if zero-padded to even size). Saves nothing.</summary>
    public static Tensor AvgPool2x2(Tensor x, bool ceil = false) => AvgPool2x2PadChannels(x, x.Rank == 4 ? x[1] : 0, ceil);

    /// <summary>
    /// <see cref="AvgPool2x2"/> then zero channels appended up to <paramref name="cOut"/> (the RevNet downsampling
    /// shortcut; PadChannels(AvgPool2x2(x)) in one launch each way, with no pooled intermediate). Saves nothing.
    /// </summary>
    public static Tensor AvgPool2x2PadChannels(Tensor x, int cOut, bool ceil = false)
    {
        const string op = "avg pool 2x2";
        RequireRank(op, "input", x, 4);
        int n = x[0], c = x[1], h = x[2], w = x[3];
        if (h < 2 || w < 2) throw new ArgumentException($"{op}: input {x.ShapeString} is smaller than the 2x2 window");
        if (cOut < c) throw new ArgumentException($"{op}: cannot pad {c} channels of {x.ShapeString} down to {cOut}");
        var device = x.Device;
        var o = PoolKernels.AvgPool2x2OutputSize(h, w, ceil);
        var y = Tensor.Empty(device, n, cOut, o.X, o.Y);
        Launch(device, k => k.Pool.AvgPool2x2PadChannelsForward(n, c, cOut, h, w, x.View, y.View, ceil));
        device.Tape.Record(op, y, [x], [], grads =>
        {
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.Pool.AvgPool2x2PadChannelsBackward(n, c, cOut, h, w, grads[0]!.View, gx.View, ceil));
            return [gx];
        });
        return y;
    }

    /// <summary>Mean over H and W: x [N,C,H,W] → [N,C]. Saves nothing.</summary>
    public static Tensor GlobalAvgPool(Tensor x)
    {
        const string op = "global avg pool";
        RequireRank(op, "input", x, 4);
        var (n, c, hw) = Nchw(x);
        var device = x.Device;
        var y = Tensor.Empty(device, n, c);
        Launch(device, k => k.Pool.GlobalAvgPoolForward(n, c, hw, x.View, y.View));
        device.Tape.Record(op, y, [x], [], grads =>
        {
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.Pool.GlobalAvgPoolBackward(n, c, hw, grads[0]!.View, gx.View));
            return [gx];
        });
        return y;
    }
}
