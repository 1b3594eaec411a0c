using ILGPU;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Host (SIMD C#) versions of <see cref="BatchNormReluKernels"/>, built from the host batch norm and ReLU themselves so that on
/// the host device the fused op gives the separate ops' bits: forward = <see cref="BatchNormHost.Normalize"/> then
/// <see cref="ReluHost.Forward"/> in place; backward recomputes each plane's activation into a plane-sized scratch for the
/// ReLU mask (<see cref="ReluHost.Backward"/> from ga into gx), then runs <see cref="BatchNormHost"/>'s backward in place over gx
/// (it reads each element before writing it). ga is only read, and may be gx.
/// </summary>
public static class BatchNormReluHostKernels
{
    /// <summary>a = max(0, batchnorm(x)).</summary>
    public static void Forward(BatchNormReluKernels.Affine p, ArrayView<float> x, ArrayView<float> a)
    {
        int n = (int)(x.Length / ((long)p.C * p.Hw));
        BatchNormHost.Normalize(n, p.C, p.Hw, HostMemory.Span(x), HostMemory.Span(p.Mean), HostMemory.Span(p.Invstd),
            HostMemory.Span(p.Gamma), HostMemory.Span(p.Beta), HostMemory.Span(a));
        ReluHost.Forward(HostMemory.Span(a), HostMemory.Span(a));
    }

    /// <summary>The fused backward (see <see cref="BatchNormReluKernels.Backward"/>).</summary>
    public static void Backward(BatchNormReluKernels.BackwardArgs args)
    {
        var p = args.Affine;
        int n = (int)(args.X.Length / ((long)p.C * p.Hw));
        var scratch = new float[p.Hw];
        for (int plane = 0; plane < n * p.C; plane++)
        {
            int ch = plane % p.C;
            var x = HostMemory.Span(args.X).Slice(plane * p.Hw, p.Hw);
            var ga = HostMemory.Span(args.Ga).Slice(plane * p.Hw, p.Hw);
            var gz = HostMemory.Span(args.Gx).Slice(plane * p.Hw, p.Hw);
            BatchNormHost.Normalize(1, 1, p.Hw, x, HostMemory.Span(p.Mean).Slice(ch, 1), HostMemory.Span(p.Invstd).Slice(ch, 1),
                HostMemory.Span(p.Gamma).Slice(ch, 1), HostMemory.Span(p.Beta).Slice(ch, 1), scratch);
            ReluHost.Forward(scratch, scratch);
            ReluHost.Backward(scratch, ga, gz);
        }
        if (args.BatchStats != 0)
            BatchNormHost.Backward(n, p.C, p.Hw, HostMemory.Span(args.X), HostMemory.Span(args.Gx), HostMemory.Span(p.Mean), HostMemory.Span(p.Invstd),
                HostMemory.Span(p.Gamma), HostMemory.Span(args.Gx), HostMemory.Span(args.GGamma), HostMemory.Span(args.GBeta));
        else
            BatchNormHost.BackwardEval(n, p.C, p.Hw, HostMemory.Span(args.X), HostMemory.Span(args.Gx), HostMemory.Span(p.Mean), HostMemory.Span(p.Invstd),
                HostMemory.Span(p.Gamma), HostMemory.Span(args.Gx), HostMemory.Span(args.GGamma), HostMemory.Span(args.GBeta));
    }
}
