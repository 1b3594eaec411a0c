using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class BatchLoaderTests
{
    private static readonly ImageDataset Dataset = SyntheticDatasets.Indexed(53, 3, 8, 8, 10);

    private static BatchLoader Training(long seed = 5) =>
        BatchLoader.ForTraining(Dataset, batchSize: 8, seed, ImageAugmentation.Paper with { Padding = 2 }, ChannelNormalization.Compute(Dataset));

    [Test]
    public void Epoch_SameSeed_GivesIdenticalBatches_AugmentationIncluded()
    {
        var first = Training().Epoch(2).ToList();
        var second = Training().Epoch(2).ToList();
        Assert.That(first.Count, Is.EqualTo(6), "53 / 8 with the partial batch dropped");
        for (int b = 0; b < first.Count; b++)
        {
            Assert.That(second[b].Images, Is.EqualTo(first[b].Images));
            Assert.That(second[b].Labels, Is.EqualTo(first[b].Labels));
        }
        Assert.That(Training().Epoch(3).First().Images, Is.Not.EqualTo(first[0].Images), "another epoch differs");
    }

    [Test]
    public void Epoch_ResumedFromASavedPosition_GivesTheRemainingBatchesExactly()
    {
        var full = Training().Epoch(1).ToList();
        var saved = SamplerPosition.Parse(full[2].Position.Next(Training().Sampler.BatchesPerEpoch).ToString());

        var resumed = Training().Epoch(saved.Epoch, saved.Batch).ToList();

        Assert.That(resumed.Select(b => b.Position), Is.EqualTo(full.Skip(3).Select(b => b.Position)));
        for (int b = 0; b < resumed.Count; b++)
            Assert.That(resumed[b].Images, Is.EqualTo(full[b + 3].Images), $"batch {b + 3}");
    }

    [Test]
    public void Prefetch_YieldsTheSameBatchesInTheSameOrder()
    {
        var direct = Training().Epoch(0).ToList();
        var prefetched = Training().Epoch(0).Prefetch(depth: 2).ToList();
        Assert.That(prefetched.Select(b => b.Images), Is.EqualTo(direct.Select(b => b.Images)));
    }

    [Test]
    public void Prefetch_SurfacesProducerErrors_AndStopsWhenAbandoned()
    {
        static IEnumerable<int> Failing()
        {
            yield return 1;
            throw new InvalidOperationException("producer failed");
        }
        Assert.Throws<InvalidOperationException>(() => Failing().Prefetch().ToList());
        Assert.That(Enumerable.Range(0, 1_000_000).Prefetch().Take(3), Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void Evaluation_KeepsDatasetOrderAndTheLastPartialBatch()
    {
        var batches = BatchLoader.ForEvaluation(Dataset, 8, normalization: null).Epoch(0).ToList();
        Assert.That(batches.Count, Is.EqualTo(7));
        Assert.That(batches[^1].Count, Is.EqualTo(5));
        Assert.That(batches.SelectMany(b => b.Images), Is.EqualTo(Dataset.Images), "no augmentation, no reordering");
    }
}
