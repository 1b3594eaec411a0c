using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class ImageAugmentationTests
{
    private static readonly float[] Image = Enumerable.Range(1, 2 * 3 * 4).Select(i => (float)i).ToArray(); // [2,3,4]

    [Test]
    public void Crop_WithFlip_ReversesEveryRow()
    {
        var output = new float[Image.Length];
        ImageAugmentation.Crop(Image, output, 2, 3, 4, 0, 0, flip: true);
        for (int row = 0; row < 6; row++)
            Assert.That(output[(row * 4)..(row * 4 + 4)], Is.EqualTo(Image[(row * 4)..(row * 4 + 4)].Reverse()));
    }

    [Test]
    public void Crop_ShiftsAndFillsThePaddingWithZeros()
    {
        var output = new float[Image.Length];
        ImageAugmentation.Crop(Image, output, 2, 3, 4, offsetY: 1, offsetX: -1, flip: false);
        // Channel 0 rows are 1..4, 5..8, 9..12: shifted up one row and right one column.
        Assert.That(output[..12], Is.EqualTo(new float[] { 0, 5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0 }));
    }

    [Test]
    public void Apply_KeepsShape_AndOnlyProducesPaperWindows()
    {
        var augmentation = new ImageAugmentation(Padding: 2, HorizontalFlip: true);
        var seen = new HashSet<string>();
        for (int index = 0; index < 200; index++)
        {
            var random = SplitMix64.For(1, 0, index);
            var output = new float[Image.Length];
            augmentation.Apply(Image, output, 2, 3, 4, ref random);

            var windows = from dy in Enumerable.Range(-2, 5)
                          from dx in Enumerable.Range(-2, 5)
                          from flip in new[] { false, true }
                          select (dy, dx, flip);
            var match = windows.Where(w => Cropped(w.dy, w.dx, w.flip).SequenceEqual(output)).ToList();
            Assert.That(match, Is.Not.Empty, $"output {index} is a padded crop, possibly flipped");
            seen.Add(string.Join(",", match[0]));
        }
        Assert.That(seen.Count, Is.GreaterThan(20), "offsets and flips vary across samples");
    }

    [Test]
    public void Apply_WithoutFlip_NeverMirrors()
    {
        var augmentation = new ImageAugmentation(Padding: 0, HorizontalFlip: false);
        for (int index = 0; index < 50; index++)
        {
            var random = SplitMix64.For(index);
            var output = new float[Image.Length];
            augmentation.Apply(Image, output, 2, 3, 4, ref random);
            Assert.That(output, Is.EqualTo(Image));
        }
    }

    private static float[] Cropped(int dy, int dx, bool flip)
    {
        var output = new float[Image.Length];
        ImageAugmentation.Crop(Image, output, 2, 3, 4, dy, dx, flip);
        return output;
    }
}
