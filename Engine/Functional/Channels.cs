using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

public static partial class Functional
{
    /// <summary>Splits x [N,C,H,W] on channels into [N,c1,H,W] and [N,C-c1,H,W] (copies). Saves nothing.</summary>
    public static (Tensor First, Tensor Second) SplitChannels(Tensor x, int c1)
    {
        const string op = "split channels";
        RequireRank(op, "input", x, 4);
        var (n, c, hw) = Nchw(x);
        if (c1 <= 0 || c1 >= c) throw new ArgumentException($"{op}: split point {c1} must lie inside the {c} channels of {x.ShapeString}");
        var device = x.Device;
        var a = Tensor.Empty(device, n, c1, x[2], x[3]);
        var b = Tensor.Empty(device, n, c - c1, x[2], x[3]);
        Launch(device, k => k.Channels.Split(n, c, hw, c1, x.View, a.View, b.View));
        device.Tape.Record(op, [a, b], [x], [], grads =>
        {
            var ga = grads[0] ?? Tensor.Zeros(device, a.Shape);
            var gb = grads[1] ?? Tensor.Zeros(device, b.Shape);
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.Channels.Concat(n, c1, c - c1, hw, ga.View, gb.View, gx.View));
            if (grads[0] is null) ga.Release();
            if (grads[1] is null) gb.Release();
            return [gx];
        });
        return (a, b);
    }

    /// <summary>Concatenates a [N,C1,H,W] and b [N,C2,H,W] on channels. Saves nothing.</summary>
    public static Tensor ConcatChannels(Tensor a, Tensor b)
    {
        const string op = "concat channels";
        RequireRank(op, "first", a, 4);
        RequireRank(op, "second", b, 4);
        if (a[0] != b[0] || a[2] != b[2] || a[3] != b[3])
            throw new ArgumentException($"{op}: batch and spatial sizes must match, got {a.ShapeString} and {b.ShapeString}");
        var device = a.Device;
        int n = a[0], c1 = a[1], c2 = b[1], hw = a[2] * a[3];
        var y = Tensor.Empty(device, n, c1 + c2, a[2], a[3]);
        Launch(device, k => k.Channels.Concat(n, c1, c2, hw, a.View, b.View, y.View));
        device.Tape.Record(op, y, [a, b], [], grads =>
        {
            var ga = Tensor.Empty(device, a.Shape);
            var gb = Tensor.Empty(device, b.Shape);
            Launch(device, k => k.Channels.Split(n, c1 + c2, hw, c1, grads[0]!.View, ga.View, gb.View));
            return [ga, gb];
        });
        return y;
    }

    /// <summary>Zero-pads x [N,C,H,W] to [N,cOut,H,W] (new channels last): the RevNet downsampling shortcut. Saves nothing.</summary>
    public static Tensor PadChannels(Tensor x, int cOut)
    {
        const string op = "pad channels";
        RequireRank(op, "input", x, 4);
        var (n, c, hw) = Nchw(x);
        if (cOut < c) throw new ArgumentException($"{op}: cannot pad {c} channels of {x.ShapeString} down to {cOut}");
        var device = x.Device;
        var y = Tensor.Empty(device, n, cOut, x[2], x[3]);
        Launch(device, k => k.Channels.PadChannels(n, c, cOut, hw, x.View, y.View));
        device.Tape.Record(op, y, [x], [], grads =>
        {
            var gx = Tensor.Empty(device, x.Shape);
            Launch(device, k => k.Channels.PadChannelsBackward(n, c, cOut, hw, grads[0]!.View, gx.View));
            return [gx];
        });
        return y;
    }
}
