using SkiaSharp;

namespace RevNetIlgpu.Tests.Data;

/// <summary>Encodes small generated images as PNG or JPEG with SkiaSharp, and lays them out as image folders.</summary>
internal static class GeneratedImages
{
    /// <summary>
    /// A width x height image whose pixel (x, y) is <paramref name="pixel"/>(x, y) as (r, g, b) bytes, encoded as PNG
    /// (lossless) or JPEG (quality 95); <paramref name="grey"/> stores one channel, the red value.
    /// </summary>
    public static byte[] Encode(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel, bool grey, SKEncodedImageFormat format)
    {
        var info = new SKImageInfo(width, height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var bytes = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                if (grey)
                {
                    bytes[y * width + x] = r;
                }
                else
                {
                    int at = 4 * (y * width + x);
                    (bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]) = (r, g, b, 255);
                }
            }
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    /// <summary>
    /// A class whose images are easy to tell apart: class 0 bright on the left half, class 1 on the top half, class 2 on
    /// the diagonal, with a little noise.
    /// </summary>
    public static Func<int, int, (byte, byte, byte)> Pattern(int label, int width, int height, Random random) => (x, y) =>
    {
        bool on = label switch
        {
            0 => x < width / 2,
            1 => y < height / 2,
            _ => Math.Abs(x * height - y * width) < width * height / 4,
        };
        byte v = (byte)Math.Clamp((on ? 200 : 40) + random.Next(-20, 21), 0, 255);
        return (v, (byte)(255 - v), (byte)(v / 2));
    };

    /// <summary>Writes <paramref name="count"/> images per class into root/split/class{k}/ and returns the root.</summary>
    public static void WriteSplit(string root, string split, int classes, int count, int width, int height, bool grey, SKEncodedImageFormat format, int seed)
    {
        var random = new Random(seed);
        string extension = format == SKEncodedImageFormat.Png ? "png" : "jpg";
        for (int label = 0; label < classes; label++)
        {
            string folder = Path.Combine(root, split, $"class{label}");
            Directory.CreateDirectory(folder);
            for (int i = 0; i < count; i++)
                File.WriteAllBytes(Path.Combine(folder, $"{split}-{seed}-{i:D3}.{extension}"), Encode(width, height, Pattern(label, width, height, random), grey, format));
        }
    }
}
