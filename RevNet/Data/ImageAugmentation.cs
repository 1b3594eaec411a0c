namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// The RevNet paper's augmentation: zero-pad by <see cref="Padding"/> on every side, crop a random
/// window of the original size, and optionally mirror left-right (switch that off for digits).
/// </summary>
public sealed record ImageAugmentation(int Padding, bool HorizontalFlip)
{
    /// <summary>CIFAR setting: pad 4, random 32x32 crop, random horizontal flip.</summary>
    public static ImageAugmentation Paper { get; } = new(4, true);

    /// <summary>
    /// Draws a crop offset in [0, 2*Padding] per axis, then a flip, from <paramref name="random"/>,
    /// and writes the augmented [C,H,W] image to <paramref name="output"/>.
    /// </summary>
    public void Apply(ReadOnlySpan<float> image, Span<float> output, int channels, int height, int width, ref SplitMix64 random)
    {
        int offsetY = random.NextInt(2 * Padding + 1) - Padding;
        int offsetX = random.NextInt(2 * Padding + 1) - Padding;
        bool flip = HorizontalFlip && random.NextBool();
        Crop(image, output, channels, height, width, offsetY, offsetX, flip);
    }

    /// <summary>
    /// output[c, y, x] = image[c, y + offsetY, x' + offsetX] where x' is x or W-1-x when flipped;
    /// pixels from outside the image are zero (the padding).
    /// </summary>
    public static void Crop(ReadOnlySpan<float> image, Span<float> output, int channels, int height, int width, int offsetY, int offsetX, bool flip)
    {
        int plane = height * width;
        if (image.Length != channels * plane || output.Length != channels * plane)
            throw new ArgumentException($"image and output must both hold {channels}x{height}x{width} floats");
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                int sourceY = y + offsetY;
                var row = output.Slice(c * plane + y * width, width);
                if ((uint)sourceY >= (uint)height)
                {
                    row.Clear();
                    continue;
                }
                var sourceRow = image.Slice(c * plane + sourceY * width, width);
                for (int x = 0; x < width; x++)
                {
                    int sourceX = (flip ? width - 1 - x : x) + offsetX;
                    row[x] = (uint)sourceX < (uint)width ? sourceRow[sourceX] : 0f;
                }
            }
        }
    }
}
