using System.Diagnostics;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// How many threads the host (SIMD C#) kernels use: REVNET_THREADS if set, else every core. Set it lower
/// when several processes share a machine (one MPI rank per core) or to compare with a peer at equal threads.
/// </summary>
public static class HostThreads
{
    /// <summary>The environment variable that sets the thread count (default: the processor count).</summary>
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
    /// calling thread works too; threads claim runs of consecutive items that shrink as the items run out. A training
    /// step makes several hundred such calls, many over a few channels, so this is leaner than Parallel.For. The first exception a body throws is
    /// rethrown as is, after every running body has finished.
    /// <para>Helpers are this class's own threads (<see cref="Helpers"/>), which keep polling for the next call for a
    /// while after each one: waking a sleeping thread took 2-4 ms on a shared 2-core VM, longer than a whole convolution,
    /// so a helper that slept between back-to-back calls arrived after the caller had done every item (the host
    /// convolution then ran on one thread). A call made while another is running (nested in a body, or from another
    /// thread) uses thread-pool helpers instead.</para>
    /// </summary>
    public static void For(int itemCount, Action<int> body)
    {
        if (Count == 1 || itemCount <= 1)
        {
            for (int i = 0; i < itemCount; i++) body(i);
            return;
        }
        int helperCount = Math.Min(Count, itemCount) - 1;
        var loop = new Loop(itemCount, body) { HelperCount = helperCount };
        if (Helpers.TryPublish(loop))
        {
            try
            {
                loop.Execute();
                loop.WaitForHelpers();
            }
            finally
            {
                Helpers.Retract();
            }
        }
        else
        {
            for (int helper = helperCount; helper > 0; helper--) ThreadPool.UnsafeQueueUserWorkItem(loop, preferLocal: false);
            loop.Execute();
            loop.WaitForHelpers();
        }
        if (loop.Error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>
    /// Background threads that run the published <see cref="Loop"/> (the first <see cref="Loop.HelperCount"/> of them):
    /// one For call at a time owns them. After each loop a helper polls for the next one for <see cref="PollTime"/>,
    /// then sleeps until a call wakes it.
    /// </summary>
    static class Helpers
    {
        /// <summary>How long an idle helper keeps polling: longer than the gaps between a training step's host kernels.</summary>
        static readonly long PollTime = Stopwatch.Frequency / 500; // 2 ms

        static readonly SemaphoreSlim wake = new(0);
        static readonly object growLock = new();
        static Loop? published;
        static int owned, sleepers, started;

        /// <summary>Makes <paramref name="loop"/> the one helpers join; false while another call owns them.</summary>
        public static bool TryPublish(Loop loop)
        {
            EnsureStarted(loop.HelperCount);
            if (Interlocked.CompareExchange(ref owned, 1, 0) != 0) return false;
            Interlocked.Exchange(ref published, loop); // a full fence: the count of sleepers below is read after it
            int asleep = Volatile.Read(ref sleepers);
            if (asleep > 0) wake.Release(asleep);
            return true;
        }

        /// <summary>Ends the owning call: helpers that have not joined the loop no longer will.</summary>
        public static void Retract()
        {
            Volatile.Write(ref published, null);
            Volatile.Write(ref owned, 0);
        }

        static void EnsureStarted(int helperCount)
        {
            if (Volatile.Read(ref started) >= helperCount) return;
            lock (growLock)
                for (; started < helperCount; started++)
                {
                    int index = started;
                    new Thread(() => Run(index)) { IsBackground = true, Name = $"revnet host helper {index}" }.Start();
                }
        }

        static void Run(int index)
        {
            Loop? last = null;
            long idleSince = Stopwatch.GetTimestamp();
            while (true)
            {
                var loop = Volatile.Read(ref published);
                if (loop is not null && loop != last && index < loop.HelperCount)
                {
                    last = loop;
                    loop.Execute();
                    idleSince = Stopwatch.GetTimestamp();
                    continue;
                }
                if (Stopwatch.GetTimestamp() - idleSince < PollTime)
                {
                    Thread.SpinWait(32);
                    continue;
                }
                // Announce the sleep before the last look, so a call published after that look sees a sleeper to wake.
                Interlocked.Increment(ref sleepers);
                loop = Volatile.Read(ref published);
                if (loop is null || loop == last) wake.Wait();
                Interlocked.Decrement(ref sleepers);
                idleSince = Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>
    /// One For call's shared state. A helper that starts after the caller has taken every item finds none and never calls
    /// the body, so the caller waits only for helpers that are inside the body (never for one still queued or polling):
    /// nested calls and a busy pool cannot deadlock it.
    /// </summary>
    sealed class Loop(int itemCount, Action<int> body) : IThreadPoolWorkItem
    {
        int next, running;
        volatile Exception? error;

        public Exception? Error => error;

        /// <summary>How many helper threads may join (the caller works too).</summary>
        public int HelperCount { get; init; }

        public void Execute()
        {
            Interlocked.Increment(ref running);
            try
            {
                while (TakeItems(out int first, out int end))
                    for (int i = first; i < end; i++) body(i);
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

        /// <summary>
        /// Claims the next run of items [first, end), a 2·threads-th of those left (guided scheduling). Claimed one at a
        /// time, items interleaved between threads (an atomic on a shared line per item, neighbouring planes written from
        /// two cores) and RevNet-38's batch-32 step took 126 ms against 101 reconstructing, 93 against 78 stored, on two
        /// threads in alternating runs; the shrinking runs still even out the last items.
        /// </summary>
        bool TakeItems(out int first, out int end)
        {
            int taken = Volatile.Read(ref next);
            while (true)
            {
                if (taken >= itemCount)
                {
                    (first, end) = (itemCount, itemCount);
                    return false;
                }
                int run = Math.Max(1, (itemCount - taken) / (2 * (HelperCount + 1)));
                int seen = Interlocked.CompareExchange(ref next, taken + run, taken);
                if (seen == taken)
                {
                    (first, end) = (taken, taken + run);
                    return true;
                }
                taken = seen;
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
