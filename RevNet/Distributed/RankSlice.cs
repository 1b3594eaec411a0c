namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>
/// Rank <see cref="Rank"/>'s share of every batch when <see cref="Ranks"/> processes split it: the contiguous
/// piece [len·r/N, len·(r+1)/N) of the batch's indices. The global batch follows from seed and data position
/// alone, so the slices do too, and together they are the batch one process would draw.
/// </summary>
public sealed record RankSlice
{
    /// <summary>The slice of rank <paramref name="rank"/> of <paramref name="ranks"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such rank.</exception>
    public RankSlice(int rank, int ranks)
    {
        if (ranks < 1 || (uint)rank >= (uint)ranks) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {ranks} does not exist");
        Rank = rank;
        Ranks = ranks;
    }

    /// <summary>This rank, 0 ≤ Rank &lt; <see cref="Ranks"/>.</summary>
    public int Rank { get; }

    /// <summary>Number of ranks splitting each batch.</summary>
    public int Ranks { get; }

    /// <summary>This rank's part of <paramref name="batchIndices"/> (empty when a short batch has fewer samples than ranks).</summary>
    public int[] Of(int[] batchIndices)
    {
        long length = batchIndices.Length;
        return batchIndices[(int)(length * Rank / Ranks)..(int)(length * (Rank + 1) / Ranks)];
    }
}
