using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The ILGPU form of <see cref="BatchNormReluKernels"/>: a = max(0, gamma*(x-mean)*invstd + beta) over x [N,C,H,W] with
/// HW = H*W and per-channel gamma, beta, mean, invstd [C]; M = N*H*W values per channel. Backward reads only x and the statistics:
/// it recomputes the pre-activation z = gamma*xhat + beta to mask the incoming gradient (ga where z &gt; 0), so a caller
/// needs to keep neither the normalised nor the activated tensor, and never divides by gamma (no reconstruction of x
/// from the output, hence safe for any gamma including 0). One group per channel, deterministic sums, as in
/// <see cref="BatchNormIlgpu"/>; gx may be the same view as ga (each element is read before it is overwritten).
/// </summary>
public static class BatchNormReluIlgpu
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
            int i = ChannelIlgpu.ChannelElement(ch, j, p.C, p.Hw);
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
            int i = ChannelIlgpu.ChannelElement(ch, j, p.C, p.Hw);
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

    internal static void Forward(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invstd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> a)
    {
        var p = new Affine { Mean = mean, Invstd = invstd, Gamma = gamma, Beta = beta, C = c, Hw = hw };
        k.Load<Affine, ArrayView<float>, ArrayView<float>>(ForwardKernel)(k.GridStride(x.Length), p, x, a);
    }

    internal static void Backward(KernelContext k, int c, int hw, ArrayView<float> x, ArrayView<float> ga, ArrayView<float> mean,
        ArrayView<float> invstd, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> gx, ArrayView<float> ggamma, ArrayView<float> gbeta,
        bool batchStatistics)
    {
        var args = new BackwardArgs
        {
            Affine = new Affine { Mean = mean, Invstd = invstd, Gamma = gamma, Beta = beta, C = c, Hw = hw },
            X = x, Ga = ga, Gx = gx, GGamma = ggamma, GBeta = gbeta, BatchStats = batchStatistics ? 1 : 0,
        };
        k.Load<BackwardArgs>(BackwardKernel)(k.GroupPerItem(c), args);
    }
}
