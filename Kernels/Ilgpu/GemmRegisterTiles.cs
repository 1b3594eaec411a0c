using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>Four consecutive floats: one 16-byte shared-memory load of a register-tile fragment.</summary>
public struct Quad
{
    public float V0, V1, V2, V3;
}

/// <summary>
/// A thread's accumulators in <see cref="GemmKernels"/>' tiled kernel, as named fields: ILGPU keeps struct fields in
/// registers, but it does not unroll loops over a local array, which would then live in (slow) local memory. One K step
/// reads the thread's A fragment (Rows consecutive floats of the k-major A tile) and B fragment (Cols consecutive
/// floats) from shared memory, four at a time, and adds their outer product. (The fields are written out, one struct
/// per register-tile shape: C# has no fixed-size arrays of registers.)
/// </summary>
public interface IRegisterTile
{
    int Rows { get; }

    int Cols { get; }

    /// <summary>acc += the outer product of Rows floats of A from quad <paramref name="aQuad"/> and Cols floats of B from quad <paramref name="bQuad"/>.</summary>
    void MultiplyAdd(ArrayView<Quad> aQuads, int aQuad, ArrayView<Quad> bQuads, int bQuad);

    /// <summary>The accumulator at (r, c) of the register tile.</summary>
    float Get(int r, int c);
}

/// <summary>8×8 accumulators, 64 FFMA per K step from four 16-byte loads: the register tile of <see cref="Tile128x128"/>.</summary>
public struct RegisterTile8x8 : IRegisterTile
{
    float c0_0, c0_1, c0_2, c0_3, c0_4, c0_5, c0_6, c0_7;
    float c1_0, c1_1, c1_2, c1_3, c1_4, c1_5, c1_6, c1_7;
    float c2_0, c2_1, c2_2, c2_3, c2_4, c2_5, c2_6, c2_7;
    float c3_0, c3_1, c3_2, c3_3, c3_4, c3_5, c3_6, c3_7;
    float c4_0, c4_1, c4_2, c4_3, c4_4, c4_5, c4_6, c4_7;
    float c5_0, c5_1, c5_2, c5_3, c5_4, c5_5, c5_6, c5_7;
    float c6_0, c6_1, c6_2, c6_3, c6_4, c6_5, c6_6, c6_7;
    float c7_0, c7_1, c7_2, c7_3, c7_4, c7_5, c7_6, c7_7;

    public readonly int Rows => 8;

    public readonly int Cols => 8;

    public void MultiplyAdd(ArrayView<Quad> aQuads, int aQuad, ArrayView<Quad> bQuads, int bQuad)
    {
        Quad a0 = aQuads[aQuad], a1 = aQuads[aQuad + 1], b0 = bQuads[bQuad], b1 = bQuads[bQuad + 1];
        c0_0 += a0.V0 * b0.V0;
        c0_1 += a0.V0 * b0.V1;
        c0_2 += a0.V0 * b0.V2;
        c0_3 += a0.V0 * b0.V3;
        c0_4 += a0.V0 * b1.V0;
        c0_5 += a0.V0 * b1.V1;
        c0_6 += a0.V0 * b1.V2;
        c0_7 += a0.V0 * b1.V3;
        c1_0 += a0.V1 * b0.V0;
        c1_1 += a0.V1 * b0.V1;
        c1_2 += a0.V1 * b0.V2;
        c1_3 += a0.V1 * b0.V3;
        c1_4 += a0.V1 * b1.V0;
        c1_5 += a0.V1 * b1.V1;
        c1_6 += a0.V1 * b1.V2;
        c1_7 += a0.V1 * b1.V3;
        c2_0 += a0.V2 * b0.V0;
        c2_1 += a0.V2 * b0.V1;
        c2_2 += a0.V2 * b0.V2;
        c2_3 += a0.V2 * b0.V3;
        c2_4 += a0.V2 * b1.V0;
        c2_5 += a0.V2 * b1.V1;
        c2_6 += a0.V2 * b1.V2;
        c2_7 += a0.V2 * b1.V3;
        c3_0 += a0.V3 * b0.V0;
        c3_1 += a0.V3 * b0.V1;
        c3_2 += a0.V3 * b0.V2;
        c3_3 += a0.V3 * b0.V3;
        c3_4 += a0.V3 * b1.V0;
        c3_5 += a0.V3 * b1.V1;
        c3_6 += a0.V3 * b1.V2;
        c3_7 += a0.V3 * b1.V3;
        c4_0 += a1.V0 * b0.V0;
        c4_1 += a1.V0 * b0.V1;
        c4_2 += a1.V0 * b0.V2;
        c4_3 += a1.V0 * b0.V3;
        c4_4 += a1.V0 * b1.V0;
        c4_5 += a1.V0 * b1.V1;
        c4_6 += a1.V0 * b1.V2;
        c4_7 += a1.V0 * b1.V3;
        c5_0 += a1.V1 * b0.V0;
        c5_1 += a1.V1 * b0.V1;
        c5_2 += a1.V1 * b0.V2;
        c5_3 += a1.V1 * b0.V3;
        c5_4 += a1.V1 * b1.V0;
        c5_5 += a1.V1 * b1.V1;
        c5_6 += a1.V1 * b1.V2;
        c5_7 += a1.V1 * b1.V3;
        c6_0 += a1.V2 * b0.V0;
        c6_1 += a1.V2 * b0.V1;
        c6_2 += a1.V2 * b0.V2;
        c6_3 += a1.V2 * b0.V3;
        c6_4 += a1.V2 * b1.V0;
        c6_5 += a1.V2 * b1.V1;
        c6_6 += a1.V2 * b1.V2;
        c6_7 += a1.V2 * b1.V3;
        c7_0 += a1.V3 * b0.V0;
        c7_1 += a1.V3 * b0.V1;
        c7_2 += a1.V3 * b0.V2;
        c7_3 += a1.V3 * b0.V3;
        c7_4 += a1.V3 * b1.V0;
        c7_5 += a1.V3 * b1.V1;
        c7_6 += a1.V3 * b1.V2;
        c7_7 += a1.V3 * b1.V3;
    }

    public readonly float Get(int r, int c) => r switch
    {
        0 => c switch { 0 => c0_0, 1 => c0_1, 2 => c0_2, 3 => c0_3, 4 => c0_4, 5 => c0_5, 6 => c0_6, _ => c0_7 },
        1 => c switch { 0 => c1_0, 1 => c1_1, 2 => c1_2, 3 => c1_3, 4 => c1_4, 5 => c1_5, 6 => c1_6, _ => c1_7 },
        2 => c switch { 0 => c2_0, 1 => c2_1, 2 => c2_2, 3 => c2_3, 4 => c2_4, 5 => c2_5, 6 => c2_6, _ => c2_7 },
        3 => c switch { 0 => c3_0, 1 => c3_1, 2 => c3_2, 3 => c3_3, 4 => c3_4, 5 => c3_5, 6 => c3_6, _ => c3_7 },
        4 => c switch { 0 => c4_0, 1 => c4_1, 2 => c4_2, 3 => c4_3, 4 => c4_4, 5 => c4_5, 6 => c4_6, _ => c4_7 },
        5 => c switch { 0 => c5_0, 1 => c5_1, 2 => c5_2, 3 => c5_3, 4 => c5_4, 5 => c5_5, 6 => c5_6, _ => c5_7 },
        6 => c switch { 0 => c6_0, 1 => c6_1, 2 => c6_2, 3 => c6_3, 4 => c6_4, 5 => c6_5, 6 => c6_6, _ => c6_7 },
        _ => c switch { 0 => c7_0, 1 => c7_1, 2 => c7_2, 3 => c7_3, 4 => c7_4, 5 => c7_5, 6 => c7_6, _ => c7_7 },
    };
}

/// <summary>4×8 accumulators, 32 FFMA per K step from three 16-byte loads: the register tile of the narrower GPU tilings.</summary>
public struct RegisterTile4x8 : IRegisterTile
{
    float c0_0, c0_1, c0_2, c0_3, c0_4, c0_5, c0_6, c0_7;
    float c1_0, c1_1, c1_2, c1_3, c1_4, c1_5, c1_6, c1_7;
    float c2_0, c2_1, c2_2, c2_3, c2_4, c2_5, c2_6, c2_7;
    float c3_0, c3_1, c3_2, c3_3, c3_4, c3_5, c3_6, c3_7;

    public readonly int Rows => 4;

    public readonly int Cols => 8;

    public void MultiplyAdd(ArrayView<Quad> aQuads, int aQuad, ArrayView<Quad> bQuads, int bQuad)
    {
        Quad a0 = aQuads[aQuad], b0 = bQuads[bQuad], b1 = bQuads[bQuad + 1];
        c0_0 += a0.V0 * b0.V0;
        c0_1 += a0.V0 * b0.V1;
        c0_2 += a0.V0 * b0.V2;
        c0_3 += a0.V0 * b0.V3;
        c0_4 += a0.V0 * b1.V0;
        c0_5 += a0.V0 * b1.V1;
        c0_6 += a0.V0 * b1.V2;
        c0_7 += a0.V0 * b1.V3;
        c1_0 += a0.V1 * b0.V0;
        c1_1 += a0.V1 * b0.V1;
        c1_2 += a0.V1 * b0.V2;
        c1_3 += a0.V1 * b0.V3;
        c1_4 += a0.V1 * b1.V0;
        c1_5 += a0.V1 * b1.V1;
        c1_6 += a0.V1 * b1.V2;
        c1_7 += a0.V1 * b1.V3;
        c2_0 += a0.V2 * b0.V0;
        c2_1 += a0.V2 * b0.V1;
        c2_2 += a0.V2 * b0.V2;
        c2_3 += a0.V2 * b0.V3;
        c2_4 += a0.V2 * b1.V0;
        c2_5 += a0.V2 * b1.V1;
        c2_6 += a0.V2 * b1.V2;
        c2_7 += a0.V2 * b1.V3;
        c3_0 += a0.V3 * b0.V0;
        c3_1 += a0.V3 * b0.V1;
        c3_2 += a0.V3 * b0.V2;
        c3_3 += a0.V3 * b0.V3;
        c3_4 += a0.V3 * b1.V0;
        c3_5 += a0.V3 * b1.V1;
        c3_6 += a0.V3 * b1.V2;
        c3_7 += a0.V3 * b1.V3;
    }

    public readonly float Get(int r, int c) => r switch
    {
        0 => c switch { 0 => c0_0, 1 => c0_1, 2 => c0_2, 3 => c0_3, 4 => c0_4, 5 => c0_5, 6 => c0_6, _ => c0_7 },
        1 => c switch { 0 => c1_0, 1 => c1_1, 2 => c1_2, 3 => c1_3, 4 => c1_4, 5 => c1_5, 6 => c1_6, _ => c1_7 },
        2 => c switch { 0 => c2_0, 1 => c2_1, 2 => c2_2, 3 => c2_3, 4 => c2_4, 5 => c2_5, 6 => c2_6, _ => c2_7 },
        _ => c switch { 0 => c3_0, 1 => c3_1, 2 => c3_2, 3 => c3_3, 4 => c3_4, 5 => c3_5, 6 => c3_6, _ => c3_7 },
    };
}

/// <summary>4×4 accumulators: the register tile of <see cref="Tile16x16"/>, for the CPU accelerator's groups of at most 16 threads.</summary>
public struct RegisterTile4x4 : IRegisterTile
{
    float c0_0, c0_1, c0_2, c0_3;
    float c1_0, c1_1, c1_2, c1_3;
    float c2_0, c2_1, c2_2, c2_3;
    float c3_0, c3_1, c3_2, c3_3;

    public readonly int Rows => 4;

    public readonly int Cols => 4;

    public void MultiplyAdd(ArrayView<Quad> aQuads, int aQuad, ArrayView<Quad> bQuads, int bQuad)
    {
        Quad a0 = aQuads[aQuad], b0 = bQuads[bQuad];
        c0_0 += a0.V0 * b0.V0;
        c0_1 += a0.V0 * b0.V1;
        c0_2 += a0.V0 * b0.V2;
        c0_3 += a0.V0 * b0.V3;
        c1_0 += a0.V1 * b0.V0;
        c1_1 += a0.V1 * b0.V1;
        c1_2 += a0.V1 * b0.V2;
        c1_3 += a0.V1 * b0.V3;
        c2_0 += a0.V2 * b0.V0;
        c2_1 += a0.V2 * b0.V1;
        c2_2 += a0.V2 * b0.V2;
        c2_3 += a0.V2 * b0.V3;
        c3_0 += a0.V3 * b0.V0;
        c3_1 += a0.V3 * b0.V1;
        c3_2 += a0.V3 * b0.V2;
        c3_3 += a0.V3 * b0.V3;
    }

    public readonly float Get(int r, int c) => r switch
    {
        0 => c switch { 0 => c0_0, 1 => c0_1, 2 => c0_2, _ => c0_3 },
        1 => c switch { 0 => c1_0, 1 => c1_1, 2 => c1_2, _ => c1_3 },
        2 => c switch { 0 => c2_0, 1 => c2_1, 2 => c2_2, _ => c2_3 },
        _ => c switch { 0 => c3_0, 1 => c3_1, 2 => c3_2, _ => c3_3 },
    };
}
