using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// conv2d(relu(batchnorm(x))) with the given statistics, without writing the activation a = relu(batchnorm(x)) out: the
/// convolution reads x and normalises it as it loads it. Shapes as in <see cref="Conv2dKernels"/> (x [N, C, H, W],
/// w [K, C, KH, KW], y [N, K, OutH, OutW]) and <see cref="BatchNormReluKernels"/> (mean, invstd, gamma, beta [C]).
/// Forward writes y (=); BackwardWeight accumulates the weight gradient (+=), the convolution's input being a. (The input
/// gradient of the convolution does not depend on a: <see cref="Conv2dKernels.BackwardInput"/>.) A form may use
/// <c>workspace</c>, a scratch view of x's length, for a: the host form normalises into it and runs its convolution; the
/// ILGPU forms leave it untouched. Forms: Kernels/Ilgpu/BatchNormReluConv2dIlgpu.cs, Kernels/Host/BatchNormReluConv2dHost.cs.
/// </summary>
public abstract class BatchNormReluConv2dKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>y = conv2d(relu(gamma·(x − mean)·invstd + beta), w) + bias; <paramref name="bias"/> may be empty.</summary>
    public void Forward(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> w, ArrayView<float> bias, ArrayView<float> workspace, ArrayView<float> y)
    {
        const string op = "batch norm relu conv2d";
        Check(op, s, x, mean, invstd, gamma, beta, workspace);
        ShapeCheck.Length(op, "w", w.Length, (long)s.K * s.C * s.KH * s.KW);
        if (bias.Length != 0) ShapeCheck.Length(op, "bias", bias.Length, s.K);
        ShapeCheck.Length(op, "y", y.Length, (long)s.N * s.K * s.OutH * s.OutW);
        Enter();
        ForwardCore(s, x, mean, invstd, gamma, beta, w, bias, workspace, y);
    }

    /// <summary>gw += dL/dw of y = conv2d(relu(batchnorm(x)), w), from x and gy = dL/dy.</summary>
    public void BackwardWeight(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> gy, ArrayView<float> workspace, ArrayView<float> gw)
    {
        const string op = "batch norm relu conv2d backward weight";
        Check(op, s, x, mean, invstd, gamma, beta, workspace);
        ShapeCheck.Length(op, "gy", gy.Length, (long)s.N * s.K * s.OutH * s.OutW);
        ShapeCheck.Length(op, "gw", gw.Length, (long)s.K * s.C * s.KH * s.KW);
        Enter();
        BackwardWeightCore(s, x, mean, invstd, gamma, beta, gy, workspace, gw);
    }

    protected abstract void ForwardCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> workspace, ArrayView<float> y);

    protected abstract void BackwardWeightCore(Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> gy, ArrayView<float> workspace, ArrayView<float> gw);

    static void Check(string op, Conv2dShape s, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> workspace)
    {
        s.Validate(op);
        BatchNormKernels.CheckImage(op, s.N, s.C, s.H * s.W, x, "x");
        BatchNormKernels.CheckChannels(op, s.C, mean, invstd, gamma);
        ShapeCheck.Length(op, "beta", beta.Length, s.C);
        ShapeCheck.Length(op, "workspace", workspace.Length, x.Length);
    }
}
