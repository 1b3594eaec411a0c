namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>
/// Rank <see cref="Rank"/>'s share of every batch when <see cref="Ranks"/> processes split it: the contiguous
/// piece [len·r/N, len·(r+1)/N) of the batch's indices. The global batch follows from seed and data position
/// alone, so the slices do too, and together they are the batch one process would draw.
/// </summary>
public sealed record RankSlice
{
    public RankSlice(int rank, int ranks)
    {
        if (ranks < 1 || (uint)rank >= (uint)ranks) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {ranks} does not exist");
        Rank = rank;
        Ranks = ranks;
    }

    public int Rank { get; }

    public int Ranks { get; }

    /// <summary>This rank's part of <paramref name="batchIndices"/> (empty when a short batch has fewer samples than ranks).</summary>
    public int[] Of(int[] batchIndices)
    {
        long length = batchIndices.Length;
        return batchIndices[(int)(length * Rank / Ranks)..(int)(length * (Rank + 1) / Ranks)];
    }
}
