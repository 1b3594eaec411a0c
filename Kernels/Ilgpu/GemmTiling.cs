namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The blocking of <see cref="GemmKernels"/>' tiled kernel, as compile-time constants: a struct type argument of the
/// kernel, so every tile size, loop bound and shared-memory length is a constant in the generated code, and the kernel
/// that offline compilation assembles (the method closed over these structs) is the kernel that runs. A group computes a
/// <see cref="BlockM"/> × <see cref="BlockN"/> tile of C. Its threads are laid out as warp tiles (CUTLASS's threadblock /
/// warp / thread hierarchy): a warp of <see cref="WarpThreads"/> lanes covers (lanes along M · ThreadRows) ×
/// (<see cref="LanesN"/> · ThreadCols) elements, and each thread owns ThreadRows × ThreadCols of them as 4-wide
/// fragments spaced one warp row apart, so that the eight lanes of each quarter-warp read consecutive 16-byte words
/// of shared memory (no bank conflicts) and lanes sharing a fragment read the same word (a broadcast).
/// </summary>
public interface IGemmTiling
{
    /// <summary>Rows of C per group.</summary>
    int BlockM { get; }

    /// <summary>Columns of C per group.</summary>
    int BlockN { get; }

    /// <summary>Rows of C per thread (4 or 8: one or two 4-row fragments).</summary>
    int ThreadRows { get; }

    /// <summary>Columns of C per thread (4 or 8: one or two 4-column fragments).</summary>
    int ThreadCols { get; }

    /// <summary>Threads per warp: 32 on GPUs; the CPU accelerator's tiling uses its own group size.</summary>
    int WarpThreads { get; }

    /// <summary>Lanes of a warp side by side along N; WarpThreads / LanesN lanes stand along M.</summary>
    int LanesN { get; }
}

/// <summary>How far K advances per shared-memory step of <see cref="GemmKernels"/>' tiled kernel (a compile-time constant).</summary>
internal interface IGemmDepth
{
    int BlockK { get; }
}

// The GPU tilings: groups of 64 to 256 threads in whole 32-lane warps, register tiles of 4x4 to 8x8.

/// <summary>128×128, 8×8 per thread, 256 threads: tall C (more than 64 rows) with many columns.</summary>
internal struct Tile128x128 : IGemmTiling
{
    public readonly int BlockM => 128;
    public readonly int BlockN => 128;
    public readonly int ThreadRows => 8;
    public readonly int ThreadCols => 8;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>128×64, 8×4 per thread, 256 threads: tall C with few columns (weight gradients of wide layers).</summary>
internal struct Tile128x64 : IGemmTiling
{
    public readonly int BlockM => 128;
    public readonly int BlockN => 64;
    public readonly int ThreadRows => 8;
    public readonly int ThreadCols => 4;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>64×128, 4×8 per thread, 256 threads: 33 to 64 rows.</summary>
internal struct Tile64x128 : IGemmTiling
{
    public readonly int BlockM => 64;
    public readonly int BlockN => 128;
    public readonly int ThreadRows => 4;
    public readonly int ThreadCols => 8;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>64×64, 4×4 per thread, 256 threads: 33 to 64 rows when columns are few.</summary>
internal struct Tile64x64 : IGemmTiling
{
    public readonly int BlockM => 64;
    public readonly int BlockN => 64;
    public readonly int ThreadRows => 4;
    public readonly int ThreadCols => 4;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>32×256, 4×8 per thread, 256 threads: 17 to 32 rows, wide N.</summary>
internal struct Tile32x256 : IGemmTiling
{
    public readonly int BlockM => 32;
    public readonly int BlockN => 256;
    public readonly int ThreadRows => 4;
    public readonly int ThreadCols => 8;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>32×128, 4×4 per thread, 256 threads: 17 to 32 rows when a 256-column tile would leave the GPU short of groups.</summary>
internal struct Tile32x128 : IGemmTiling
{
    public readonly int BlockM => 32;
    public readonly int BlockN => 128;
    public readonly int ThreadRows => 4;
    public readonly int ThreadCols => 4;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>32×64, 4×4 per thread, 128 threads: 17 to 32 rows, few columns.</summary>
internal struct Tile32x64 : IGemmTiling
{
    public readonly int BlockM => 32;
    public readonly int BlockN => 64;
    public readonly int ThreadRows => 4;
    public readonly int ThreadCols => 4;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>16×256, 4×8 per thread, 128 threads: 16 rows (RevNet-38's first stage), wide N.</summary>
internal struct Tile16x256 : IGemmTiling
{
    public readonly int BlockM => 16;
    public readonly int BlockN => 256;
    public readonly int ThreadRows => 4;
    public readonly int ThreadCols => 8;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>16×128, 4×4 per thread, 128 threads: 16 rows when N is too short for 256-column tiles.</summary>
internal struct Tile16x128 : IGemmTiling
{
    public readonly int BlockM => 16;
    public readonly int BlockN => 128;
    public readonly int ThreadRows => 4;
    public readonly int ThreadCols => 4;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>16×64, 4×4 per thread, 64 threads: 16 rows, few columns (weight gradients of narrow layers).</summary>
internal struct Tile16x64 : IGemmTiling
{
    public readonly int BlockM => 16;
    public readonly int BlockN => 64;
    public readonly int ThreadRows => 4;
    public readonly int ThreadCols => 4;
    public readonly int WarpThreads => 32;
    public readonly int LanesN => 8;
}

/// <summary>16×16, 4×4 per thread, 16 threads: for ILGPU's CPU accelerator, whose groups hold at most 16 threads.</summary>
public struct Tile16x16 : IGemmTiling
{
    /// <summary>Rows of C per group.</summary>
    public readonly int BlockM => 16;
    /// <summary>Columns of C per group.</summary>
    public readonly int BlockN => 16;
    /// <summary>Rows of C per thread.</summary>
    public readonly int ThreadRows => 4;
    /// <summary>Columns of C per thread.</summary>
    public readonly int ThreadCols => 4;
    /// <summary>Threads that share a warp tile.</summary>
    public readonly int WarpThreads => 16;
    /// <summary>Lanes of a thread's column loads.</summary>
    public readonly int LanesN => 4;
}

/// <summary>K steps of 8: plain operands.</summary>
internal struct Depth8 : IGemmDepth
{
    public readonly int BlockK => 8;
}

/// <summary>K steps of 12: four (channel, kernel row) triplets of a 3×3 forward, in whole 16-byte words of weights.</summary>
internal struct Depth12 : IGemmDepth
{
    public readonly int BlockK => 12;
}

/// <summary>K steps of 16: positions of a weight gradient, four 16-byte words per line.</summary>
internal struct Depth16 : IGemmDepth
{
    public readonly int BlockK => 16;
}

/// <summary>K steps of 18: two output channels' 3×3 taps of an input gradient.</summary>
internal struct Depth18 : IGemmDepth
{
    public readonly int BlockK => 18;
}

/// <summary>K steps of 32: positions of a weight gradient over 32-wide images, whole output rows per step.</summary>
internal struct Depth32 : IGemmDepth
{
    public readonly int BlockK => 32;
}

/// <summary>Which tiling a <see cref="GemmPlan"/> launches; each names one <see cref="IGemmTiling"/> struct and its register tile.</summary>
public enum GemmTileShape
{
    /// <summary>128×128 per group, 8×8 per thread.</summary>
    Tile128x128,
    /// <summary>128×64 per group.</summary>
    Tile128x64,
    /// <summary>64×128 per group.</summary>
    Tile64x128,
    /// <summary>64×64 per group.</summary>
    Tile64x64,
    /// <summary>32×256 per group.</summary>
    Tile32x256,
    /// <summary>32×128 per group.</summary>
    Tile32x128,
    /// <summary>32×64 per group.</summary>
    Tile32x64,
    /// <summary>16×256 per group.</summary>
    Tile16x256,
    /// <summary>16×128 per group.</summary>
    Tile16x128,
    /// <summary>16×64 per group.</summary>
    Tile16x64,
    /// <summary>16×16 per group, for ILGPU's CPU accelerator.</summary>
    Tile16x16,
}

/// <summary>The constants of a tiling as plain numbers, for planning on the host.</summary>
public readonly record struct GemmTileDimensions(int BlockM, int BlockN, int ThreadRows, int ThreadCols)
{
    /// <summary>Threads per group.</summary>
    public int Threads => BlockM / ThreadRows * (BlockN / ThreadCols);

    /// <summary>Accumulators per thread.</summary>
    public int Accumulators => ThreadRows * ThreadCols;
}

/// <summary>
/// How one GEMM is launched: the tiling, the K depth per step, and how many slices K is split into (split-K). Each slice's
/// group writes its partial tile; the last of a tile's groups to finish (an arrival count) sums the slices in slice order
/// into C, so the result has the same bits on every run and split-K costs no second launch. Split-K keeps the weight
/// gradients (small M×N, K = N·OutH·OutW up to 131,072) from running a handful of groups.
/// </summary>
public readonly record struct GemmPlan(GemmTileShape Tile, int BlockK, int Slices, int SliceK, int BlocksM, int BlocksN)
{
    /// <summary>Groups the launch starts: tiles of C times K slices.</summary>
    public long Groups => (long)BlocksM * BlocksN * Slices;

    /// <summary>Threads per group.</summary>
    public int Threads => Dimensions(Tile).Threads;

    /// <summary>A slice of K is at least this many steps: shorter slices spend more on partial sums than they save.</summary>
    public const int MinSliceSteps = 8;

    /// <summary>The tilings GPU launches choose from (all but the CPU accelerator's <see cref="Tile16x16"/>).</summary>
    public static IReadOnlyList<GemmTileShape> GpuTiles { get; } = Enum.GetValues<GemmTileShape>().Where(t => t != GemmTileShape.Tile16x16).ToList();

    /// <summary>
    /// The tiling and K split for C [m, n] with K = <paramref name="k"/> stepped by <paramref name="blockK"/>: the CPU
    /// accelerator's <see cref="Tile16x16"/> when <paramref name="small"/>; otherwise, among the GPU tilings, the one with
    /// the best estimated throughput (<see cref="Score"/>) that starts at least <paramref name="targetGroups"/> groups
    /// (splitting K into the fewest slices of at least <paramref name="minSliceSteps"/> steps that reach the target); when
    /// none reaches it, the one starting the most groups. <paramref name="fits"/> leaves out tilings the GEMM's loaders
    /// cannot take (more register slots per thread than they have).
    /// </summary>
    public static GemmPlan Choose(int m, int n, int k, int blockK, int targetGroups, int minSliceSteps, bool small, Func<GemmTileShape, bool>? fits = null)
    {
        if (small) return Split(GemmTileShape.Tile16x16, m, n, k, blockK, Math.Max(1, targetGroups), Math.Max(1, minSliceSteps));
        GemmPlan best = default, most = default;
        double bestScore = -1;
        foreach (var tile in GpuTiles)
        {
            if (fits is not null && !fits(tile)) continue;
            var plan = Split(tile, m, n, k, blockK, Math.Max(1, targetGroups), Math.Max(1, minSliceSteps));
            if (plan.Groups > most.Groups) most = plan;
            if (plan.Groups < targetGroups) continue;
            double score = Score(plan, m, n, k);
            if (score > bestScore) (best, bestScore) = (plan, score);
        }
        return bestScore >= 0 ? best : most;
    }

    /// <summary>
    /// Estimated throughput of a plan, relative: the share of the tiles' work that lies inside C, times the share of a
    /// thread's instructions that are multiply-adds, divided by what the split's partial sums add. Per k a thread issues
    /// TM·TN multiply-adds, (TM + TN)/4 shared-memory loads, about 7.3 instructions for each value it loads ((BM + BN) /
    /// threads of them) and its share of about 110 per K step (loop, barrier, addressing): constants fitted to this
    /// kernel's SASS on sm_90 (forward 3×3 at 16×256 and 32×64: predicted FFMA shares 0.54 and 0.49, measured 0.55 and
    /// 0.46). A split moves 2·M·N floats per extra slice against 2·M·N·K FLOPs; at H200's 14 FLOP per byte, half of that
    /// assumed hidden behind the multiply-adds.
    /// </summary>
    static double Score(GemmPlan plan, int m, int n, int k)
    {
        var d = Dimensions(plan.Tile);
        double fill = (double)m * n / ((long)plan.BlocksM * d.BlockM * plan.BlocksN * d.BlockN);
        double perK = d.Accumulators + (d.ThreadRows + d.ThreadCols) / 4.0 + 7.3 * (d.BlockM + d.BlockN) / d.Threads + 110.0 / plan.BlockK;
        double split = 1 + 28.0 * (plan.Slices - 1) / k;
        return fill * d.Accumulators / perK / split;
    }

    /// <summary><paramref name="tile"/> for C [m, n], with K split into the fewest slices of at least <paramref name="minSliceSteps"/> steps that start <paramref name="targetGroups"/> groups.</summary>
    public static GemmPlan Split(GemmTileShape tile, int m, int n, int k, int blockK, int targetGroups, int minSliceSteps)
    {
        (targetGroups, minSliceSteps) = (Math.Max(1, targetGroups), Math.Max(1, minSliceSteps));
        var d = Dimensions(tile);
        int blocksM = (m + d.BlockM - 1) / d.BlockM, blocksN = (n + d.BlockN - 1) / d.BlockN;
        long tiles = (long)blocksM * blocksN;
        int steps = (k + blockK - 1) / blockK;
        int wanted = (int)Math.Min((targetGroups + tiles - 1) / tiles, steps);
        // Whole steps per slice, rounded down so that the slices are at least as many as wanted.
        int sliceSteps = Math.Max(Math.Min(minSliceSteps, steps), steps / Math.Max(1, wanted));
        int slices = (steps + sliceSteps - 1) / sliceSteps;
        return new GemmPlan(tile, blockK, slices, sliceSteps * blockK, blocksM, blocksN);
    }

    /// <summary>The tiling and register-tile structs the tiled kernel is closed over for <paramref name="tile"/>.</summary>
    public static (Type Tiling, Type Registers) KernelTypes(GemmTileShape tile) => tile switch
    {
        GemmTileShape.Tile128x128 => (typeof(Tile128x128), typeof(RegisterTile8x8)),
        GemmTileShape.Tile128x64 => (typeof(Tile128x64), typeof(RegisterTile8x4)),
        GemmTileShape.Tile64x128 => (typeof(Tile64x128), typeof(RegisterTile4x8)),
        GemmTileShape.Tile64x64 => (typeof(Tile64x64), typeof(RegisterTile4x4)),
        GemmTileShape.Tile32x256 => (typeof(Tile32x256), typeof(RegisterTile4x8)),
        GemmTileShape.Tile32x128 => (typeof(Tile32x128), typeof(RegisterTile4x4)),
        GemmTileShape.Tile32x64 => (typeof(Tile32x64), typeof(RegisterTile4x4)),
        GemmTileShape.Tile16x256 => (typeof(Tile16x256), typeof(RegisterTile4x8)),
        GemmTileShape.Tile16x128 => (typeof(Tile16x128), typeof(RegisterTile4x4)),
        GemmTileShape.Tile16x64 => (typeof(Tile16x64), typeof(RegisterTile4x4)),
        _ => (typeof(Tile16x16), typeof(RegisterTile4x4)),
    };

    /// <summary>The constants a tiling's struct returns.</summary>
    public static GemmTileDimensions Dimensions(GemmTileShape tile) => tile switch
    {
        GemmTileShape.Tile128x128 => Of<Tile128x128>(),
        GemmTileShape.Tile128x64 => Of<Tile128x64>(),
        GemmTileShape.Tile64x128 => Of<Tile64x128>(),
        GemmTileShape.Tile64x64 => Of<Tile64x64>(),
        GemmTileShape.Tile32x256 => Of<Tile32x256>(),
        GemmTileShape.Tile32x128 => Of<Tile32x128>(),
        GemmTileShape.Tile32x64 => Of<Tile32x64>(),
        GemmTileShape.Tile16x256 => Of<Tile16x256>(),
        GemmTileShape.Tile16x128 => Of<Tile16x128>(),
        GemmTileShape.Tile16x64 => Of<Tile16x64>(),
        _ => Of<Tile16x16>(),
    };

    /// <summary>The constants of <typeparamref name="T"/>.</summary>
    public static GemmTileDimensions Of<T>() where T : struct, IGemmTiling
    {
        T t = default;
        return new GemmTileDimensions(t.BlockM, t.BlockN, t.ThreadRows, t.ThreadCols);
    }
}
