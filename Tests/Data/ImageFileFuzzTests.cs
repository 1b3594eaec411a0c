using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;
using SkiaSharp;

namespace RevNetIlgpu.Tests.Data;

public class ImageFileFuzzTests
{
    private const int Iterations = 10_000;

    [TestCase(SKEncodedImageFormat.Png, true)]
    [TestCase(SKEncodedImageFormat.Png, false)]
    [TestCase(SKEncodedImageFormat.Jpeg, false)]
    public void Decode_MutatedFiles_LoadOrThrowInvalidData(SKEncodedImageFormat format, bool grey)
    {
        var random = new Random(3);
        var valid = GeneratedImages.Encode(12, 10, (_, _) => ((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)), grey, format);
        var fuzzer = new MutationFuzzer(valid, seed: (int)format * 2 + (grey ? 1 : 0));
        // The size fields are where a forged header could demand gigabytes: PNG's IHDR width and height (bytes 16-23),
        // JPEG's SOF0 height and width (after FF C0 and 3 bytes).
        int sizeAt = format == SKEncodedImageFormat.Png ? 16 : FindSof(valid) + 5;
        fuzzer.FieldMutations.Add((r, bytes) =>
        {
            int at = sizeAt + (format == SKEncodedImageFormat.Png ? 4 * r.Next(2) : 2 * r.Next(2));
            uint extreme = MutationFuzzer.ExtremeInt32[r.Next(MutationFuzzer.ExtremeInt32.Length)];
            for (int b = 0; b < (format == SKEncodedImageFormat.Png ? 4 : 2) && at + b < bytes.Length; b++)
                bytes[at + b] = (byte)(extreme >> (8 * b));
            return bytes;
        });

        var (loaded, rejected) = fuzzer.Run(Iterations, bytes => ImageFile.Decode(bytes, "image", 3, 8, 8), $"{format}{(grey ? " grey" : "")}");

        Assert.That(loaded, Is.GreaterThan(0), "pixel-only mutations still decode");
        Assert.That(rejected, Is.GreaterThan(0), "truncations are rejected");
    }

    static int FindSof(byte[] jpeg)
    {
        for (int i = 0; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) return i;
        throw new InvalidOperationException("the generated JPEG has no baseline SOF0 marker");
    }
}
