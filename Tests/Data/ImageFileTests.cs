using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;
using SkiaSharp;

namespace RevNetIlgpu.Tests.Data;

public class ImageFileTests
{
    [Test]
    public void GreyPng_OfTheTargetSize_DecodesToItsExactValues()
    {
        var png = GeneratedImages.Encode(5, 3, (x, y) => ((byte)(x * 50 + y), 0, 0), grey: true, SKEncodedImageFormat.Png);

        var header = ImageFile.ReadHeader(png, "g.png");
        var pixels = ImageFile.Decode(png, "g.png", 1, 3, 5);

        Assert.That(header, Is.EqualTo(new ImageHeader(5, 3, IsGrey: true)));
        var expected = Enumerable.Range(0, 15).Select(i => (i % 5 * 50 + i / 5) / 255f);
        Assert.That(pixels, Is.EqualTo(expected), "no resampling when the size already fits; grey stays exact");
    }

    [Test]
    public void ColourPng_DecodesToRgbPlanes_AndToLumaForOneChannel()
    {
        var png = GeneratedImages.Encode(2, 2, (x, y) => ((byte)(10 + x), (byte)(100 + y), 200), grey: false, SKEncodedImageFormat.Png);

        var rgb = ImageFile.Decode(png, "c.png", 3, 2, 2);
        var grey = ImageFile.Decode(png, "c.png", 1, 2, 2);

        Assert.That(ImageFile.ReadHeader(png, "c.png").IsGrey, Is.False);
        Assert.That(rgb, Is.EqualTo(new[] { 10, 11, 10, 11, 100, 100, 101, 101, 200, 200, 200, 200 }.Select(v => v / 255f)));
        Assert.That(grey[3], Is.EqualTo((0.299f * 11 + 0.587f * 101 + 0.114f * 200) / 255f).Within(1e-6), "ITU-R 601 luma, as PIL's convert(\"L\")");
    }

    [Test]
    public void WideImage_IsScaledToCoverAndCentreCropped()
    {
        // 60x20: red, green, blue thirds. Covering 10x10 scales by 1/2 and keeps the centre 20x20: the green third only.
        var png = GeneratedImages.Encode(60, 20, (x, _) => x < 20 ? ((byte)255, (byte)0, (byte)0) : x < 40 ? ((byte)0, (byte)255, (byte)0) : ((byte)0, (byte)0, (byte)255),
            grey: false, SKEncodedImageFormat.Png);

        var pixels = ImageFile.Decode(png, "wide.png", 3, 10, 10);

        Assert.That(pixels[..100], Is.All.EqualTo(0f), "no red");
        Assert.That(pixels[100..200], Is.All.EqualTo(1f), "all green");
        Assert.That(pixels[200..], Is.All.EqualTo(0f), "no blue");
    }

    [Test]
    public void LargeImage_IsReducedByAveraging()
    {
        // A 1-pixel checkerboard reduced 8x: every output pixel averages black and white.
        var png = GeneratedImages.Encode(64, 64, (x, y) => (x + y) % 2 == 0 ? ((byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0), grey: true, SKEncodedImageFormat.Png);

        var pixels = ImageFile.Decode(png, "checker.png", 1, 8, 8);

        Assert.That(pixels, Is.All.InRange(0.35f, 0.65f));
    }

    [Test]
    public void Jpeg_DecodesCloseToItsSource()
    {
        var jpeg = GeneratedImages.Encode(16, 16, (x, y) => ((byte)(x * 16), (byte)(y * 16), 128), grey: false, SKEncodedImageFormat.Jpeg);

        var pixels = ImageFile.Decode(jpeg, "j.jpg", 3, 16, 16);

        Assert.That(pixels[5 * 16 + 7], Is.EqualTo(7 * 16 / 255f).Within(0.05), "red at (7, 5), within JPEG's loss");
        Assert.That(pixels[256 + 5 * 16 + 7], Is.EqualTo(5 * 16 / 255f).Within(0.05), "green");
    }

    [TestCase(0, "is empty")]
    [TestCase(20, "is not an image")]
    [TestCase(-30, "is truncated")]
    public void EmptyOrTruncatedPng_IsInvalidData_NamingTheFile(int keptBytes, string expected)
    {
        var random = new Random(1);
        var png = GeneratedImages.Encode(32, 32, (_, _) => ((byte)random.Next(256), 0, 0), grey: true, SKEncodedImageFormat.Png);
        var cut = png[..(keptBytes >= 0 ? keptBytes : png.Length + keptBytes)];

        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(cut, "cut.png", 1, 8, 8));

        Assert.That(e!.Message, Does.StartWith("cut.png: ").And.Contain(expected));
    }

    [Test]
    public void TextNamedPng_IsInvalidData_NamingTheFile()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Decode("not an image"u8.ToArray(), "notes.png", 1, 8, 8));

        Assert.That(e!.Message, Does.StartWith("notes.png: is not an image"));
    }
}
