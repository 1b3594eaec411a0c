using ILGPU;

namespace RevNetIlgpu.Kernels.Ilgpu;

/// <summary>Four consecutive floats: one 16-byte load or store (shared or global memory) when its address is 16-byte aligned.</summary>
internal struct Quad
{
    public float V0, V1, V2, V3;

    public Quad(float v0, float v1, float v2, float v3) => (V0, V1, V2, V3) = (v0, v1, v2, v3);

    /// <summary>Lane <paramref name="i"/> (0..3).</summary>
    public readonly float this[int i] => i switch { 0 => V0, 1 => V1, 2 => V2, _ => V3 };
}

/// <summary>
/// A thread's accumulators in <see cref="GemmKernels"/>' tiled kernel, as named fields: ILGPU keeps struct fields in
/// registers, but it neither unrolls loops nor keeps a local array in registers (it would live in slow local memory).
/// Rows and columns come in 4-wide fragments: <see cref="MultiplyAdd"/> takes the thread's A fragments (a0: rows 0-3,
/// a1: rows 4-7) and B fragments (b0: columns 0-3, b1: columns 4-7) of one K step, each one 16-byte shared-memory load,
/// and adds their outer product; a tile with 4 rows or columns ignores a1 or b1. (The fields are written out, one
/// struct per register-tile shape: C# has no fixed-size arrays of registers.)
/// </summary>
internal interface IRegisterTile
{
    int Rows { get; }

    int Cols { get; }

    /// <summary>acc += the outer product of the A fragments (Rows floats) and the B fragments (Cols floats).</summary>
    void MultiplyAdd(Quad a0, Quad a1, Quad b0, Quad b1);

    /// <summary>Accumulators (r, 4·quad .. 4·quad + 3).</summary>
    Quad Get(int r, int quad);
}


/// <summary>8×8 accumulators, 64 FFMA per K step from four 16-byte loads: the register tile of <see cref="Tile128x128"/>.</summary>
internal struct RegisterTile8x8 : IRegisterTile
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

    public void MultiplyAdd(Quad a0, Quad a1, Quad b0, Quad b1)
    {
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

    public readonly Quad Get(int r, int quad) => r switch
    {
        0 => quad == 0 ? new Quad(c0_0, c0_1, c0_2, c0_3) : new Quad(c0_4, c0_5, c0_6, c0_7),
        1 => quad == 0 ? new Quad(c1_0, c1_1, c1_2, c1_3) : new Quad(c1_4, c1_5, c1_6, c1_7),
        2 => quad == 0 ? new Quad(c2_0, c2_1, c2_2, c2_3) : new Quad(c2_4, c2_5, c2_6, c2_7),
        3 => quad == 0 ? new Quad(c3_0, c3_1, c3_2, c3_3) : new Quad(c3_4, c3_5, c3_6, c3_7),
        4 => quad == 0 ? new Quad(c4_0, c4_1, c4_2, c4_3) : new Quad(c4_4, c4_5, c4_6, c4_7),
        5 => quad == 0 ? new Quad(c5_0, c5_1, c5_2, c5_3) : new Quad(c5_4, c5_5, c5_6, c5_7),
        6 => quad == 0 ? new Quad(c6_0, c6_1, c6_2, c6_3) : new Quad(c6_4, c6_5, c6_6, c6_7),
        _ => quad == 0 ? new Quad(c7_0, c7_1, c7_2, c7_3) : new Quad(c7_4, c7_5, c7_6, c7_7),
    };
}

/// <summary>8×4 accumulators, 32 FFMA per K step from three 16-byte loads: <see cref="Tile128x64"/>.</summary>
internal struct RegisterTile8x4 : IRegisterTile
{
    float c0_0, c0_1, c0_2, c0_3;
    float c1_0, c1_1, c1_2, c1_3;
    float c2_0, c2_1, c2_2, c2_3;
    float c3_0, c3_1, c3_2, c3_3;
    float c4_0, c4_1, c4_2, c4_3;
    float c5_0, c5_1, c5_2, c5_3;
    float c6_0, c6_1, c6_2, c6_3;
    float c7_0, c7_1, c7_2, c7_3;

    public readonly int Rows => 8;

    public readonly int Cols => 4;

    public void MultiplyAdd(Quad a0, Quad a1, Quad b0, Quad b1)
    {
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
        c4_0 += a1.V0 * b0.V0;
        c4_1 += a1.V0 * b0.V1;
        c4_2 += a1.V0 * b0.V2;
        c4_3 += a1.V0 * b0.V3;
        c5_0 += a1.V1 * b0.V0;
        c5_1 += a1.V1 * b0.V1;
        c5_2 += a1.V1 * b0.V2;
        c5_3 += a1.V1 * b0.V3;
        c6_0 += a1.V2 * b0.V0;
        c6_1 += a1.V2 * b0.V1;
        c6_2 += a1.V2 * b0.V2;
        c6_3 += a1.V2 * b0.V3;
        c7_0 += a1.V3 * b0.V0;
        c7_1 += a1.V3 * b0.V1;
        c7_2 += a1.V3 * b0.V2;
        c7_3 += a1.V3 * b0.V3;
    }

    public readonly Quad Get(int r, int quad) => r switch
    {
        0 => new Quad(c0_0, c0_1, c0_2, c0_3),
        1 => new Quad(c1_0, c1_1, c1_2, c1_3),
        2 => new Quad(c2_0, c2_1, c2_2, c2_3),
        3 => new Quad(c3_0, c3_1, c3_2, c3_3),
        4 => new Quad(c4_0, c4_1, c4_2, c4_3),
        5 => new Quad(c5_0, c5_1, c5_2, c5_3),
        6 => new Quad(c6_0, c6_1, c6_2, c6_3),
        _ => new Quad(c7_0, c7_1, c7_2, c7_3),
    };
}

/// <summary>4×8 accumulators, 32 FFMA per K step from three 16-byte loads: the 64-, 32- and 16-row tilings with wide N.</summary>
internal struct RegisterTile4x8 : IRegisterTile
{
    float c0_0, c0_1, c0_2, c0_3, c0_4, c0_5, c0_6, c0_7;
    float c1_0, c1_1, c1_2, c1_3, c1_4, c1_5, c1_6, c1_7;
    float c2_0, c2_1, c2_2, c2_3, c2_4, c2_5, c2_6, c2_7;
    float c3_0, c3_1, c3_2, c3_3, c3_4, c3_5, c3_6, c3_7;

    public readonly int Rows => 4;

    public readonly int Cols => 8;

    public void MultiplyAdd(Quad a0, Quad a1, Quad b0, Quad b1)
    {
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

    public readonly Quad Get(int r, int quad) => r switch
    {
        0 => quad == 0 ? new Quad(c0_0, c0_1, c0_2, c0_3) : new Quad(c0_4, c0_5, c0_6, c0_7),
        1 => quad == 0 ? new Quad(c1_0, c1_1, c1_2, c1_3) : new Quad(c1_4, c1_5, c1_6, c1_7),
        2 => quad == 0 ? new Quad(c2_0, c2_1, c2_2, c2_3) : new Quad(c2_4, c2_5, c2_6, c2_7),
        _ => quad == 0 ? new Quad(c3_0, c3_1, c3_2, c3_3) : new Quad(c3_4, c3_5, c3_6, c3_7),
    };
}

/// <summary>4×4 accumulators, 16 FFMA per K step from two 16-byte loads: the tilings with few columns, and the CPU accelerator's <see cref="Tile16x16"/>.</summary>
internal struct RegisterTile4x4 : IRegisterTile
{
    float c0_0, c0_1, c0_2, c0_3;
    float c1_0, c1_1, c1_2, c1_3;
    float c2_0, c2_1, c2_2, c2_3;
    float c3_0, c3_1, c3_2, c3_3;

    public readonly int Rows => 4;

    public readonly int Cols => 4;

    public void MultiplyAdd(Quad a0, Quad a1, Quad b0, Quad b1)
    {
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

    public readonly Quad Get(int r, int quad) => r switch
    {
        0 => new Quad(c0_0, c0_1, c0_2, c0_3),
        1 => new Quad(c1_0, c1_1, c1_2, c1_3),
        2 => new Quad(c2_0, c2_1, c2_2, c2_3),
        _ => new Quad(c3_0, c3_1, c3_2, c3_3),
    };
}
