using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// The shape of a 2-D convolution: input x [N, C, H, W], weights w [K, C, KH, KW] (PyTorch layout),
/// output y [N, K, OutH, OutW]; square stride and zero padding on both axes.
/// </summary>
public readonly record struct Conv2dShape(int N, int C, int H, int W, int K, int KH, int KW, int Stride, int Pad)
{
    /// <summary>Output height: (H + 2·Pad − KH) / Stride + 1, rounded down.</summary>
    public int OutH => (H + 2 * Pad - KH) / Stride + 1;

    /// <summary>Output width: (W + 2·Pad − KW) / Stride + 1, rounded down.</summary>
    public int OutW => (W + 2 * Pad - KW) / Stride + 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="op"/> and the bad value.</summary>
    public void Validate(string op)
    {
        ShapeCheck.Positive(op, "N", N);
        ShapeCheck.Positive(op, "C", C);
        ShapeCheck.Positive(op, "H", H);
        ShapeCheck.Positive(op, "W", W);
        ShapeCheck.Positive(op, "K", K);
        ShapeCheck.Positive(op, "KH", KH);
        ShapeCheck.Positive(op, "KW", KW);
        ShapeCheck.Positive(op, "stride", Stride);
        ShapeCheck.NonNegative(op, "pad", Pad);
        if (KH > H + 2 * Pad)
            throw new ArgumentException($"{op}: kernel height {KH} exceeds padded input height {H + 2 * Pad} (H {H}, pad {Pad})");
        if (KW > W + 2 * Pad)
            throw new ArgumentException($"{op}: kernel width {KW} exceeds padded input width {W + 2 * Pad} (W {W}, pad {Pad})");
    }
}

/// <summary>
/// 2-D convolution (cross-correlation, zero padding), NCHW: x [N, C, H, W], w [K, C, KH, KW], bias [K],
/// y [N, K, OutH, OutW]. The backward needs x and w (nothing else is saved). Activation gradients are written (=),
/// parameter gradients accumulated (+=). Forms: Kernels/Ilgpu/Conv2dIlgpu.cs (direct reference kernels and the tiled
/// implicit GEMM), Kernels/Host/Conv2dHost.cs (packed, register-tiled SIMD GEMM).
/// </summary>
public abstract class Conv2dKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>y = conv2d(x, w) + bias; <paramref name="bias"/> may be empty (no bias). y is overwritten.</summary>
    public void Forward(Conv2dShape s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y)
    {
        const string op = "conv2d forward";
        s.Validate(op);
        CheckInput(op, s, "x", x);
        CheckWeight(op, s, "w", w);
        if (bias.Length != 0) ShapeCheck.Length(op, "bias", bias.Length, s.K);
        CheckOutput(op, s, "y", y);
        Enter();
        ForwardCore(s, x, w, bias, y);
    }

    /// <summary>gx = dL/dx from gy = dL/dy; gx is overwritten.</summary>
    public void BackwardInput(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx)
    {
        const string op = "conv2d backward input";
        s.Validate(op);
        CheckOutput(op, s, "gy", gy);
        CheckWeight(op, s, "w", w);
        CheckInput(op, s, "gx", gx);
        Enter();
        BackwardInputCore(s, gy, w, gx);
    }

    /// <summary>gw += dL/dw from x and gy = dL/dy.</summary>
    public void BackwardWeight(Conv2dShape s, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw)
    {
        const string op = "conv2d backward weight";
        s.Validate(op);
        CheckInput(op, s, "x", x);
        CheckOutput(op, s, "gy", gy);
        CheckWeight(op, s, "gw", gw);
        Enter();
        BackwardWeightCore(s, x, gy, gw);
    }

    /// <summary>The backend's form of <see cref="Forward"/>: arguments already checked.</summary>
    protected abstract void ForwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y);

    /// <summary>The backend's form of <see cref="BackwardInput"/>: arguments already checked.</summary>
    protected abstract void BackwardInputCore(Conv2dShape s, ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx);

    /// <summary>The backend's form of <see cref="BackwardWeight"/>: arguments already checked.</summary>
    protected abstract void BackwardWeightCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw);

    static void CheckInput(string op, Conv2dShape s, string name, ArrayView<float> v) =>
        ShapeCheck.Length(op, name, v.Length, (long)s.N * s.C * s.H * s.W);

    static void CheckWeight(string op, Conv2dShape s, string name, ArrayView<float> v) =>
        ShapeCheck.Length(op, name, v.Length, (long)s.K * s.C * s.KH * s.KW);

    static void CheckOutput(string op, Conv2dShape s, string name, ArrayView<float> v) =>
        ShapeCheck.Length(op, name, v.Length, (long)s.N * s.K * s.OutH * s.OutW);
}
