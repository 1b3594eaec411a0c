using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels;

/// <summary>The operands and sizes of one GEMM C[M,N] (=|+=) sum_k A[M,K]·B[K,N].</summary>
public readonly record struct GemmArgs<TA, TB, TC>(TA A, TB B, TC C, int M, int N, int K)
    where TA : struct, IGemmOperand where TB : struct, IGemmOperand where TC : struct, IGemmOutput;

/// <summary>
/// The one matrix multiply behind linear layers and (implicit-GEMM) convolutions. Operands are read and the
/// output written through structs, so layouts, transposes, im2col and bias live in the operand types, not here.
/// Two kernels over the same operands: the tiled shared-memory one for GPUs and the plain reference, which
/// is the oracle in tests and the CPU path. Both reduce each output element in one thread, k ascending, so
/// results are deterministic (and the two agree up to fused multiply-add rounding).
/// </summary>
public static class GemmKernels
{
    /// <summary>Grid-stride over outputs, one dot product per element; no shared memory, no barriers.</summary>
    static void ReferenceKernel<TA, TB, TC>(GemmArgs<TA, TB, TC> g)
        where TA : struct, IGemmOperand where TB : struct, IGemmOperand where TC : struct, IGemmOutput
    {
        int total = g.M * g.N;
        for (int idx = GridLoop.Start, end = total, step = GridLoop.Stride; idx < end; idx += step)
        {
            int row = idx / g.N, col = idx - row * g.N;
            float sum = 0f;
            for (int i = 0; i < g.K; i++) sum += g.A.Load(row, i) * g.B.Load(i, col);
            g.C.Store(row, col, sum);
        }
    }

    /// <summary>
    /// One tile×tile group per output tile (X = columns, Y = rows); A and B advance through K a tile at a
    /// time via dynamic shared memory [A tile | B tile]. Out-of-range loads are zeros so every thread reaches
    /// every barrier.
    /// </summary>
    static void TiledKernel<TA, TB, TC>(GemmArgs<TA, TB, TC> g, SpecializedValue<int> tile)
        where TA : struct, IGemmOperand where TB : struct, IGemmOperand where TC : struct, IGemmOutput
    {
        int t = tile.Value;
        var shared = SharedMemory.GetDynamic<float>();
        var aTile = shared.SubView(0, t * t);
        var bTile = shared.SubView(t * t, t * t);
        int tx = Group.IdxX, ty = Group.IdxY;
        int row = Grid.IdxY * t + ty, col = Grid.IdxX * t + tx;
        float sum = 0f;
        for (int k0 = 0; k0 < g.K; k0 += t)
        {
            aTile[ty * t + tx] = row < g.M && k0 + tx < g.K ? g.A.Load(row, k0 + tx) : 0f;
            bTile[ty * t + tx] = k0 + ty < g.K && col < g.N ? g.B.Load(k0 + ty, col) : 0f;
            Group.Barrier();
            for (int i = 0; i < t; i++) sum += aTile[ty * t + i] * bTile[i * t + tx];
            Group.Barrier();
        }
        if (row < g.M && col < g.N) g.C.Store(row, col, sum);
    }

    /// <summary>
    /// C[m,n] (=|+=, as <paramref name="c"/> decides) sum over kDim of A[m,k]·B[k,n], with the tiled kernel
    /// when <see cref="KernelContext.UseTiled"/> (tile <see cref="KernelContext.GemmTile"/>), else the reference.
    /// </summary>
    public static void Multiply<TA, TB, TC>(KernelContext k, int m, int n, int kDim, TA a, TB b, TC c)
        where TA : struct, IGemmOperand where TB : struct, IGemmOperand where TC : struct, IGemmOutput
    {
        ShapeCheck.Positive("gemm", "m", m);
        ShapeCheck.Positive("gemm", "n", n);
        ShapeCheck.Positive("gemm", "k", kDim);
        var args = new GemmArgs<TA, TB, TC>(a, b, c, m, n, kDim);
        if (k.UseTiled)
        {
            int t = k.GemmTile;
            var config = new KernelConfig(
                new Index2D((n + t - 1) / t, (m + t - 1) / t), new Index2D(t, t),
                SharedMemoryConfig.RequestDynamic<float>(2 * t * t));
            k.Load<GemmArgs<TA, TB, TC>, SpecializedValue<int>>(TiledKernel)(config, args, SpecializedValue.New(t));
        }
        else
        {
            k.Load<GemmArgs<TA, TB, TC>>(ReferenceKernel)(k.GridStride((long)m * n), args);
        }
    }
}
