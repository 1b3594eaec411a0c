using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The two register-tiled inner loops of the host convolution, one implementation per <see cref="SimdLevel"/>
/// (chosen by the caller as a generic argument, so the JIT compiles each loop with its tile sizes as constants).
/// Both read the im2col operand as half-vector segments through offset tables, so the same loop runs on a packed
/// panel or directly on a zero-padded image: at stride 1 an im2col row segment is a run of an image row, and an
/// output row as short as half a vector (8x8 maps with AVX-512) still needs no copy at all.
/// <para><b>Outer product</b> (forward, grad-input): a TileRows x TileColumns block of C in registers while the
/// reduction runs: A packed as [depth][TileRows] (one broadcast per row); row r of B is four segments of
/// TileColumns/4 floats at s0..s3 + rowOffsets[r]. The flame/blis design: every loaded B vector feeds TileRows FMAs.</para>
/// <para><b>Dot products</b> (grad-weight): both operands keep the reduction axis (output positions) contiguous, so a
/// DotRows x DotColumns block of vector accumulators sums along it and is reduced horizontally once at the end:
/// neither operand needs a transposed packing.</para>
/// </summary>
internal unsafe interface IConvMicroKernel
{
    /// <summary>Rows (output channels) of the outer-product tile.</summary>
    static abstract int TileRows { get; }

    /// <summary>Columns (output positions) of the outer-product tile: four segments, each read from its own pointer.</summary>
    static abstract int TileColumns { get; }

    /// <summary>
    /// c[i·ldc + j] = init[i] + Σ_r a[r·TileRows + i]·B[r, j] for the whole tile (c overwritten), where B[r, j] is
    /// s_q[rowOffsets[r] + j − q·TileColumns/4] for j in segment q, read as <typeparamref name="TLayout"/> says.
    /// </summary>
    static abstract void OuterProduct<TLayout>(int depth, float* a, int* rowOffsets, float* s0, float* s1, float* s2, float* s3, float* init, float* c, int ldc)
        where TLayout : struct, ISegmentLayout;

    /// <summary>Floats per vector of the dot products: two segments of VectorWidth/2.</summary>
    static abstract int VectorWidth { get; }

    /// <summary>Rows (output channels) of the dot-product block.</summary>
    static abstract int DotRows { get; }

    /// <summary>Columns (weight taps) of the dot-product block.</summary>
    static abstract int DotColumns { get; }

    /// <summary>
    /// gw[i·ldgw + j] += Σ_v Σ_l g[i·ldg + v·VectorWidth + l]·X_j[v, l] over <paramref name="vectors"/> vectors v and
    /// lanes l, where X_j[v, l] is columns[segmentOffsets[2v] + rowOffsets[j] + l] for the first half of the lanes and
    /// columns[segmentOffsets[2v + 1] + rowOffsets[j] + l − VectorWidth/2] for the second, both read as
    /// <typeparamref name="TLayout"/> says.
    /// </summary>
    static abstract void DotProducts<TLayout>(int vectors, float* g, int ldg, float* columns, int* segmentOffsets, int* rowOffsets, float* gw, int ldgw)
        where TLayout : struct, ISegmentLayout;
}

/// <summary>AVX-512F: an 8x32 outer-product tile (16 zmm accumulators) and an 8x3 dot-product block (24: three im2col loads, the costly ones, per 24 FMAs).</summary>
internal readonly unsafe struct Avx512MicroKernel : IConvMicroKernel
{
    public static int TileRows => 8;

    public static int TileColumns => 32;

    public static int VectorWidth => 16;

    public static int DotRows => 8;

    public static int DotColumns => 3;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OuterProduct<TLayout>(int depth, float* a, int* rowOffsets, float* s0, float* s1, float* s2, float* s3, float* init, float* c, int ldc)
        where TLayout : struct, ISegmentLayout
    {
        Vector512<float> c00 = Vector512.Create(init[0]), c01 = c00;
        Vector512<float> c10 = Vector512.Create(init[1]), c11 = c10;
        Vector512<float> c20 = Vector512.Create(init[2]), c21 = c20;
        Vector512<float> c30 = Vector512.Create(init[3]), c31 = c30;
        Vector512<float> c40 = Vector512.Create(init[4]), c41 = c40;
        Vector512<float> c50 = Vector512.Create(init[5]), c51 = c50;
        Vector512<float> c60 = Vector512.Create(init[6]), c61 = c60;
        Vector512<float> c70 = Vector512.Create(init[7]), c71 = c70;
        for (int r = 0; r < depth; r++, a += 8)
        {
            int offset = rowOffsets[r];
            var b0 = TLayout.Load512(s0 + offset, s1 + offset);
            var b1 = TLayout.Load512(s2 + offset, s3 + offset);
            var a0 = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(a0, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(a1, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(a2, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(a3, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(a4, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(a5, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(a6, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(a7, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(a7, b1, c71);
        }
        c00.Store(c + 0 * ldc);
        c01.Store(c + 0 * ldc + 16);
        c10.Store(c + 1 * ldc);
        c11.Store(c + 1 * ldc + 16);
        c20.Store(c + 2 * ldc);
        c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc);
        c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc);
        c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc);
        c51.Store(c + 5 * ldc + 16);
        c60.Store(c + 6 * ldc);
        c61.Store(c + 6 * ldc + 16);
        c70.Store(c + 7 * ldc);
        c71.Store(c + 7 * ldc + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotProducts<TLayout>(int vectors, float* g, int ldg, float* columns, int* segmentOffsets, int* rowOffsets, float* gw, int ldgw)
        where TLayout : struct, ISegmentLayout
    {
        Vector512<float> s00 = default, s01 = default, s02 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default;
        Vector512<float> s40 = default, s41 = default, s42 = default;
        Vector512<float> s50 = default, s51 = default, s52 = default;
        Vector512<float> s60 = default, s61 = default, s62 = default;
        Vector512<float> s70 = default, s71 = default, s72 = default;
        int o0 = rowOffsets[0]; int o1 = rowOffsets[1]; int o2 = rowOffsets[2];
        for (int v = 0; v < vectors; v++)
        {
            float* low = columns + segmentOffsets[2 * v], high = columns + segmentOffsets[2 * v + 1];
            var x0 = TLayout.Load512(low + o0, high + o0);
            var x1 = TLayout.Load512(low + o1, high + o1);
            var x2 = TLayout.Load512(low + o2, high + o2);
            var g0 = Vector512.Load(g + 0 * ldg + v * 16);
            s00 = Avx512F.FusedMultiplyAdd(g0, x0, s00);
            s01 = Avx512F.FusedMultiplyAdd(g0, x1, s01);
            s02 = Avx512F.FusedMultiplyAdd(g0, x2, s02);
            var g1 = Vector512.Load(g + 1 * ldg + v * 16);
            s10 = Avx512F.FusedMultiplyAdd(g1, x0, s10);
            s11 = Avx512F.FusedMultiplyAdd(g1, x1, s11);
            s12 = Avx512F.FusedMultiplyAdd(g1, x2, s12);
            var g2 = Vector512.Load(g + 2 * ldg + v * 16);
            s20 = Avx512F.FusedMultiplyAdd(g2, x0, s20);
            s21 = Avx512F.FusedMultiplyAdd(g2, x1, s21);
            s22 = Avx512F.FusedMultiplyAdd(g2, x2, s22);
            var g3 = Vector512.Load(g + 3 * ldg + v * 16);
            s30 = Avx512F.FusedMultiplyAdd(g3, x0, s30);
            s31 = Avx512F.FusedMultiplyAdd(g3, x1, s31);
            s32 = Avx512F.FusedMultiplyAdd(g3, x2, s32);
            var g4 = Vector512.Load(g + 4 * ldg + v * 16);
            s40 = Avx512F.FusedMultiplyAdd(g4, x0, s40);
            s41 = Avx512F.FusedMultiplyAdd(g4, x1, s41);
            s42 = Avx512F.FusedMultiplyAdd(g4, x2, s42);
            var g5 = Vector512.Load(g + 5 * ldg + v * 16);
            s50 = Avx512F.FusedMultiplyAdd(g5, x0, s50);
            s51 = Avx512F.FusedMultiplyAdd(g5, x1, s51);
            s52 = Avx512F.FusedMultiplyAdd(g5, x2, s52);
            var g6 = Vector512.Load(g + 6 * ldg + v * 16);
            s60 = Avx512F.FusedMultiplyAdd(g6, x0, s60);
            s61 = Avx512F.FusedMultiplyAdd(g6, x1, s61);
            s62 = Avx512F.FusedMultiplyAdd(g6, x2, s62);
            var g7 = Vector512.Load(g + 7 * ldg + v * 16);
            s70 = Avx512F.FusedMultiplyAdd(g7, x0, s70);
            s71 = Avx512F.FusedMultiplyAdd(g7, x1, s71);
            s72 = Avx512F.FusedMultiplyAdd(g7, x2, s72);
        }
        gw[0 * ldgw + 0] += Vector512.Sum(s00);
        gw[0 * ldgw + 1] += Vector512.Sum(s01);
        gw[0 * ldgw + 2] += Vector512.Sum(s02);
        gw[1 * ldgw + 0] += Vector512.Sum(s10);
        gw[1 * ldgw + 1] += Vector512.Sum(s11);
        gw[1 * ldgw + 2] += Vector512.Sum(s12);
        gw[2 * ldgw + 0] += Vector512.Sum(s20);
        gw[2 * ldgw + 1] += Vector512.Sum(s21);
        gw[2 * ldgw + 2] += Vector512.Sum(s22);
        gw[3 * ldgw + 0] += Vector512.Sum(s30);
        gw[3 * ldgw + 1] += Vector512.Sum(s31);
        gw[3 * ldgw + 2] += Vector512.Sum(s32);
        gw[4 * ldgw + 0] += Vector512.Sum(s40);
        gw[4 * ldgw + 1] += Vector512.Sum(s41);
        gw[4 * ldgw + 2] += Vector512.Sum(s42);
        gw[5 * ldgw + 0] += Vector512.Sum(s50);
        gw[5 * ldgw + 1] += Vector512.Sum(s51);
        gw[5 * ldgw + 2] += Vector512.Sum(s52);
        gw[6 * ldgw + 0] += Vector512.Sum(s60);
        gw[6 * ldgw + 1] += Vector512.Sum(s61);
        gw[6 * ldgw + 2] += Vector512.Sum(s62);
        gw[7 * ldgw + 0] += Vector512.Sum(s70);
        gw[7 * ldgw + 1] += Vector512.Sum(s71);
        gw[7 * ldgw + 2] += Vector512.Sum(s72);
    }
}

/// <summary>AVX2 with FMA: the flame/blis haswell 6x16 outer-product tile (12 ymm accumulators) and a 3x4 dot-product block (12).</summary>
internal readonly unsafe struct Avx2MicroKernel : IConvMicroKernel
{
    public static int TileRows => 6;

    public static int TileColumns => 16;

    public static int VectorWidth => 8;

    public static int DotRows => 3;

    public static int DotColumns => 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OuterProduct<TLayout>(int depth, float* a, int* rowOffsets, float* s0, float* s1, float* s2, float* s3, float* init, float* c, int ldc)
        where TLayout : struct, ISegmentLayout
    {
        Vector256<float> c00 = Vector256.Create(init[0]), c01 = c00;
        Vector256<float> c10 = Vector256.Create(init[1]), c11 = c10;
        Vector256<float> c20 = Vector256.Create(init[2]), c21 = c20;
        Vector256<float> c30 = Vector256.Create(init[3]), c31 = c30;
        Vector256<float> c40 = Vector256.Create(init[4]), c41 = c40;
        Vector256<float> c50 = Vector256.Create(init[5]), c51 = c50;
        for (int r = 0; r < depth; r++, a += 6)
        {
            int offset = rowOffsets[r];
            var b0 = TLayout.Load256(s0 + offset, s1 + offset);
            var b1 = TLayout.Load256(s2 + offset, s3 + offset);
            var a0 = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(a0, b0, c00);
            c01 = Fma.MultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(a1, b0, c10);
            c11 = Fma.MultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(a2, b0, c20);
            c21 = Fma.MultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(a3, b0, c30);
            c31 = Fma.MultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(a4, b0, c40);
            c41 = Fma.MultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(a5, b0, c50);
            c51 = Fma.MultiplyAdd(a5, b1, c51);
        }
        c00.Store(c + 0 * ldc);
        c01.Store(c + 0 * ldc + 8);
        c10.Store(c + 1 * ldc);
        c11.Store(c + 1 * ldc + 8);
        c20.Store(c + 2 * ldc);
        c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc);
        c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc);
        c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc);
        c51.Store(c + 5 * ldc + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotProducts<TLayout>(int vectors, float* g, int ldg, float* columns, int* segmentOffsets, int* rowOffsets, float* gw, int ldgw)
        where TLayout : struct, ISegmentLayout
    {
        Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector256<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector256<float> s20 = default, s21 = default, s22 = default, s23 = default;
        int o0 = rowOffsets[0]; int o1 = rowOffsets[1]; int o2 = rowOffsets[2]; int o3 = rowOffsets[3];
        for (int v = 0; v < vectors; v++)
        {
            float* low = columns + segmentOffsets[2 * v], high = columns + segmentOffsets[2 * v + 1];
            var g0 = Vector256.Load(g + 0 * ldg + v * 8);
            var g1 = Vector256.Load(g + 1 * ldg + v * 8);
            var g2 = Vector256.Load(g + 2 * ldg + v * 8);
            var x0 = TLayout.Load256(low + o0, high + o0);
            s00 = Fma.MultiplyAdd(g0, x0, s00);
            s10 = Fma.MultiplyAdd(g1, x0, s10);
            s20 = Fma.MultiplyAdd(g2, x0, s20);
            var x1 = TLayout.Load256(low + o1, high + o1);
            s01 = Fma.MultiplyAdd(g0, x1, s01);
            s11 = Fma.MultiplyAdd(g1, x1, s11);
            s21 = Fma.MultiplyAdd(g2, x1, s21);
            var x2 = TLayout.Load256(low + o2, high + o2);
            s02 = Fma.MultiplyAdd(g0, x2, s02);
            s12 = Fma.MultiplyAdd(g1, x2, s12);
            s22 = Fma.MultiplyAdd(g2, x2, s22);
            var x3 = TLayout.Load256(low + o3, high + o3);
            s03 = Fma.MultiplyAdd(g0, x3, s03);
            s13 = Fma.MultiplyAdd(g1, x3, s13);
            s23 = Fma.MultiplyAdd(g2, x3, s23);
        }
        gw[0 * ldgw + 0] += Vector256.Sum(s00);
        gw[0 * ldgw + 1] += Vector256.Sum(s01);
        gw[0 * ldgw + 2] += Vector256.Sum(s02);
        gw[0 * ldgw + 3] += Vector256.Sum(s03);
        gw[1 * ldgw + 0] += Vector256.Sum(s10);
        gw[1 * ldgw + 1] += Vector256.Sum(s11);
        gw[1 * ldgw + 2] += Vector256.Sum(s12);
        gw[1 * ldgw + 3] += Vector256.Sum(s13);
        gw[2 * ldgw + 0] += Vector256.Sum(s20);
        gw[2 * ldgw + 1] += Vector256.Sum(s21);
        gw[2 * ldgw + 2] += Vector256.Sum(s22);
        gw[2 * ldgw + 3] += Vector256.Sum(s23);
    }
}

/// <summary>Plain scalar code for processors without AVX2: the same loops with 4x4 blocks (segments of one float, "vectors" of two).</summary>
internal readonly unsafe struct ScalarMicroKernel : IConvMicroKernel
{
    public static int TileRows => 4;

    public static int TileColumns => 4;

    public static int VectorWidth => 2;

    public static int DotRows => 4;

    public static int DotColumns => 4;

    public static void OuterProduct<TLayout>(int depth, float* a, int* rowOffsets, float* s0, float* s1, float* s2, float* s3, float* init, float* c, int ldc)
        where TLayout : struct, ISegmentLayout
    {
        float* acc = stackalloc float[16];
        float** segments = stackalloc float*[4] { s0, s1, s2, s3 };
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) acc[i * 4 + j] = init[i];
        for (int r = 0; r < depth; r++, a += 4)
            for (int j = 0; j < 4; j++)
            {
                float b = segments[j][rowOffsets[r]];
                for (int i = 0; i < 4; i++) acc[i * 4 + j] = MathF.FusedMultiplyAdd(a[i], b, acc[i * 4 + j]);
            }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) c[i * ldc + j] = acc[i * 4 + j];
    }

    public static void DotProducts<TLayout>(int vectors, float* g, int ldg, float* columns, int* segmentOffsets, int* rowOffsets, float* gw, int ldgw)
        where TLayout : struct, ISegmentLayout
    {
        // One pass over the positions keeping the 4x4 block of sums: each loaded value feeds four products.
        float* sums = stackalloc float[16];
        for (int t = 0; t < 16; t++) sums[t] = 0f;
        for (int v = 0; v < 2 * vectors; v++)
        {
            float* at = columns + segmentOffsets[v];
            for (int j = 0; j < 4; j++)
            {
                float x = at[rowOffsets[j]];
                for (int i = 0; i < 4; i++) sums[i * 4 + j] = MathF.FusedMultiplyAdd(g[i * ldg + v], x, sums[i * 4 + j]);
            }
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) gw[i * ldgw + j] += sums[i * 4 + j];
    }
}

