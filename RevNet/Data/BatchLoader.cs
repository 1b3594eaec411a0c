using RevNetIlgpu.RevNet.Distributed;

namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Builds batches of a dataset: sampler order, then augmentation, then normalisation. A batch is a
/// pure function of its <see cref="SamplerPosition"/> (augmentation draws come from (seed, epoch,
/// dataset index)), so resuming at a saved position reproduces the remaining batches exactly.
/// With a <see cref="RankSlice"/>, each batch holds only that rank's share of the global batch at the position.
/// </summary>
public sealed class BatchLoader(ImageDataset dataset, BatchSampler sampler, ImageAugmentation? augmentation = null, ChannelNormalization? normalization = null,
    RankSlice? slice = null)
{
    /// <summary>The dataset batches are drawn from.</summary>
    public ImageDataset Dataset { get; } = sampler.Count == dataset.Count ? dataset
        : throw new ArgumentException($"sampler covers {sampler.Count} samples, dataset {dataset.Name} has {dataset.Count}");

    /// <summary>Batch order and size.</summary>
    public BatchSampler Sampler { get; } = sampler;

    /// <summary>The training-set loader: shuffled, last partial batch dropped, optionally augmented and normalised.</summary>
    public static BatchLoader ForTraining(ImageDataset dataset, int batchSize, long seed, ImageAugmentation? augmentation, ChannelNormalization? normalization,
        RankSlice? slice = null) =>
        new(dataset, new BatchSampler(dataset.Count, batchSize, seed, shuffle: true, dropLast: true), augmentation, normalization, slice);

    /// <summary>The evaluation loader: dataset order, every sample (last batch may be short), no augmentation.</summary>
    public static BatchLoader ForEvaluation(ImageDataset dataset, int batchSize, ChannelNormalization? normalization, RankSlice? slice = null) =>
        new(dataset, new BatchSampler(dataset.Count, batchSize, seed: 0, shuffle: false, dropLast: false), null, normalization, slice);

    /// <summary>The batch at <paramref name="position"/>.</summary>
    public Batch Create(SamplerPosition position) => Create(position, Sampler.EpochOrder(position.Epoch));

    /// <summary>Batches of epoch <paramref name="epoch"/> from <paramref name="firstBatch"/> on, built lazily on the caller's thread (wrap in <see cref="BatchPrefetch.Prefetch{T}"/> to build ahead).</summary>
    public IEnumerable<Batch> Epoch(int epoch, int firstBatch = 0)
    {
        var order = Sampler.EpochOrder(epoch);
        for (int batch = firstBatch; batch < Sampler.BatchesPerEpoch; batch++)
            yield return Create(new SamplerPosition(epoch, batch), order);
    }

    private Batch Create(SamplerPosition position, int[] epochOrder)
    {
        var indices = Sampler.BatchIndices(epochOrder, position.Batch);
        if (slice is not null) indices = slice.Of(indices);
        int size = Dataset.ImageSize;
        var images = new float[indices.Length * size];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            var source = Dataset.Image(indices[i]);
            var destination = images.AsSpan(i * size, size);
            if (augmentation is null)
            {
                source.CopyTo(destination);
            }
            else
            {
                var random = SplitMix64.For(Sampler.Seed, position.Epoch, indices[i], (long)BatchSampler.RandomStream.Augmentation);
                augmentation.Apply(source, destination, Dataset.Channels, Dataset.Height, Dataset.Width, ref random);
            }
            labels[i] = Dataset.Labels[indices[i]];
        }
        normalization?.Apply(images, Dataset.Height * Dataset.Width);
        return new Batch(position, images, labels, (Dataset.Channels, Dataset.Height, Dataset.Width));
    }
}
