namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Splits an epoch of <see cref="Count"/> samples into batches. With shuffling, the epoch's order
/// is a permutation that depends only on (seed, epoch), so any batch can be recomputed from its
/// <see cref="SamplerPosition"/> alone.
/// </summary>
public sealed class BatchSampler
{
    /// <summary>Creates a sampler; training typically shuffles and drops the last partial batch, evaluation does neither.</summary>
    public BatchSampler(int count, int batchSize, long seed, bool shuffle, bool dropLast)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        Count = count;
        BatchSize = batchSize;
        Seed = seed;
        Shuffle = shuffle;
        DropLast = dropLast;
    }

    /// <summary>Samples per epoch.</summary>
    public int Count { get; }

    /// <summary>Samples per full batch.</summary>
    public int BatchSize { get; }

    /// <summary>Seed of the shuffles (and of augmentations drawn for them).</summary>
    public long Seed { get; }

    /// <summary>Whether each epoch is a fresh permutation rather than dataset order.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether a last batch smaller than <see cref="BatchSize"/> is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => DropLast ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;

    /// <summary>Dataset indices in the order epoch <paramref name="epoch"/> visits them.</summary>
    public int[] EpochOrder(int epoch)
    {
        var order = Enumerable.Range(0, Count).ToArray();
        if (!Shuffle)
            return order;
        var random = SplitMix64.For(Seed, epoch, (long)RandomStream.Shuffle);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Dataset indices of the batch at <paramref name="position"/>.</summary>
    public int[] BatchIndices(SamplerPosition position) => BatchIndices(EpochOrder(position.Epoch), position.Batch);

    /// <summary>Slice of an <see cref="EpochOrder"/> forming batch <paramref name="batch"/>.</summary>
    public int[] BatchIndices(int[] epochOrder, int batch)
    {
        if ((uint)batch >= (uint)BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"an epoch has {BatchesPerEpoch} batches");
        int start = batch * BatchSize;
        return epochOrder[start..Math.Min(start + BatchSize, Count)];
    }

    /// <summary>Independent random streams drawn from one seed.</summary>
    internal enum RandomStream
    {
        Shuffle = 1,
        Augmentation = 2,
    }
}
