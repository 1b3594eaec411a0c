namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>
/// The blocking of <see cref="GemmKernels"/>' tiled kernel, as compile-time constants: a struct type argument of the
/// kernel (with its <see cref="IRegisterTile"/>), so every tile size, loop bound and shared-memory length is a constant in
/// the generated code, and the kernel that offline compilation assembles (the method closed over those structs) is the
/// kernel that runs. A group computes a <see cref="BlockM"/> × <see cref="BlockN"/> tile of C, stepping K by
/// <see cref="BlockK"/>; each thread owns one register tile of it.
/// </summary>
public interface IGemmTiling
{
    int BlockM { get; }

    int BlockN { get; }

    int BlockK { get; }
}

/// <summary>128×128×8 with 8×8 per thread (256 threads): the GPU tile when C has more than 64 rows (channels).</summary>
public struct Tile128x128 : IGemmTiling
{
    public readonly int BlockM => 128;
    public readonly int BlockN => 128;
    public readonly int BlockK => 8;
}

/// <summary>64×128×8 with 4×8 per thread (256 threads): the GPU tile for 33 to 64 rows.</summary>
public struct Tile64x128 : IGemmTiling
{
    public readonly int BlockM => 64;
    public readonly int BlockN => 128;
    public readonly int BlockK => 8;
}

/// <summary>32×128×8 with 4×8 per thread (128 threads): the narrow GPU tile for 32 rows or fewer.</summary>
public struct Tile32x128 : IGemmTiling
{
    public readonly int BlockM => 32;
    public readonly int BlockN => 128;
    public readonly int BlockK => 8;
}

/// <summary>16×16×4 with 4×4 per thread (16 threads): for ILGPU's CPU accelerator, whose groups hold at most 16 threads.</summary>
public struct Tile16x16 : IGemmTiling
{
    public readonly int BlockM => 16;
    public readonly int BlockN => 16;
    public readonly int BlockK => 4;
}

/// <summary>Which tiling <see cref="GemmPlan.Choose"/> picked; each names one <see cref="IGemmTiling"/> struct.</summary>
public enum GemmTileShape
{
    Tile128x128,
    Tile64x128,
    Tile32x128,
    Tile16x16,
}

/// <summary>
/// How one GEMM is launched: the tiling, and how many slices K is split into (split-K). Slices write partial products
/// that a second pass sums in slice order, so the result has the same bits on every run. Split-K is what keeps
/// the weight gradients (small M×N, K = N·OutH·OutW in the hundreds of thousands) from running a handful of groups.
/// </summary>
public readonly record struct GemmPlan(GemmTileShape Tile, int Slices, int SliceK, int BlocksM, int BlocksN)
{
    /// <summary>Groups the launch starts: tiles of C times K slices.</summary>
    public long Groups => (long)BlocksM * BlocksN * Slices;

    /// <summary>A slice of K is at least this many steps of BlockK: shorter slices spend more on partial sums than they save.</summary>
    public const int MinSliceSteps = 8;

    /// <summary>
    /// The tiling for C [m, n] and the K split: <see cref="Tile16x16"/> when <paramref name="small"/>; otherwise the
    /// tallest GPU tile that fits m (128, 64 or 32 rows) unless a shorter one is needed to start
    /// <paramref name="targetGroups"/> groups; K is split into the fewest slices that reach the target, each at least
    /// <paramref name="minSliceSteps"/> steps of BlockK. When no choice reaches it, the one starting the most groups.
    /// </summary>
    public static GemmPlan Choose(int m, int n, int k, int targetGroups, int minSliceSteps, bool small)
    {
        GemmTileShape[] candidates = small ? [GemmTileShape.Tile16x16]
            : m <= 32 ? [GemmTileShape.Tile32x128]
            : m <= 64 ? [GemmTileShape.Tile64x128, GemmTileShape.Tile32x128]
            : [GemmTileShape.Tile128x128, GemmTileShape.Tile64x128, GemmTileShape.Tile32x128];
        GemmPlan best = default;
        foreach (var tile in candidates)
        {
            var plan = Split(tile, m, n, k, Math.Max(1, targetGroups), Math.Max(1, minSliceSteps));
            if (plan.Groups >= targetGroups) return plan;
            if (plan.Groups > best.Groups) best = plan;
        }
        return best;
    }

    static GemmPlan Split(GemmTileShape tile, int m, int n, int k, int targetGroups, int minSliceSteps)
    {
        var (blockM, blockN, blockK) = Dimensions(tile);
        int blocksM = (m + blockM - 1) / blockM, blocksN = (n + blockN - 1) / blockN;
        long tiles = (long)blocksM * blocksN;
        int steps = (k + blockK - 1) / blockK;
        int wanted = (int)Math.Min((targetGroups + tiles - 1) / tiles, steps);
        // Whole BlockK steps per slice, rounded down so that the slices are at least as many as wanted.
        int sliceSteps = Math.Max(Math.Min(minSliceSteps, steps), steps / Math.Max(1, wanted));
        int slices = (steps + sliceSteps - 1) / sliceSteps;
        return new GemmPlan(tile, slices, sliceSteps * blockK, blocksM, blocksN);
    }

    /// <summary>The tilings a GPU launch can choose (all but the CPU accelerator's <see cref="Tile16x16"/>).</summary>
    public static IReadOnlyList<GemmTileShape> GpuTiles { get; } = [GemmTileShape.Tile128x128, GemmTileShape.Tile64x128, GemmTileShape.Tile32x128];

    /// <summary>
    /// The tiling and register-tile structs <see cref="GemmKernels"/> closes its tiled kernel over for
    /// <paramref name="tile"/>: offline compilation closes every discovered tiled kernel over each pair, so it assembles
    /// the GPU tilings although discovery runs on the CPU accelerator.
    /// </summary>
    public static (Type Tiling, Type Registers) KernelTypes(GemmTileShape tile) => tile switch
    {
        GemmTileShape.Tile128x128 => (typeof(Tile128x128), typeof(RegisterTile8x8)),
        GemmTileShape.Tile64x128 => (typeof(Tile64x128), typeof(RegisterTile4x8)),
        GemmTileShape.Tile32x128 => (typeof(Tile32x128), typeof(RegisterTile4x8)),
        _ => (typeof(Tile16x16), typeof(RegisterTile4x4)),
    };

    /// <summary>BlockM, BlockN, BlockK of a tiling (the constants its struct returns).</summary>
    public static (int M, int N, int K) Dimensions(GemmTileShape tile) => tile switch
    {
        GemmTileShape.Tile128x128 => Of<Tile128x128>(),
        GemmTileShape.Tile64x128 => Of<Tile64x128>(),
        GemmTileShape.Tile32x128 => Of<Tile32x128>(),
        _ => Of<Tile16x16>(),
    };

    /// <summary>Threads per group of a tiling: one per register tile.</summary>
    public static int Threads<TTiling, TRegisters>() where TTiling : struct, IGemmTiling where TRegisters : struct, IRegisterTile
    {
        TTiling t = default;
        TRegisters r = default;
        return t.BlockM / r.Rows * (t.BlockN / r.Cols);
    }

    static (int, int, int) Of<T>() where T : struct, IGemmTiling
    {
        T t = default;
        return (t.BlockM, t.BlockN, t.BlockK);
    }
}
