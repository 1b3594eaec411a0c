using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>The operands and sizes of one GEMM C[M,N] (=|+=) sum_k A[M,K]·B[K,N].</summary>
public readonly record struct GemmArgs<TA, TB, TC>(TA A, TB B, TC C, int M, int N, int K)
    where TA : struct where TB : struct where TC : struct, IGemmOutput;

/// <summary>
/// The one matrix multiply behind linear layers and (implicit-GEMM) convolutions. Operands are read and the
/// output written through structs, so layouts, transposes, im2col and bias live in the operand types, not here.
/// Two kernels: the register-tiled one for GPUs (<see cref="TiledKernel"/>) and the plain reference, which is the
/// oracle in tests and the CPU path. Each output element is reduced in a fixed order (k ascending within a K slice,
/// slices summed in order by <see cref="SumSlicesKernel"/>), so results have the same bits on every run.
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
    /// 2-D block tiling (siboehm's SGEMM ladder; CUTLASS's structure without warp tiles): group (X, Y, Z) computes the
    /// BlockM×BlockN tile (Y, X) of C over K slice Z, each thread one register tile of it (<typeparamref name="TRegisters"/>).
    /// A and B advance BlockK at a time through double-buffered shared memory, A stored k-major so that each thread reads
    /// its rows, like its columns of B, as consecutive floats, four per load. While the current step is multiplied the
    /// next one is already being written to the other buffer, so one barrier per step suffices. Each thread streams one
    /// line of A and one of B along K (<see cref="IKStream{TSelf}"/>): index decoding once, then counter steps.
    /// Out-of-range elements load as zeros so every thread reaches every barrier. Slice Z writes rows Z·M.. of C (the
    /// partial sums of split-K); without a split Z = 0.
    /// </summary>
    static void TiledKernel<TA, TB, TC, TTiling, TRegisters>(GemmArgs<TA, TB, TC> g, int sliceK)
        where TA : struct, IKStream<TA> where TB : struct, IKStream<TB> where TC : struct, IGemmOutput
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile
    {
        TTiling t = default;
        TRegisters acc = default;
        int blockM = t.BlockM, blockN = t.BlockN, blockK = t.BlockK, rows = acc.Rows, cols = acc.Cols;
        int threads = blockM / rows * (blockN / cols);
        var aQuads = SharedMemory.Allocate<Quad>(2 * t.BlockK * t.BlockM / 4);
        var bQuads = SharedMemory.Allocate<Quad>(2 * t.BlockK * t.BlockN / 4);
        var aTiles = aQuads.Cast<float>();
        var bTiles = bQuads.Cast<float>();

        int tid = Group.IdxX;
        int tileRow = Grid.IdxY * blockM, tileCol = Grid.IdxX * blockN;
        int kBegin = Grid.IdxZ * sliceK, kEnd = IntrinsicMath.Min(g.K, kBegin + sliceK);

        // Loader role: line i = tid % Block of A (B), at k offsets tid / Block + j·(threads / Block) within a step.
        int aLine = tid % blockM, aFirstK = tid / blockM, aStep = threads / blockM, aLoads = blockM * blockK / threads;
        int bLine = tid % blockN, bFirstK = tid / blockN, bStep = threads / blockN, bLoads = blockN * blockK / threads;
        bool aInside = tileRow + aLine < g.M, bInside = tileCol + bLine < g.N;
        var a = g.A.Seek(aInside ? tileRow + aLine : 0, kBegin + aFirstK);
        var b = g.B.Seek(bInside ? tileCol + bLine : 0, kBegin + bFirstK);
        int kA = kBegin + aFirstK, kB = kBegin + bFirstK;

        // Compute role: the register tile at rows rowOffset.., columns colOffset.. of the block tile.
        int rowOffset = tid / (blockN / cols) * rows, colOffset = tid % (blockN / cols) * cols;

        int current = 0;
        for (int k0 = kBegin - blockK; k0 < kEnd; k0 += blockK)
        {
            // The first pass only fills buffer 0; after it, each pass loads step k0 + BlockK while multiplying step k0.
            if (k0 + blockK < kEnd)
            {
                int next = k0 < kBegin ? 0 : 1 - current;
                int aBase = next * blockK * blockM + aFirstK * blockM + aLine, bBase = next * blockK * blockN + bFirstK * blockN + bLine;
                for (int j = 0; j < aLoads; j++)
                {
                    aTiles[aBase + j * aStep * blockM] = aInside && kA < kEnd ? a.Value : 0f;
                    a.Advance(aStep);
                    kA += aStep;
                }
                for (int j = 0; j < bLoads; j++)
                {
                    bTiles[bBase + j * bStep * blockN] = bInside && kB < kEnd ? b.Value : 0f;
                    b.Advance(bStep);
                    kB += bStep;
                }
            }
            if (k0 >= kBegin)
            {
                int aQuad = (current * blockK * blockM + rowOffset) / 4, bQuad = (current * blockK * blockN + colOffset) / 4;
                for (int kk = 0; kk < blockK; kk++)
                    acc.MultiplyAdd(aQuads, aQuad + kk * (blockM / 4), bQuads, bQuad + kk * (blockN / 4));
                current = 1 - current;
            }
            Group.Barrier();
        }

        int sliceRows = Grid.IdxZ * g.M;
        for (int r = 0; r < rows; r++)
        {
            int row = tileRow + rowOffset + r;
            if (row >= g.M) break;
            for (int c = 0; c < cols; c++)
            {
                int col = tileCol + colOffset + c;
                if (col < g.N) g.C.Store(sliceRows + row, col, acc.Get(r, c));
            }
        }
    }

    /// <summary>C[m, n] (as <paramref name="c"/> stores it) = Σ over slices s, in order, of partial[s, m, n] (row-major [slices·M, N]).</summary>
    static void SumSlicesKernel<TC>(ArrayView<float> partial, TC c, Index3D sizes)
        where TC : struct, IGemmOutput
    {
        int m = sizes.X, n = sizes.Y, slices = sizes.Z, plane = m * n;
        for (int idx = GridLoop.Start, end = plane, step = GridLoop.Stride; idx < end; idx += step)
        {
            float sum = 0f;
            for (int s = 0; s < slices; s++) sum += partial[s * plane + idx];
            int row = idx / n;
            c.Store(row, idx - row * n, sum);
        }
    }

    /// <summary>
    /// C[m,n] (=|+=, as <paramref name="c"/> decides) sum over kDim of A[m,k]·B[k,n], with the tiled kernel
    /// when <see cref="KernelContext.UseTiled"/>, else the reference.
    /// </summary>
    public static void Multiply<TA, TB, TC>(KernelContext k, int m, int n, int kDim, TA a, TB b, TC c)
        where TA : struct, IGemmOperand where TB : struct, IGemmOperand where TC : struct, IGemmOutput
    {
        CheckSizes(m, n, kDim);
        if (k.UseTiled)
        {
            LaunchTiled(k, new GemmArgs<RowStream<TA>, ColumnStream<TB>, TC>(new RowStream<TA>(a), new ColumnStream<TB>(b), c, m, n, kDim));
            return;
        }
        k.Load<GemmArgs<TA, TB, TC>>(ReferenceKernel)(k.GridStride((long)m * n), new GemmArgs<TA, TB, TC>(a, b, c, m, n, kDim));
    }

    /// <summary>
    /// C[m,n] (=|+=, as <paramref name="c"/> decides) sum over kDim of A[m,k]·B[k,n] with the tiled kernel, A and B
    /// given as K-streams (the convolutions' implicit-GEMM operands); <see cref="KernelContext.GemmPlanFor"/> picks the
    /// tiling and the K split.
    /// </summary>
    public static void MultiplyStreams<TA, TB, TC>(KernelContext k, int m, int n, int kDim, TA a, TB b, TC c)
        where TA : struct, IKStream<TA> where TB : struct, IKStream<TB> where TC : struct, IGemmOutput
    {
        CheckSizes(m, n, kDim);
        LaunchTiled(k, new GemmArgs<TA, TB, TC>(a, b, c, m, n, kDim));
    }

    static void CheckSizes(int m, int n, int kDim)
    {
        ShapeCheck.Positive("gemm", "m", m);
        ShapeCheck.Positive("gemm", "n", n);
        ShapeCheck.Positive("gemm", "k", kDim);
    }

    static void LaunchTiled<TA, TB, TC>(KernelContext k, GemmArgs<TA, TB, TC> g)
        where TA : struct, IKStream<TA> where TB : struct, IKStream<TB> where TC : struct, IGemmOutput
    {
        var plan = k.GemmPlanFor(g.M, g.N, g.K);
        if (plan.Slices == 1)
        {
            LaunchTile(k, plan, g);
            return;
        }
        // Split-K: slices write partial products side by side, then one pass sums them in slice order into C.
        var partial = k.Scratch((long)plan.Slices * g.M * g.N);
        LaunchTile(k, plan, new GemmArgs<TA, TB, DenseOutput<RowMajor>>(
            g.A, g.B, new DenseOutput<RowMajor>(partial, new RowMajor(g.N), OutputMode.Overwrite), g.M, g.N, g.K));
        k.Load<ArrayView<float>, TC, Index3D>(SumSlicesKernel)(k.GridStride((long)g.M * g.N), partial, g.C, new Index3D(g.M, g.N, plan.Slices));
    }

    static void LaunchTile<TA, TB, TC>(KernelContext k, GemmPlan plan, GemmArgs<TA, TB, TC> g)
        where TA : struct, IKStream<TA> where TB : struct, IKStream<TB> where TC : struct, IGemmOutput
    {
        switch (plan.Tile)
        {
            case GemmTileShape.Tile128x128: Launch<TA, TB, TC, Tile128x128, RegisterTile8x8>(k, plan, g); break;
            case GemmTileShape.Tile64x128: Launch<TA, TB, TC, Tile64x128, RegisterTile4x8>(k, plan, g); break;
            case GemmTileShape.Tile32x128: Launch<TA, TB, TC, Tile32x128, RegisterTile4x8>(k, plan, g); break;
            default: Launch<TA, TB, TC, Tile16x16, RegisterTile4x4>(k, plan, g); break;
        }
    }

    static void Launch<TA, TB, TC, TTiling, TRegisters>(KernelContext k, GemmPlan plan, GemmArgs<TA, TB, TC> g)
        where TA : struct, IKStream<TA> where TB : struct, IKStream<TB> where TC : struct, IGemmOutput
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile
    {
        var config = new KernelConfig(new Index3D(plan.BlocksN, plan.BlocksM, plan.Slices), new Index3D(GemmPlan.Threads<TTiling, TRegisters>(), 1, 1));
        k.Load<GemmArgs<TA, TB, TC>, int>(TiledKernel<TA, TB, TC, TTiling, TRegisters>)(config, g, plan.SliceK);
    }
}
