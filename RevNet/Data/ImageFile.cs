using SkiaSharp;

namespace RevNetIlgpu.RevNet.Data;

/// <summary>What an image file's header says, read without decoding its pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="IsGrey">The file stores one grey channel (a greyscale PNG or JPEG).</param>
public readonly record struct ImageHeader(int Width, int Height, bool IsGrey);

/// <summary>
/// Decodes PNG and JPEG files (anything SkiaSharp decodes) into float32 pixels in [0, 1], [Channels, Height, Width],
/// resized to cover the target size with the aspect ratio kept and centre-cropped (torchvision's Resize(N) then
/// CenterCrop(N) for a square target). Colour images become grey by ITU-R 601 luma (as PIL's convert("L")); alpha is
/// dropped (as convert("RGB")). Every bad input is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class ImageFile
{
    /// <summary>Largest image accepted (width x height), so a forged header cannot demand gigabytes.</summary>
    public const long MaxPixels = 50_000_000;

    /// <summary>The header of the image in <paramref name="path"/>, reading only as much of the file as the header takes.</summary>
    public static ImageHeader ReadHeader(string path)
    {
        long length;
        try
        {
            length = new FileInfo(path).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MalformedFile.Error(path, $"cannot be read ({e.Message})", e);
        }
        var file = new SKFileStream(path);
        if (!file.IsValid)
        {
            file.Dispose();
            throw MalformedFile.Error(path, "cannot be opened");
        }
        using var codec = OpenCodec(file, length, path);
        return HeaderOf(codec);
    }

    /// <summary>The header of an encoded image; <paramref name="source"/> names it in messages.</summary>
    public static ImageHeader ReadHeader(byte[] encoded, string source)
    {
        using var codec = OpenCodec(new SKMemoryStream(encoded), encoded.Length, source);
        return HeaderOf(codec);
    }

    /// <summary>The image in <paramref name="path"/> as [channels, height, width] floats in [0, 1].</summary>
    public static float[] Decode(string path, int channels, int height, int width) => Decode(ReadBytes(path), path, channels, height, width);

    /// <summary>
    /// Decodes <paramref name="encoded"/> and writes it, resized and centre-cropped to <paramref name="height"/> x
    /// <paramref name="width"/>, as [channels, height, width] floats in [0, 1] (channels 1 or 3).
    /// </summary>
    public static float[] Decode(byte[] encoded, string source, int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "images have 1 (grey) or 3 (RGB) channels");
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"target size {height}x{width} must be positive");
        using var full = DecodeOpaque(encoded, source, height, width);
        if (full.Width == width && full.Height == height) return ToPlanes(full, channels);
        using var resized = CoverAndCrop(full, height, width, source);
        return ToPlanes(resized, channels);
    }

    static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MalformedFile.Error(path, $"cannot be read ({e.Message})", e);
        }
    }

    /// <summary>A codec over <paramref name="stream"/> (of <paramref name="length"/> bytes), which it takes over and releases with itself.</summary>
    static SKCodec OpenCodec(SKStream stream, long length, string source)
    {
        if (length == 0)
        {
            stream.Dispose();
            throw MalformedFile.Error(source, "is empty (0 bytes), not an image");
        }
        var codec = SKCodec.Create(stream, out var result);
        if (codec is null)
        {
            stream.Dispose();
            throw MalformedFile.Error(source, $"is not an image SkiaSharp can decode (PNG, JPEG, ...; SkiaSharp says {result})");
        }
        var header = codec.Info;
        if (header.Width <= 0 || header.Height <= 0 || (long)header.Width * header.Height > MaxPixels)
        {
            codec.Dispose();
            throw MalformedFile.Error(source, $"declares {header.Width}x{header.Height} pixels, outside 1..{MaxPixels}");
        }
        return codec;
    }

    static ImageHeader HeaderOf(SKCodec codec) => new(codec.Info.Width, codec.Info.Height, codec.Info.ColorType == SKColorType.Gray8);

    /// <summary>
    /// The image as opaque RGBA (alpha is dropped, not blended, so pixels keep their stored colour), at full size or, where
    /// the codec can decode smaller (JPEG: k/8 scales, in the DCT), at the smallest size that still covers height x width.
    /// </summary>
    static SKBitmap DecodeOpaque(byte[] encoded, string source, int height, int width)
    {
        using var codec = OpenCodec(new SKMemoryStream(encoded), encoded.Length, source);
        var size = new SKSizeI(codec.Info.Width, codec.Info.Height);
        // The codec rounds a requested scale to its nearest, so ask for each eighth in turn, smallest first.
        for (int eighths = 1; eighths < 8; eighths++)
        {
            var scaled = codec.GetScaledDimensions(eighths / 8f);
            if (scaled.Width >= width && scaled.Height >= height && scaled.Width < size.Width)
            {
                size = scaled;
                break;
            }
        }
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw MalformedFile.Error(source, result == SKCodecResult.IncompleteInput
                ? "is truncated (its pixel data ends early)"
                : $"could not be decoded ({result})");
        }
        var pixels = bitmap.GetPixelSpan();
        for (int i = 3; i < pixels.Length; i += 4) pixels[i] = 255;
        return bitmap;
    }

    /// <summary>
    /// The centred region of <paramref name="image"/> with the target's aspect ratio, scaled to height x width (linear
    /// filtering with mipmaps, so large reductions average instead of alias).
    /// </summary>
    static SKBitmap CoverAndCrop(SKBitmap image, int height, int width, string source)
    {
        // Cover: scale by the larger ratio, then crop the overflow equally on both sides.
        double scale = Math.Max((double)width / image.Width, (double)height / image.Height);
        int cropWidth = Math.Clamp((int)Math.Round(width / scale), 1, image.Width);
        int cropHeight = Math.Clamp((int)Math.Round(height / scale), 1, image.Height);
        var region = SKRectI.Create((image.Width - cropWidth) / 2, (image.Height - cropHeight) / 2, cropWidth, cropHeight);
        using var cropped = new SKBitmap();
        if (!image.ExtractSubset(cropped, region)) throw MalformedFile.Error(source, $"cannot be cropped to {region}");
        var resized = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        if (!cropped.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)))
        {
            resized.Dispose();
            throw MalformedFile.Error(source, $"cannot be resized from {cropWidth}x{cropHeight} to {width}x{height}");
        }
        return resized;
    }

    /// <summary>RGBA bytes to [channels, H, W] floats in [0, 1]: R, G, B planes, or one luma plane.</summary>
    static float[] ToPlanes(SKBitmap image, int channels)
    {
        int plane = image.Width * image.Height;
        var rgba = image.GetPixelSpan();
        var planes = new float[channels * plane];
        for (int p = 0; p < plane; p++)
        {
            byte r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
            if (channels == 1)
            {
                // A grey pixel stays exactly its value (the weights' float sum is not exactly 1).
                planes[p] = (r == g && g == b ? r : 0.299f * r + 0.587f * g + 0.114f * b) / 255f;
            }
            else
            {
                planes[p] = r / 255f;
                planes[plane + p] = g / 255f;
                planes[2 * plane + p] = b / 255f;
            }
        }
        return planes;
    }
}
