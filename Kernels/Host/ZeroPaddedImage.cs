using System.Runtime.CompilerServices;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// One image [Channels, InH, InW] placed in a zero [Channels, Height, Width] canvas: element (i, j) lands at
/// (Top + i·Dilation, Left + j·Dilation); elements that land outside are dropped. Dilation 1 with Top = Left = pad
/// is a convolution's zero padding; dilation S with offset KH−1−pad turns a stride-S grad-input into a stride-1 correlation.
/// The host convolution packs im2col panels from it with no bounds checks.
/// </summary>
public readonly record struct ZeroPaddedImage(int Channels, int InH, int InW, int Top, int Left, int Dilation, int Height, int Width)
{
    /// <summary>Floats in the canvas.</summary>
    public long Length => (long)Channels * Height * Width;

    /// <summary>Writes the canvas of <paramref name="source"/> [Channels, InH, InW] to <paramref name="canvas"/> (Length floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Fill(float* source, float* canvas)
    {
        new Span<float>(canvas, checked((int)Length)).Clear();
        int firstJ = Left >= 0 ? 0 : (-Left + Dilation - 1) / Dilation;
        int endJ = Math.Min(InW, Width - Left <= 0 ? 0 : (Width - Left - 1) / Dilation + 1);
        if (firstJ >= endJ) return;
        for (int c = 0; c < Channels; c++)
            for (int i = 0; i < InH; i++)
            {
                int row = Top + i * Dilation;
                if (row < 0 || row >= Height) continue;
                float* from = source + ((long)c * InH + i) * InW;
                float* to = canvas + ((long)c * Height + row) * Width + Left;
                if (Dilation == 1)
                {
                    new ReadOnlySpan<float>(from + firstJ, endJ - firstJ).CopyTo(new Span<float>(to + firstJ, endJ - firstJ));
                    continue;
                }
                for (int j = firstJ; j < endJ; j++) to[j * Dilation] = from[j];
            }
    }
}
