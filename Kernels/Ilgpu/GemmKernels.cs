using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>The operands and sizes of one GEMM C[M,N] (=|+=) sum_k A[M,K]·B[K,N].</summary>
internal readonly record struct GemmArgs<TA, TB, TC>(TA A, TB B, TC C, int M, int N, int K)
    where TA : struct where TB : struct where TC : struct, IGemmOutput;

/// <summary>
/// How a tiled launch splits K: slice z covers [z·SliceK, (z+1)·SliceK). With more than one slice each group writes its
/// partial tile to <c>Partial</c> ([Slices·M, N]) and counts itself in <c>Arrived</c> (one counter per tile of C, zero
/// between launches); the tile's last group sums the slices in slice order into C and resets its counter.
/// </summary>
internal struct GemmSplit
{
    public int Slices, SliceK;

    /// <summary>Tiles of C across N and down M; <see cref="Groups"/> = BlocksN · BlocksM · Slices.</summary>
    public int BlocksN, BlocksM, Groups;

    public ArrayView<float> Partial;
    public ArrayView<int> Arrived;
}

/// <summary>
/// One GEMM whose operand loaders depend on the tiling (their tile sides are type arguments): it builds them for the
/// tiling a plan chose and launches <see cref="GemmKernels"/>' tiled kernel with them. Convolutions and linear layers
/// describe their GEMMs this way, so that the tiling is chosen at run time while every loader stays a compile-time type.
/// </summary>
internal interface IGemmProblem
{
    int M { get; }

    int N { get; }

    int K { get; }

    /// <summary>K per step the loaders need (a multiple of 3 for triplet loaders, of 9 for weight taps, of 4 for 16-byte words along K).</summary>
    int BlockK { get; }

    /// <summary>Bytes the GEMM must move at least (see <see cref="LaunchCost"/>).</summary>
    long Bytes { get; }

    /// <summary>What it computes, for launch lists, e.g. "conv forward 16→16 3x3/1 32x32 (M 16, N 131072, K 144)".</summary>
    string Shape { get; }

    /// <summary>True when this GEMM's loaders, built for <typeparamref name="TTiling"/>, fit their register slots.</summary>
    bool Fits<TTiling>() where TTiling : struct, IGemmTiling;

    /// <summary>Builds the operands (loaders and output) for <typeparamref name="TTiling"/> and hands them to <paramref name="next"/>.</summary>
    void Build<TTiling, TRegisters, TNext>(KernelContext k, GemmPlan plan, TNext next)
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation;
}

/// <summary>What happens to a GEMM once its operands are built for a tiling: launched alone, or kept for a pair launch.</summary>
internal interface IGemmContinuation
{
    void With<TA, TB, TC, TTiling, TRegisters, TDepth>(KernelContext k, GemmPlan plan, GemmArgs<TA, TB, TC> g, long bytes, string shape)
        where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> where TC : struct, IGemmOutput
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth;
}

/// <summary>
/// The one matrix multiply behind linear layers and (implicit-GEMM) convolutions. Operands reach it through loaders
/// (<see cref="ITileLoader{TSelf}"/>) and the output through <see cref="IGemmOutput"/>, so layouts, transposes, im2col,
/// fused normalisation and bias live in those types, not here. Two kernels: the register-tiled one for GPUs
/// (<see cref="TiledKernel"/>) and the plain reference, which is the oracle in tests and the CPU path. Each output element is
/// reduced in a fixed order (k ascending within a K slice, slices summed in slice order), so results have the same bits on every run.
/// </summary>
internal static class GemmKernels
{
    /// <summary>Grid-stride over outputs, one dot product per element; no shared memory, no barriers.</summary>
    static void ReferenceKernel<TA, TB, TC>(GemmArgs<TA, TB, TC> g)
        where TA : struct, IGemmOperand where TB : struct, IGemmOperand where TC : struct, IGemmOutput
    {
        var at = Odometer.OfThread(g.N);
        for (int idx = GridLoop.Start, end = g.M * g.N, step = GridLoop.Stride; idx < end; idx += step, at.Advance())
        {
            int row = at.D1, col = at.D0;
            float sum = 0f;
            for (int i = 0; i < g.K; i++) sum += g.A.Load(row, i) * g.B.Load(i, col);
            g.C.Store(row, col, sum);
        }
    }

    /// <summary>
    /// The GPU kernel (siboehm's SGEMM ladder to its last rungs; CUTLASS's threadblock / warp / thread tiles): group
    /// (X, Y, Z) computes the BlockM×BlockN tile (Y, X) of C over K slice Z (<see cref="Tile"/>).
    /// </summary>
    static void TiledKernel<TA, TB, TC, TTiling, TRegisters, TDepth>(GemmArgs<TA, TB, TC> g, GemmSplit split)
        where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> where TC : struct, IGemmOutput
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth
    {
        var aQuads = SharedMemory.Allocate<Quad>(2 * default(TDepth).BlockK * default(TTiling).BlockM / 4);
        var bQuads = SharedMemory.Allocate<Quad>(2 * default(TDepth).BlockK * default(TTiling).BlockN / 4);
        var flag = SharedMemory.Allocate<int>(1);
        Tile<TA, TB, TC, TTiling, TRegisters, TDepth>(g, split, Grid.IdxX, Grid.IdxY, Grid.IdxZ, true, aQuads, bQuads, flag);
    }

    /// <summary>
    /// Two independent GEMMs in one launch (a convolution's input and weight gradients): groups [0, first.Groups) run
    /// tiles of the first, the rest tiles of the second, each with its own tiling and loaders. The group is as large as
    /// the larger tiling; a group of the smaller one leaves its extra warps idle at the barriers. The shared buffers of
    /// the two tilings overlay one allocation.
    /// </summary>
    static void PairKernel<TA1, TB1, TC1, TT1, TR1, TD1, TA2, TB2, TC2, TT2, TR2, TD2>(
        GemmArgs<TA1, TB1, TC1> first, GemmSplit firstSplit, GemmArgs<TA2, TB2, TC2> second, GemmSplit secondSplit)
        where TA1 : struct, ITileLoader<TA1> where TB1 : struct, ITileLoader<TB1> where TC1 : struct, IGemmOutput
        where TT1 : struct, IGemmTiling where TR1 : struct, IRegisterTile where TD1 : struct, IGemmDepth
        where TA2 : struct, ITileLoader<TA2> where TB2 : struct, ITileLoader<TB2> where TC2 : struct, IGemmOutput
        where TT2 : struct, IGemmTiling where TR2 : struct, IRegisterTile where TD2 : struct, IGemmDepth
    {
        var shared = SharedMemory.Allocate<Quad>(IntrinsicMath.Max(
            2 * default(TD1).BlockK * (default(TT1).BlockM + default(TT1).BlockN) / 4,
            2 * default(TD2).BlockK * (default(TT2).BlockM + default(TT2).BlockN) / 4));
        var flag = SharedMemory.Allocate<int>(1);
        int block = Grid.IdxX, tid = Group.IdxX;
        if (block < firstSplit.Groups)
        {
            int aWords = 2 * default(TD1).BlockK * default(TT1).BlockM / 4;
            Tile<TA1, TB1, TC1, TT1, TR1, TD1>(first, firstSplit, block % firstSplit.BlocksN, block / firstSplit.BlocksN % firstSplit.BlocksM,
                block / (firstSplit.BlocksN * firstSplit.BlocksM), tid < Threads<TT1>(), shared.SubView(0, aWords),
                shared.SubView(aWords, 2 * default(TD1).BlockK * default(TT1).BlockN / 4), flag);
        }
        else
        {
            block -= firstSplit.Groups;
            int aWords = 2 * default(TD2).BlockK * default(TT2).BlockM / 4;
            Tile<TA2, TB2, TC2, TT2, TR2, TD2>(second, secondSplit, block % secondSplit.BlocksN, block / secondSplit.BlocksN % secondSplit.BlocksM,
                block / (secondSplit.BlocksN * secondSplit.BlocksM), tid < Threads<TT2>(), shared.SubView(0, aWords),
                shared.SubView(aWords, 2 * default(TD2).BlockK * default(TT2).BlockN / 4), flag);
        }
    }

    /// <summary>Threads a tiling runs: one per register tile.</summary>
    static int Threads<TTiling>() where TTiling : struct, IGemmTiling =>
        default(TTiling).BlockM / default(TTiling).ThreadRows * (default(TTiling).BlockN / default(TTiling).ThreadCols);

    /// <summary>
    /// Tile (<paramref name="bx"/>, <paramref name="by"/>) of C over K slice <paramref name="bz"/>. Each K step of BlockK
    /// is fetched from global memory into registers (16-byte words where the loaders can) while the previous step is
    /// multiplied out of shared memory, then stashed into the other of two shared buffers, one barrier per step. The
    /// multiply is unrolled over the step (ILGPU does not unroll loops): per k, each thread reads its A and B fragments as
    /// 16-byte words laid out by the warp tiling (conflict-free) and adds their outer product to its register tile.
    /// Out-of-range elements load as zeros. Threads with <paramref name="member"/> false (a pair launch's extra warps)
    /// only meet the barriers. With several K slices each group writes its partial tile and the tile's last group to
    /// arrive adds the slices in slice order into C.
    /// </summary>
    static void Tile<TA, TB, TC, TTiling, TRegisters, TDepth>(GemmArgs<TA, TB, TC> g, GemmSplit split, int bx, int by, int bz, bool member,
        ArrayView<Quad> aQuads, ArrayView<Quad> bQuads, ArrayView<int> flag)
        where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> where TC : struct, IGemmOutput
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth
    {
        TTiling t = default;
        int bm = t.BlockM, bn = t.BlockN, bk = default(TDepth).BlockK, threads = Threads<TTiling>();
        var aTile = aQuads.Cast<float>();
        var bTile = bQuads.Cast<float>();

        int tid = Group.IdxX;
        int tileRow = by * bm, tileCol = bx * bn;
        int kBegin = bz * split.SliceK, kEnd = IntrinsicMath.Min(g.K, kBegin + split.SliceK);
        var a = g.A;
        var b = g.B;
        if (member)
        {
            a = a.Start(tileRow, kBegin, kEnd, tid);
            b = b.Start(tileCol, kBegin, kEnd, tid);
        }
        if (default(TB).StagedWords(1) > 0)
        {
            // Floats seen as words: ILGPU's OpenCL backend cannot size a dynamic array of a struct type.
            if (member) b.Stage(SharedMemory.GetDynamic<float>().Cast<Quad>(), tid, threads);
            Group.Barrier();
        }

        // The warp tiling: this thread's first A fragment starts at row quad rowQuad of a k-row, its first B fragment at column quad colQuad.
        int lanesN = t.LanesN, lanesM = t.WarpThreads / lanesN;
        int warpRows = lanesM * t.ThreadRows, warpCols = lanesN * t.ThreadCols, warpsN = bn / warpCols;
        int warp = tid / t.WarpThreads, lane = tid - warp * t.WarpThreads;
        int rowQuad = (warp / warpsN * warpRows + lane / lanesN * 4) / 4;
        int colQuad = (warp % warpsN * warpCols + lane % lanesN * 4) / 4;

        if (member)
        {
            a.Fetch();
            b.Fetch();
            a.Stash(aTile, 0);
            b.Stash(bTile, 0);
        }
        Group.Barrier();

        TRegisters acc = default;
        int buffer = 0;
        for (int k0 = kBegin; k0 < kEnd; k0 += bk)
        {
            if (member)
            {
                bool more = k0 + bk < kEnd;
                if (more)
                {
                    a.Fetch();
                    b.Fetch();
                }
                acc = MultiplyStep<TTiling, TRegisters, TDepth>(acc, aQuads, bQuads, buffer * (bk * bm / 4) + rowQuad, buffer * (bk * bn / 4) + colQuad);
                if (more)
                {
                    a.Stash(aTile, (1 - buffer) * bk * bm);
                    b.Stash(bTile, (1 - buffer) * bk * bn);
                }
            }
            Group.Barrier();
            buffer = 1 - buffer;
        }

        int row0 = tileRow + rowQuad * 4, col0 = tileCol + colQuad * 4;
        if (split.Slices == 1)
        {
            if (member) StoreTile(acc, g.C, row0, col0, lanesM * 4, lanesN * 4, g.M, g.N, 0);
            return;
        }
        // Split-K: this slice's partial tile (rows Z·M.. of the partials), then the tile's last group to arrive adds the slices in order into C.
        if (member) StoreTile(acc, new DenseOutput<RowMajor>(split.Partial, new RowMajor(g.N), OutputMode.Overwrite), row0, col0, lanesM * 4, lanesN * 4, g.M, g.N, bz * g.M);
        MemoryFence.DeviceLevel();
        Group.Barrier();
        int tileIndex = by * split.BlocksN + bx;
        if (tid == 0) flag[0] = Atomic.Add(ref split.Arrived[tileIndex], 1) == split.Slices - 1 ? 1 : 0;
        Group.Barrier();
        if (flag[0] == 0) return;
        MemoryFence.DeviceLevel();
        if (tid == 0) split.Arrived[tileIndex] = 0;
        if (member) SumSlices<TTiling, TC>(g.C, split, row0, col0, lanesM * 4, lanesN * 4, g.M, g.N);
    }

    /// <summary>
    /// One shared-memory step: BlockK multiply-adds of the thread's fragments, unrolled by constant guards (each guard on a
    /// compile-time BlockK folds away, leaving straight-line code). <paramref name="aAt"/>, <paramref name="bAt"/>: the
    /// thread's first fragment words in k-row 0 of the current buffers.
    /// </summary>
    static TRegisters MultiplyStep<TTiling, TRegisters, TDepth>(TRegisters acc, ArrayView<Quad> a, ArrayView<Quad> b, int aAt, int bAt)
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth
    {
        int bk = default(TDepth).BlockK;
        if (bk > 0) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 0);
        if (bk > 1) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 1);
        if (bk > 2) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 2);
        if (bk > 3) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 3);
        if (bk > 4) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 4);
        if (bk > 5) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 5);
        if (bk > 6) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 6);
        if (bk > 7) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 7);
        if (bk > 8) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 8);
        if (bk > 9) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 9);
        if (bk > 10) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 10);
        if (bk > 11) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 11);
        if (bk > 12) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 12);
        if (bk > 13) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 13);
        if (bk > 14) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 14);
        if (bk > 15) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 15);
        if (bk > 16) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 16);
        if (bk > 17) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 17);
        if (bk > 18) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 18);
        if (bk > 19) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 19);
        if (bk > 20) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 20);
        if (bk > 21) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 21);
        if (bk > 22) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 22);
        if (bk > 23) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 23);
        if (bk > 24) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 24);
        if (bk > 25) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 25);
        if (bk > 26) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 26);
        if (bk > 27) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 27);
        if (bk > 28) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 28);
        if (bk > 29) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 29);
        if (bk > 30) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 30);
        if (bk > 31) acc = MultiplyAdd<TTiling, TRegisters>(acc, a, b, aAt, bAt, 31);
        return acc;
    }

    /// <summary>Depth the unrolled step covers at most (<see cref="MultiplyStep"/>'s guards).</summary>
    public const int MaxBlockK = 32;

    static TRegisters MultiplyAdd<TTiling, TRegisters>(TRegisters acc, ArrayView<Quad> a, ArrayView<Quad> b, int aAt, int bAt, int kk)
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile
    {
        TTiling t = default;
        int lanesN = t.LanesN, lanesM = t.WarpThreads / lanesN;
        int aRow = aAt + kk * (t.BlockM / 4), bRow = bAt + kk * (t.BlockN / 4);
        var a0 = a[aRow];
        var a1 = t.ThreadRows > 4 ? a[aRow + lanesM] : default;
        var b0 = b[bRow];
        var b1 = t.ThreadCols > 4 ? b[bRow + lanesN] : default;
        acc.MultiplyAdd(a0, a1, b0, b1);
        return acc;
    }

    /// <summary>
    /// Writes the register tile: fragment rows start at <paramref name="row0"/> and step <paramref name="rowSpacing"/>
    /// between the two 4-row fragments; columns likewise; rows of C land <paramref name="rowOffset"/> rows further down
    /// the output. 16-byte stores where the output allows them.
    /// </summary>
    static void StoreTile<TRegisters, TC>(TRegisters acc, TC c, int row0, int col0, int rowSpacing, int colSpacing, int m, int n, int rowOffset)
        where TRegisters : struct, IRegisterTile where TC : struct, IGemmOutput
    {
        for (int r = 0; r < acc.Rows; r++)
        {
            int row = row0 + (r >> 2) * rowSpacing + (r & 3);
            if (row >= m) continue;
            for (int q = 0; q < acc.Cols / 4; q++)
                StoreQuad(c, rowOffset + row, col0 + q * colSpacing, acc.Get(r, q), n);
        }
    }

    static void StoreQuad<TC>(TC c, int row, int col, Quad v, int n) where TC : struct, IGemmOutput
    {
        if (col + 3 < n && c.QuadColumns)
        {
            c.StoreQuad(row, col, v);
            return;
        }
        if (col < n) c.Store(row, col, v.V0);
        if (col + 1 < n) c.Store(row, col + 1, v.V1);
        if (col + 2 < n) c.Store(row, col + 2, v.V2);
        if (col + 3 < n) c.Store(row, col + 3, v.V3);
    }

    /// <summary>The last group of a split tile: each thread adds its own elements' partials over the slices, in slice order.</summary>
    static void SumSlices<TTiling, TC>(TC c, GemmSplit split, int row0, int col0, int rowSpacing, int colSpacing, int m, int n)
        where TTiling : struct, IGemmTiling where TC : struct, IGemmOutput
    {
        TTiling t = default;
        long plane = (long)m * n;
        for (int r = 0; r < t.ThreadRows; r++)
        {
            int row = row0 + (r >> 2) * rowSpacing + (r & 3);
            if (row >= m) continue;
            for (int q = 0; q < t.ThreadCols / 4; q++)
            {
                int col = col0 + q * colSpacing;
                if (col >= n) continue;
                var sum = default(Quad);
                long at = (long)row * n + col;
                for (int s = 0; s < split.Slices; s++, at += plane)
                {
                    var part = (n & 3) == 0 ? split.Partial.Cast<Quad>()[at >> 2] : PartialQuad(split.Partial, at, n - col);
                    sum = new Quad(sum.V0 + part.V0, sum.V1 + part.V1, sum.V2 + part.V2, sum.V3 + part.V3);
                }
                StoreQuad(c, row, col, sum, n);
            }
        }
    }

    /// <summary>The partials at <paramref name="at"/> .. at + 3 where fewer than four columns remain or rows are not 16-byte aligned.</summary>
    static Quad PartialQuad(ArrayView<float> partial, long at, int remaining) => new(
        partial[at],
        remaining > 1 ? partial[at + 1] : 0f,
        remaining > 2 ? partial[at + 2] : 0f,
        remaining > 3 ? partial[at + 3] : 0f);

    /// <summary>
    /// C[m,n] (=|+=, as <paramref name="c"/> decides) sum over kDim of A[m,k]·B[k,n] for operands read element by element
    /// (linear layers): the tiled kernel with scalar loaders when <see cref="KernelContext.UseTiled"/>, else the reference.
    /// </summary>
    public static void Multiply<TA, TB, TC>(KernelContext k, int m, int n, int kDim, TA a, TB b, TC c)
        where TA : struct, IGemmOperand where TB : struct, IGemmOperand where TC : struct, IGemmOutput
    {
        CheckSizes(m, n, kDim);
        long bytes = ((long)m * kDim + (long)kDim * n + 2L * m * n) * sizeof(float);
        if (k.UseTiled)
        {
            Run(k, new OperandProblem<TA, TB, TC>(a, b, c, m, n, kDim, bytes));
            return;
        }
        k.Load<GemmArgs<TA, TB, TC>>(ReferenceKernel)(k.GridStride((long)m * n), new LaunchCost(2L * m * n * kDim, bytes), new GemmArgs<TA, TB, TC>(a, b, c, m, n, kDim));
    }

    static void CheckSizes(int m, int n, int kDim)
    {
        ShapeCheck.Positive("gemm", "m", m);
        ShapeCheck.Positive("gemm", "n", n);
        ShapeCheck.Positive("gemm", "k", kDim);
    }

    /// <summary>Plans <paramref name="problem"/> (<see cref="KernelContext.GemmPlanFor"/>: tiling and K split) and launches it with that tiling's loaders.</summary>
    public static void Run<TProblem>(KernelContext k, TProblem problem) where TProblem : struct, IGemmProblem =>
        Build(k, problem, Plan(k, problem), new LaunchAlone());

    /// <summary>
    /// Two independent GEMMs (a convolution's input and weight gradients) in one launch (<see cref="PairKernel"/>), each
    /// planned as if alone; their groups together fill the GPU, and a step makes one launch where it made two.
    /// </summary>
    public static void RunPair<TFirst, TSecond>(KernelContext k, TFirst first, TSecond second)
        where TFirst : struct, IGemmProblem where TSecond : struct, IGemmProblem =>
        Build(k, first, Plan(k, first), new PairFirst<TSecond>(second, Plan(k, second)));

    static GemmPlan Plan<TProblem>(KernelContext k, TProblem problem) where TProblem : struct, IGemmProblem
    {
        CheckSizes(problem.M, problem.N, problem.K);
        var plan = k.GemmPlanFor(problem.M, problem.N, problem.K, problem.BlockK, tile => Fits(problem, tile));
        if (!Fits(problem, plan.Tile))
            throw new InvalidOperationException($"gemm: {typeof(TProblem).Name} cannot run at {plan.Tile} (its loaders need more register slots)");
        return plan;
    }

    /// <summary>Hands <paramref name="problem"/>'s operands, built for the plan's tiling, to <paramref name="next"/>.</summary>
    static void Build<TProblem, TNext>(KernelContext k, TProblem problem, GemmPlan plan, TNext next)
        where TProblem : struct, IGemmProblem where TNext : struct, IGemmContinuation
    {
        switch (plan.Tile)
        {
            case GemmTileShape.Tile128x128: problem.Build<Tile128x128, RegisterTile8x8, TNext>(k, plan, next); break;
            case GemmTileShape.Tile128x64: problem.Build<Tile128x64, RegisterTile8x4, TNext>(k, plan, next); break;
            case GemmTileShape.Tile64x128: problem.Build<Tile64x128, RegisterTile4x8, TNext>(k, plan, next); break;
            case GemmTileShape.Tile64x64: problem.Build<Tile64x64, RegisterTile4x4, TNext>(k, plan, next); break;
            case GemmTileShape.Tile32x256: problem.Build<Tile32x256, RegisterTile4x8, TNext>(k, plan, next); break;
            case GemmTileShape.Tile32x128: problem.Build<Tile32x128, RegisterTile4x4, TNext>(k, plan, next); break;
            case GemmTileShape.Tile32x64: problem.Build<Tile32x64, RegisterTile4x4, TNext>(k, plan, next); break;
            case GemmTileShape.Tile16x256: problem.Build<Tile16x256, RegisterTile4x8, TNext>(k, plan, next); break;
            case GemmTileShape.Tile16x128: problem.Build<Tile16x128, RegisterTile4x4, TNext>(k, plan, next); break;
            case GemmTileShape.Tile16x64: problem.Build<Tile16x64, RegisterTile4x4, TNext>(k, plan, next); break;
            default: problem.Build<Tile16x16, RegisterTile4x4, TNext>(k, plan, next); break;
        }
    }

    static bool Fits<TProblem>(TProblem problem, GemmTileShape tile) where TProblem : struct, IGemmProblem => tile switch
    {
        GemmTileShape.Tile128x128 => problem.Fits<Tile128x128>(),
        GemmTileShape.Tile128x64 => problem.Fits<Tile128x64>(),
        GemmTileShape.Tile64x128 => problem.Fits<Tile64x128>(),
        GemmTileShape.Tile64x64 => problem.Fits<Tile64x64>(),
        GemmTileShape.Tile32x256 => problem.Fits<Tile32x256>(),
        GemmTileShape.Tile32x128 => problem.Fits<Tile32x128>(),
        GemmTileShape.Tile32x64 => problem.Fits<Tile32x64>(),
        GemmTileShape.Tile16x256 => problem.Fits<Tile16x256>(),
        GemmTileShape.Tile16x128 => problem.Fits<Tile16x128>(),
        GemmTileShape.Tile16x64 => problem.Fits<Tile16x64>(),
        _ => problem.Fits<Tile16x16>(),
    };

    /// <summary>Most static shared memory a kernel may declare (CUDA's limit without opting in to more).</summary>
    public const int MaxStaticSharedBytes = 48 * 1024;

    /// <summary>True when the two shared buffers of <typeparamref name="TTiling"/> at <typeparamref name="TDepth"/> fit the static shared-memory limit.</summary>
    public static bool SharedFits<TTiling, TDepth>() where TTiling : struct, IGemmTiling where TDepth : struct, IGemmDepth =>
        2 * default(TDepth).BlockK * (default(TTiling).BlockM + default(TTiling).BlockN) * sizeof(float) <= MaxStaticSharedBytes;

    /// <summary>True when <typeparamref name="TA"/> and <typeparamref name="TB"/> (built for one tiling) fit their register slots.</summary>
    public static bool LoadersFit<TA, TB>() where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> =>
        default(TA).Slots <= default(TA).MaxSlots && default(TB).Slots <= default(TB).MaxSlots;

    /// <summary>Scratch floats a plan's split-K partials take (0 unsplit), rounded up to 256 bytes so that what follows stays aligned.</summary>
    static long PartialFloats(GemmPlan plan, int m, int n) => plan.Slices > 1 ? ((long)plan.Slices * m * n + 63) / 64 * 64 : 0;

    /// <summary>Arrival counters a plan takes (0 unsplit), rounded up to 256 bytes.</summary>
    static int CounterInts(GemmPlan plan) => plan.Slices > 1 ? (plan.BlocksM * plan.BlocksN + 63) / 64 * 64 : 0;

    /// <summary>The split of one planned GEMM: its K slices, its tile counts and (split over K) its partials and arrival counters, carved from the given areas.</summary>
    static GemmSplit Split<TA, TB, TC, TDepth>(GemmPlan plan, GemmArgs<TA, TB, TC> g, ArrayView<float> partials, ArrayView<int> counters, ref long bytes)
        where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> where TC : struct, IGemmOutput where TDepth : struct, IGemmDepth
    {
        if (plan.BlockK != default(TDepth).BlockK || plan.BlockK > MaxBlockK)
            throw new InvalidOperationException($"gemm: a plan for K steps of {plan.BlockK} launched with {typeof(TDepth).Name}");
        if (!LoadersFit<TA, TB>())
            throw new InvalidOperationException($"gemm: {typeof(TA).Name} or {typeof(TB).Name} needs more register slots per thread than it has");
        var split = new GemmSplit
        {
            Slices = plan.Slices, SliceK = plan.SliceK, BlocksN = plan.BlocksN, BlocksM = plan.BlocksM, Groups = checked((int)plan.Groups),
        };
        if (plan.Slices > 1)
        {
            split.Partial = partials;
            split.Arrived = counters;
            // The partial tiles are written once and read once more.
            bytes += 2L * plan.Slices * g.M * g.N * sizeof(float);
        }
        return split;
    }

    /// <summary>Launches the tiled kernel for <paramref name="g"/>'s loaders, built for <typeparamref name="TTiling"/> and <typeparamref name="TDepth"/>.</summary>
    static void Launch<TA, TB, TC, TTiling, TRegisters, TDepth>(KernelContext k, GemmPlan plan, GemmArgs<TA, TB, TC> g, long bytes, string shape)
        where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> where TC : struct, IGemmOutput
        where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth
    {
        long partials = PartialFloats(plan, g.M, g.N);
        int counters = CounterInts(plan);
        var split = Split<TA, TB, TC, TDepth>(plan, g, partials > 0 ? k.Scratch(partials) : default, counters > 0 ? k.Counters(counters) : default, ref bytes);
        int staged = g.B.StagedWords(plan.SliceK);
        var shared = staged > 0 ? SharedMemoryConfig.RequestDynamic<float>(4 * staged) : SharedMemoryConfig.Empty;
        var config = new KernelConfig(new Index3D(plan.BlocksN, plan.BlocksM, plan.Slices), new Index3D(plan.Threads, 1, 1), shared);
        long flops = 2L * g.M * g.N * g.K;
        k.Load<GemmArgs<TA, TB, TC>, GemmSplit>(TiledKernel<TA, TB, TC, TTiling, TRegisters, TDepth>)(
            config, new LaunchCost(flops, bytes, shape, [new GemmPart(shape, flops, plan.Groups)]), g, split);
    }

    /// <summary>Launches <see cref="PairKernel"/> for two built GEMMs; their partials and counters share the scratch, one after the other.</summary>
    static void LaunchPair<TA1, TB1, TC1, TT1, TR1, TD1, TA2, TB2, TC2, TT2, TR2, TD2>(KernelContext k,
        GemmPlan plan1, GemmArgs<TA1, TB1, TC1> g1, long bytes1, string shape1, GemmPlan plan2, GemmArgs<TA2, TB2, TC2> g2, long bytes2, string shape2)
        where TA1 : struct, ITileLoader<TA1> where TB1 : struct, ITileLoader<TB1> where TC1 : struct, IGemmOutput
        where TT1 : struct, IGemmTiling where TR1 : struct, IRegisterTile where TD1 : struct, IGemmDepth
        where TA2 : struct, ITileLoader<TA2> where TB2 : struct, ITileLoader<TB2> where TC2 : struct, IGemmOutput
        where TT2 : struct, IGemmTiling where TR2 : struct, IRegisterTile where TD2 : struct, IGemmDepth
    {
        long partials1 = PartialFloats(plan1, g1.M, g1.N), partials2 = PartialFloats(plan2, g2.M, g2.N);
        int counters1 = CounterInts(plan1), counters2 = CounterInts(plan2);
        var scratch = partials1 + partials2 > 0 ? k.Scratch(partials1 + partials2) : default;
        var arrivals = counters1 + counters2 > 0 ? k.Counters(counters1 + counters2) : default;
        var split1 = Split<TA1, TB1, TC1, TD1>(plan1, g1, partials1 > 0 ? scratch.SubView(0, partials1) : default,
            counters1 > 0 ? arrivals.SubView(0, counters1) : default, ref bytes1);
        var split2 = Split<TA2, TB2, TC2, TD2>(plan2, g2, partials2 > 0 ? scratch.SubView(partials1, partials2) : default,
            counters2 > 0 ? arrivals.SubView(counters1, counters2) : default, ref bytes2);
        int staged = Math.Max(g1.B.StagedWords(plan1.SliceK), g2.B.StagedWords(plan2.SliceK));
        var shared = staged > 0 ? SharedMemoryConfig.RequestDynamic<float>(4 * staged) : SharedMemoryConfig.Empty;
        var config = new KernelConfig(new Index3D(split1.Groups + split2.Groups, 1, 1), new Index3D(Math.Max(plan1.Threads, plan2.Threads), 1, 1), shared);
        long flops1 = 2L * g1.M * g1.N * g1.K, flops2 = 2L * g2.M * g2.N * g2.K;
        var cost = new LaunchCost(flops1 + flops2, bytes1 + bytes2, $"{shape1} + {shape2}",
            [new GemmPart(shape1, flops1, plan1.Groups), new GemmPart(shape2, flops2, plan2.Groups)]);
        k.Load<GemmArgs<TA1, TB1, TC1>, GemmSplit, GemmArgs<TA2, TB2, TC2>, GemmSplit>(PairKernel<TA1, TB1, TC1, TT1, TR1, TD1, TA2, TB2, TC2, TT2, TR2, TD2>)(
            config, cost, g1, split1, g2, split2);
    }

    /// <summary>Launches one built GEMM on its own.</summary>
    readonly struct LaunchAlone : IGemmContinuation
    {
        public void With<TA, TB, TC, TTiling, TRegisters, TDepth>(KernelContext k, GemmPlan plan, GemmArgs<TA, TB, TC> g, long bytes, string shape)
            where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> where TC : struct, IGemmOutput
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth =>
            Launch<TA, TB, TC, TTiling, TRegisters, TDepth>(k, plan, g, bytes, shape);
    }

    /// <summary>Holds the first GEMM of a pair while the second is built for its own tiling.</summary>
    readonly struct PairFirst<TSecond>(TSecond second, GemmPlan secondPlan) : IGemmContinuation where TSecond : struct, IGemmProblem
    {
        public void With<TA, TB, TC, TTiling, TRegisters, TDepth>(KernelContext k, GemmPlan plan, GemmArgs<TA, TB, TC> g, long bytes, string shape)
            where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> where TC : struct, IGemmOutput
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth =>
            Build(k, second, secondPlan, new PairSecond<TA, TB, TC, TTiling, TRegisters, TDepth>(plan, g, bytes, shape));
    }

    /// <summary>Launches a pair once its second GEMM is built.</summary>
    readonly struct PairSecond<TA1, TB1, TC1, TT1, TR1, TD1>(GemmPlan plan1, GemmArgs<TA1, TB1, TC1> g1, long bytes1, string shape1) : IGemmContinuation
        where TA1 : struct, ITileLoader<TA1> where TB1 : struct, ITileLoader<TB1> where TC1 : struct, IGemmOutput
        where TT1 : struct, IGemmTiling where TR1 : struct, IRegisterTile where TD1 : struct, IGemmDepth
    {
        public void With<TA, TB, TC, TTiling, TRegisters, TDepth>(KernelContext k, GemmPlan plan, GemmArgs<TA, TB, TC> g, long bytes, string shape)
            where TA : struct, ITileLoader<TA> where TB : struct, ITileLoader<TB> where TC : struct, IGemmOutput
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TDepth : struct, IGemmDepth =>
            LaunchPair<TA1, TB1, TC1, TT1, TR1, TD1, TA, TB, TC, TTiling, TRegisters, TDepth>(k, plan1, g1, bytes1, shape1, plan, g, bytes, shape);
    }

    /// <summary>A GEMM over <see cref="IGemmOperand"/>s, both sides read element by element (<see cref="StreamLoader{TSide,TStream}"/>).</summary>
    readonly struct OperandProblem<TA, TB, TC>(TA a, TB b, TC c, int m, int n, int k, long bytes) : IGemmProblem
        where TA : struct, IGemmOperand where TB : struct, IGemmOperand where TC : struct, IGemmOutput
    {
        public int M => m;

        public int N => n;

        public int K => k;

        public int BlockK => 8;

        public long Bytes => bytes;

        public string Shape => $"matrix multiply (M {m}, N {n}, K {k})";

        public bool Fits<TTiling>() where TTiling : struct, IGemmTiling =>
            LoadersFit<StreamLoader<SideA<TTiling, Depth8>, RowStream<TA>>, StreamLoader<SideB<TTiling, Depth8>, ColumnStream<TB>>>();

        public void Build<TTiling, TRegisters, TNext>(KernelContext context, GemmPlan plan, TNext next)
            where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile where TNext : struct, IGemmContinuation =>
            next.With<StreamLoader<SideA<TTiling, Depth8>, RowStream<TA>>, StreamLoader<SideB<TTiling, Depth8>, ColumnStream<TB>>, TC, TTiling, TRegisters, Depth8>(
                context, plan, new(new(new RowStream<TA>(a), m), new(new ColumnStream<TB>(b), n), c, m, n, k), bytes, Shape);
    }
}
