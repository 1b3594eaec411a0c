using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class ImageDatasetTests
{
    [Test]
    public void Take_KeepsTheFirstImagesInOrder()
    {
        var dataset = SyntheticDatasets.Indexed(10, 2, 3, 3, 4);
        var first = dataset.Take(3);
        Assert.That(first.Count, Is.EqualTo(3));
        Assert.That(first.Images, Is.EqualTo(dataset.Images[..(3 * 18)]));
        Assert.That(first.Labels, Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void TakeClassBalanced_TakesTheFirstImagesOfEachClass()
    {
        var dataset = SyntheticDatasets.Indexed(12, 1, 2, 2, 3);
        var balanced = dataset.TakeClassBalanced(2);
        Assert.That(balanced.Labels, Is.EqualTo(new[] { 0, 1, 2, 0, 1, 2 }));
        Assert.That(balanced.Image(5).ToArray(), Is.EqualTo(dataset.Image(5).ToArray()));
        Assert.Throws<ArgumentException>(() => dataset.TakeClassBalanced(5), "each class has only 4 images");
    }

    [Test]
    public void Constructor_RejectsLabelsOutOfRange()
    {
        Assert.Throws<ArgumentException>(() => new ImageDataset("bad", new float[4], [0, 3], 1, 1, 2, 3));
    }
}
