using System.Runtime.CompilerServices;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// One image [Channels, InH, InW] placed in a zero [Channels, Height, Width] canvas with its element (i, j) at
/// (Top + i, Left + j); elements that land outside are dropped (a negative offset crops). Top = Left = pad is a
/// convolution's zero padding; the grad-input phases use offsets of taps−1−(their shift). The host convolution reads
/// im2col from it with no bounds checks.
/// </summary>
internal readonly record struct ZeroPaddedImage(int Channels, int InH, int InW, int Top, int Left, int Height, int Width)
{
    /// <summary>Floats in the canvas.</summary>
    public long Length => (long)Channels * Height * Width;

    /// <summary>
    /// Writes the canvas of <paramref name="source"/> [Channels, InH, InW] to <paramref name="canvas"/> (Length floats),
    /// each element passed through <paramref name="activation"/> (none: copied) on its way in.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Fill(float* source, float* canvas, in InputActivation activation = default)
    {
        new Span<float>(canvas, checked((int)Length)).Clear();
        int firstJ = Math.Max(0, -Left), endJ = Math.Min(InW, Width - Left);
        if (firstJ >= endJ) return;
        int plane = InH * InW;
        // The activation runs over a whole channel at a time into this thread's buffer (one call per plane: per row, the
        // calls cost more than the arithmetic on 8-wide maps), whose rows are then placed like the source's.
        float* activated = activation.IsNone ? null : ThreadScratch.Get(ActivatedSlot, plane);
        for (int c = 0; c < Channels; c++)
        {
            float* channel = source + (long)c * plane;
            if (!activation.IsNone)
            {
                activation.Apply(c, new ReadOnlySpan<float>(channel, plane), new Span<float>(activated, plane));
                channel = activated;
            }
            for (int i = Math.Max(0, -Top), endI = Math.Min(InH, Height - Top); i < endI; i++)
            {
                float* from = channel + (long)i * InW + firstJ;
                float* to = canvas + ((long)c * Height + Top + i) * Width + Left + firstJ;
                new ReadOnlySpan<float>(from, endJ - firstJ).CopyTo(new Span<float>(to, endJ - firstJ));
            }
        }
    }

    /// <summary>The <see cref="ThreadScratch"/> slot of one activated channel (distinct from the convolutions' slots).</summary>
    const int ActivatedSlot = 6;
}
