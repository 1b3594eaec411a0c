namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// SplitMix64, a tiny PRNG spelled out here (not System.Random) so shuffles and augmentations are
/// the same bits on every .NET version and platform.
/// </summary>
public struct SplitMix64(ulong seed)
{
    private const ulong Golden = 0x9E3779B97F4A7C15;
    private ulong _state = seed;

    /// <summary>A generator whose stream depends only on the given values (e.g. seed, epoch, sample index, purpose).</summary>
    public static SplitMix64 For(params ReadOnlySpan<long> values)
    {
        ulong state = Golden;
        foreach (long value in values)
            state = Finalize(state ^ Finalize((ulong)value + Golden));
        return new SplitMix64(state);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64() => Finalize(_state += Golden);

    /// <summary>A uniform integer in [0, <paramref name="bound"/>), without modulo bias (Lemire's method).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        ulong high = Math.BigMul(NextUInt64(), (ulong)bound, out ulong low);
        if (low < (ulong)bound)
        {
            ulong threshold = (0 - (ulong)bound) % (ulong)bound;
            while (low < threshold)
                high = Math.BigMul(NextUInt64(), (ulong)bound, out low);
        }
        return (int)high;
    }

    /// <summary>A fair coin.</summary>
    public bool NextBool() => (NextUInt64() >> 63) != 0;

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
