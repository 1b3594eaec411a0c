using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Distributed;
using RevNetIlgpu.Tests.Data;

namespace RevNetIlgpu.Tests.Distributed;

public class RankSliceTests
{
    [TestCase(8, 2)]
    [TestCase(9, 4)]
    [TestCase(3, 5)]
    public void Slices_AreDisjoint_InOrder_AndTogetherTheBatch(int batch, int ranks)
    {
        var indices = Enumerable.Range(100, batch).Reverse().ToArray();
        var slices = Enumerable.Range(0, ranks).Select(r => new RankSlice(r, ranks).Of(indices)).ToList();
        Assert.That(slices.SelectMany(s => s), Is.EqualTo(indices), "concatenated in rank order, the slices are the batch");
        Assert.That(slices.Max(s => s.Length) - slices.Min(s => s.Length), Is.LessThanOrEqualTo(1), "sizes differ by at most one");
    }

    [Test]
    public void RankLoaders_TogetherBuildTheSingleProcessBatch_AtAnyPosition()
    {
        var dataset = SyntheticDatasets.Indexed(count: 40, channels: 1, height: 3, width: 3, classes: 4);
        var augmentation = new ImageAugmentation(1, HorizontalFlip: true);
        var whole = BatchLoader.ForTraining(dataset, 8, seed: 11, augmentation, null);
        var ranks = Enumerable.Range(0, 2).Select(r => BatchLoader.ForTraining(dataset, 8, seed: 11, augmentation, null, new RankSlice(r, 2))).ToList();
        foreach (var position in new[] { new SamplerPosition(0, 0), new SamplerPosition(3, 4) })
        {
            var expected = whole.Create(position);
            var parts = ranks.Select(l => l.Create(position)).ToList();
            Assert.That(parts.Select(p => p.Count), Is.EqualTo(new[] { 4, 4 }));
            Assert.That(parts.SelectMany(p => p.Labels), Is.EqualTo(expected.Labels), $"labels at {position}");
            Assert.That(parts.SelectMany(p => p.Images), Is.EqualTo(expected.Images), $"augmented images at {position}");
        }
    }

    [Test]
    public void ARankOutsideTheJob_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RankSlice(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RankSlice(0, 0));
    }
}
