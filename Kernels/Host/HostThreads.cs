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

    /// <summary>
    /// Runs body(i) for i in [0, count) on up to <see cref="Count"/> threads; serially when one thread or one item. The
    /// calling thread works too and the others are thread-pool helpers taking items one at a time. A training step makes
    /// several hundred such calls, many over a few channels, so this is leaner than Parallel.For (measured ~13 µs a
    /// call on 2 threads). The first exception a body throws is rethrown as is, after every running body has finished.
    /// </summary>
    public static void For(int itemCount, Action<int> body)
    {
        if (Count == 1 || itemCount <= 1)
        {
            for (int i = 0; i < itemCount; i++) body(i);
            return;
        }
        var loop = new Loop(itemCount, body);
        for (int helper = Math.Min(Count, itemCount) - 1; helper > 0; helper--) ThreadPool.UnsafeQueueUserWorkItem(loop, preferLocal: false);
        loop.Execute();
        loop.WaitForHelpers();
        if (loop.Error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>
    /// One For call's shared state. A helper that starts after the caller has taken every item finds none and never calls
    /// the body, so the caller waits only for helpers that are inside the body (never for one still queued): nested calls
    /// and a busy pool cannot deadlock it.
    /// </summary>
    sealed class Loop(int itemCount, Action<int> body) : IThreadPoolWorkItem
    {
        int next = -1, running;
        volatile Exception? error;

        public Exception? Error => error;

        public void Execute()
        {
            Interlocked.Increment(ref running);
            try
            {
                for (int i = Interlocked.Increment(ref next); i < itemCount; i = Interlocked.Increment(ref next))
                    body(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref error, e, null);
                Volatile.Write(ref next, itemCount); // the others take no further item
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }

        /// <summary>Returns once every item has been taken and no helper is inside the body.</summary>
        public void WaitForHelpers()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref running) != 0) spin.SpinOnce(sleep1Threshold: -1); // yields, never sleeps a whole millisecond
        }
    }

    static int FromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(text)) return Environment.ProcessorCount;
        if (int.TryParse(text, out int n) && n >= 1) return n;
        throw new ArgumentException($"{EnvironmentVariable}='{text}': expected a positive number of threads");
    }
}
