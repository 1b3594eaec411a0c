using ILGPU;
using RevNetIlgpu.Kernels.Host;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Batch norm followed by ReLU, fused: a = max(0, gamma*(x-mean)*invstd + beta) over x [N,C,H,W] with HW = H*W and
/// per-channel gamma, beta, mean, invstd [C]; M = N*H*W values per channel. Backward reads only x and the statistics:
/// it recomputes the pre-activation z = gamma*xhat + beta to mask the incoming gradient (ga where z &gt; 0), so a caller
/// needs to keep neither the normalised nor the activated tensor, and never divides by gamma (no reconstruction of x
/// from the output, hence safe for any gamma including 0). One group per channel, deterministic sums, as in
/// <see cref="BatchNormKernels"/>; gx may be the same view as ga (each element is read before it is overwritten).
/// </summary>
public static class BatchNormReluKernels
{
    /// <summary>(Kernel argument types are public: ILGPU marshals them by reflection.) Per-channel affine parameters and statistics.</summary>
    public struct Affine
    {
        public ArrayView<float> Mean, Invstd, Gamma, Beta;
        public int C, Hw;
    }

    /// <summary>Backward arguments; <c>BatchStats</c> is 1 in training mode (statistics depend on x), 0 with fixed statistics.</summary>
    public struct BackwardArgs
    {
        public Affine Affine;
        public ArrayView<float> X, Ga, Gx, GGamma, GBeta;
        public int BatchStats;
    }

    /// <summary>
    /// The ReLU's gradient mask as a factor: 1 where the pre-activation is positive, else 0, with the pre-activation computed
    /// exactly as the forward does (same operations in the same order), so the mask is the forward's bit for bit.
    /// </summary>
    public static float Active(float x, float mean, float invstd, float gamma, float beta) => gamma * (x - mean) * invstd + beta > 0f ? 1f : 0f;

    static void ForwardKernel(Affine p, ArrayView<float> x, ArrayView<float> a)
    {
        for (int i = GridLoop.Start, end = x.IntLength, step = GridLoop.Stride; i < end; i += step)
        {
            int ch = i / p.Hw % p.C;
            a[i] = IntrinsicMath.Max(p.Gamma[ch] * (x[i] - p.Mean[ch]) * p.Invstd[ch] + p.Beta[ch], 0f);
        }
    }

    static void BackwardKernel(BackwardArgs a)
    {
        var p = a.Affine;
        int ch = Grid.IdxX;
        int m = a.X.IntLength / p.C;
        float mu = p.Mean[ch], inv = p.Invstd[ch], gamma = p.Gamma[ch], beta = p.Beta[ch];
        float sumGz = 0f, sumGzXhat = 0f;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            int i = ChannelKernels.ChannelElement(ch, j, p.C, p.Hw);
            float gz = a.Ga[i] * Active(a.X[i], mu, inv, gamma, beta);
            sumGz += gz;
            sumGzXhat += gz * (a.X[i] - mu) * inv; // grouped as batch norm's own backward groups it: the same sums, bit for bit
        }
        sumGz = GroupReduction.Sum(sumGz);
        sumGzXhat = GroupReduction.Sum(sumGzXhat);
        float meanGz = a.BatchStats != 0 ? sumGz / m : 0f;
        float meanGzXhat = a.BatchStats != 0 ? sumGzXhat / m : 0f;
        float scale = gamma * inv;
        for (int j = Group.IdxX, step = Group.DimX; j < m; j += step)
        {
            int i = ChannelKernels.ChannelElement(ch, j, p.C, p.Hw);
            float xhat = (a.X[i] - mu) * inv;
            float gz = a.Ga[i] * Active(a.X[i], mu, inv, gamma, beta);
            a.Gx[i] = scale * (gz - meanGz - xhat * meanGzXhat);
        }
        if (Group.IdxX == 0)
        {
            a.GGamma[ch] += sumGzXhat;
            a.GBeta[ch] += sumGz;
        }
    }

    /// <summary>a = max(0, gamma*(x-mean)*invstd + beta) with the given statistics. a may be x.</summary>
    public static void Forward(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> a)
    {
        const string op = "batch norm relu";
        Check(op, n, c, hw, x, mean, invstd, gamma, beta);
        ShapeCheck.Length(op, "a", a.Length, x.Length);
        var p = new Affine { Mean = mean, Invstd = invstd, Gamma = gamma, Beta = beta, C = c, Hw = hw };
        if (k.DispatchToHost())
        {
            BatchNormHost.NormalizeRelu(n, c, hw, HostMemory.Span(x), HostMemory.Span(mean), HostMemory.Span(invstd), HostMemory.Span(gamma), HostMemory.Span(beta),
                HostMemory.Span(a));
            return;
        }
        k.Load<Affine, ArrayView<float>, ArrayView<float>>(ForwardKernel)(k.GridStride(x.Length), p, x, a);
    }

    /// <summary>
    /// From x and ga = dL/da: gz = ga where gamma*xhat+beta &gt; 0 else 0; then batch norm's backward on gz:
    /// gx = gamma*invstd*(gz - mean(gz) - xhat*mean(gz*xhat)) with batch statistics, gx = gamma*invstd*gz without (overwritten;
    /// may be ga itself); ggamma += Σ gz*xhat; gbeta += Σ gz.
    /// </summary>
    public static void Backward(KernelContext k, int n, int c, int hw, ArrayView<float> x, ArrayView<float> ga, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta,
        bool batchStatistics)
    {
        const string op = "batch norm relu backward";
        Check(op, n, c, hw, x, mean, invstd, gamma, beta);
        ShapeCheck.Length(op, "ga", ga.Length, x.Length);
        ShapeCheck.Length(op, "gx", gx.Length, x.Length);
        ShapeCheck.Length(op, "ggamma", ggamma.Length, c);
        ShapeCheck.Length(op, "gbeta", gbeta.Length, c);
        var args = new BackwardArgs
        {
            Affine = new Affine { Mean = mean, Invstd = invstd, Gamma = gamma, Beta = beta, C = c, Hw = hw },
            X = x, Ga = ga, Gx = gx, GGamma = ggamma, GBeta = gbeta, BatchStats = batchStatistics ? 1 : 0,
        };
        if (k.DispatchToHost())
        {
            BatchNormHost.BackwardRelu(n, c, hw, HostMemory.Span(x), HostMemory.Span(ga), HostMemory.Span(mean), HostMemory.Span(invstd), HostMemory.Span(gamma),
                HostMemory.Span(beta), HostMemory.Span(gx), HostMemory.Span(ggamma), HostMemory.Span(gbeta), batchStatistics);
            return;
        }
        k.Load<BackwardArgs>(BackwardKernel)(k.GroupPerItem(c), args);
    }

    static void Check(string op, int n, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta)
    {
        ShapeCheck.Positive(op, "n", n);
        ShapeCheck.Positive(op, "c", c);
        ShapeCheck.Positive(op, "hw", hw);
        ShapeCheck.Length(op, "x", x.Length, (long)n * c * hw);
        ShapeCheck.Length(op, "mean", mean.Length, c);
        ShapeCheck.Length(op, "invstd", invstd.Length, c);
        ShapeCheck.Length(op, "gamma", gamma.Length, c);
        ShapeCheck.Length(op, "beta", beta.Length, c);
    }
}
