using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// The im2col matrix of a zero-padded image [Channels, Height, Width] (<see cref="ZeroPaddedImage"/>) for a KH x KW
/// window at <see cref="Stride"/>: row r = (c, kh, kw), column p = (oh, ow) holds image[c, oh·S + kh, ow·S + kw].
/// <see cref="Pack"/> copies a block of it into a GEMM operand; the padding is already in the image, so every
/// copy is an unconditional run (a contiguous one at stride 1).
/// </summary>
internal readonly record struct Im2colMatrix(int Channels, int Height, int Width, int KH, int KW, int Stride, int OutH, int OutW)
{
    /// <summary>Rows of the matrix: C·KH·KW.</summary>
    public int Depth => Channels * KH * KW;

    /// <summary>Columns of the matrix: OutH·OutW.</summary>
    public int Positions => OutH * OutW;

    /// <summary>Where row r = (c, kh, kw) starts in the image: M[r, p] = image[RowOffset(r) + PositionOffset(p)].</summary>
    public int RowOffset(int r)
    {
        int taps = KH * KW, c = r / taps, tap = r - c * taps, kh = tap / KW;
        return (c * Height + kh) * Width + tap - kh * KW;
    }

    /// <summary>Where column p = (oh, ow) starts in the image (see <see cref="RowOffset"/>).</summary>
    public int PositionOffset(int p)
    {
        int oh = p / OutW;
        return (oh * Width + p - oh * OutW) * Stride;
    }

    /// <summary>
    /// dest[(r − r0)·ld + j] = M[r, p0 + j] for r in [r0, r0 + rows), j &lt; count; rows at or past <see cref="Depth"/> are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Pack(float* image, int r0, int rows, int p0, int count, float* dest, int ld)
    {
        int taps = KH * KW, depth = Depth, last = Math.Min(r0 + rows, depth);
        for (int r = Math.Max(r0, depth); r < r0 + rows; r++) new Span<float>(dest + (long)(r - r0) * ld, count).Clear();
        // One output row at a time: within it the positions are a run of consecutive input columns (stride apart).
        for (int j = 0; j < count;)
        {
            int p = p0 + j, oh = p / OutW, ow = p - oh * OutW, run = Math.Min(OutW - ow, count - j);
            float* origin = image + (long)oh * Stride * Width + ow * Stride;
            int c = r0 / taps, tap = r0 - c * taps, kh = tap / KW, kw = tap - kh * KW;
            for (int r = r0; r < last; r++)
            {
                float* from = origin + ((long)c * Height + kh) * Width + kw;
                float* to = dest + (long)(r - r0) * ld + j;
                if (Stride == 1) CopyRun(from, to, run);
                else for (int i = 0; i < run; i++) to[i] = from[i * Stride];
                if (++kw == KW) { kw = 0; if (++kh == KH) { kh = 0; c++; } }
            }
            j += run;
        }
    }

    static unsafe void CopyRun(float* from, float* to, int length) => new ReadOnlySpan<float>(from, length).CopyTo(new Span<float>(to, length));
}
