namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Where a run is in its data: the batch <see cref="Batch"/> of epoch <see cref="Epoch"/> comes
/// next. Saved with a checkpoint (as "epoch:batch") so a resumed run sees the same batches.
/// </summary>
public readonly record struct SamplerPosition(int Epoch, int Batch)
{
    /// <summary>The position after this one, rolling over to the next epoch.</summary>
    public SamplerPosition Next(int batchesPerEpoch) =>
        Batch + 1 < batchesPerEpoch ? this with { Batch = Batch + 1 } : new SamplerPosition(Epoch + 1, 0);

    /// <summary>"epoch:batch", the form <see cref="Parse"/> reads.</summary>
    public override string ToString() => $"{Epoch}:{Batch}";

    /// <summary>Reads the "epoch:batch" form of <see cref="ToString"/>.</summary>
    public static SamplerPosition Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int epoch) || !int.TryParse(parts[1], out int batch) || epoch < 0 || batch < 0)
            throw new FormatException($"'{text}' is not a sampler position of the form epoch:batch");
        return new SamplerPosition(epoch, batch);
    }
}
