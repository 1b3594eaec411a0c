using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// conv2d(relu(batchnorm(x))) with the given statistics, without writing the activation a = relu(batchnorm(x)) out: the
/// convolution reads x and normalises it as it loads it. Shapes as in <see cref="Conv2dKernels"/> (x [N, C, H, W],
/// w [K, C, KH, KW], y [N, K, OutH, OutW]) and <see cref="BatchNormReluKernels"/> (mean, invstd, gamma, beta [C]).
/// Forward writes y (=); Backward writes the convolution's input gradient ga = dL/da (=) and accumulates its weight
/// gradient (+=), the convolution's input being a, both in one call (one launch on the ILGPU backend: the direct
/// kernel's items or the two GEMMs paired; on the host, the activation is made as each image is padded). Forms:
/// Kernels/Ilgpu/BatchNormReluConv2dIlgpu.cs,
/// Kernels/Host/BatchNormReluConv2dHost.cs.
/// </summary>
public abstract class BatchNormReluConv2dKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>y = conv2d(relu(gamma·(x − mean)·invstd + beta), w) + bias; <paramref name="bias"/> may be empty.</summary>
    public void Forward(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y)
    {
        const string op = "batch norm relu conv2d";
        Check(op, s, x, mean, invstd, gamma, beta);
        ShapeCheck.Length(op, "w", w.Length, (long)s.K * s.C * s.KH * s.KW);
        if (bias.Length != 0) ShapeCheck.Length(op, "bias", bias.Length, s.K);
        ShapeCheck.Length(op, "y", y.Length, (long)s.N * s.K * s.OutH * s.OutW);
        Enter();
        ForwardCore(s, x, mean, invstd, gamma, beta, w, bias, y);
    }

    /// <summary>
    /// For y = conv2d(a, w) with a = relu(batchnorm(x)), from x and gy = dL/dy: ga = dL/da (overwritten; batch norm and
    /// ReLU's backward then turn it into dL/dx) and gw += dL/dw.
    /// </summary>
    public void Backward(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> w, ArrayView<float> gy, ArrayView<float> ga, ArrayView<float> gw)
    {
        const string op = "batch norm relu conv2d backward";
        Check(op, s, x, mean, invstd, gamma, beta);
        ShapeCheck.Length(op, "w", w.Length, (long)s.K * s.C * s.KH * s.KW);
        ShapeCheck.Length(op, "gy", gy.Length, (long)s.N * s.K * s.OutH * s.OutW);
        ShapeCheck.Length(op, "ga", ga.Length, x.Length);
        ShapeCheck.Length(op, "gw", gw.Length, (long)s.K * s.C * s.KH * s.KW);
        Enter();
        BackwardCore(s, x, mean, invstd, gamma, beta, w, gy, ga, gw);
    }

    /// <summary>The backend's forward; the arguments are already checked.</summary>
    protected abstract void ForwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y);

    /// <summary>The backend's backward; the arguments are already checked.</summary>
    protected abstract void BackwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> w, ArrayView<float> gy, ArrayView<float> ga, ArrayView<float> gw);

    static void Check(string op, Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
        ArrayView<float> beta)
    {
        s.Validate(op);
        BatchNormKernels.CheckImage(op, s.N, s.C, s.H * s.W, x, "x");
        BatchNormKernels.CheckChannels(op, s.C, mean, invstd, gamma);
        ShapeCheck.Length(op, "beta", beta.Length, s.C);
    }
}
