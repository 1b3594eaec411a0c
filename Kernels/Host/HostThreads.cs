namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// How many threads the host (SIMD C#) kernels use: REVNET_THREADS if set, else every core. Set it lower
/// when several processes share a machine (one MPI rank per core) or to compare with a peer at equal threads.
/// </summary>
public static class HostThreads
{
    public const string EnvironmentVariable = "REVNET_THREADS";

    static int count = FromEnvironment();

    /// <summary>Threads per host kernel (at least 1).</summary>
    public static int Count
    {
        get => count;
        set => count = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"threads must be at least 1, got {value}");
    }

    /// <summary>Runs body(i) for i in [0, count) on up to <see cref="Count"/> threads; serially when one thread or one item.</summary>
    public static void For(int itemCount, Action<int> body)
    {
        if (Count == 1 || itemCount <= 1)
        {
            for (int i = 0; i < itemCount; i++) body(i);
            return;
        }
        Parallel.For(0, itemCount, new ParallelOptions { MaxDegreeOfParallelism = Count }, body);
    }

    static int FromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(text)) return Environment.ProcessorCount;
        if (int.TryParse(text, out int n) && n >= 1) return n;
        throw new ArgumentException($"{EnvironmentVariable}='{text}': expected a positive number of threads");
    }
}
