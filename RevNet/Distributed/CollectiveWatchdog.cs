using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>
/// Bounds how long a rank waits in a collective. A peer that hangs (stopped, deadlocked, a machine gone silent)
/// leaves the others blocked inside MPI forever, and MPI itself has no timeout; this thread notices a collective
/// that has waited longer than <see cref="Limit"/>, prints one error line and ends the process at once. mpirun then
/// tears the job down (a rank exited without MPI_Finalize). Checkpoints are written atomically, so the last complete
/// last.safetensors survives whatever moment this lands on.
/// </summary>
internal sealed class CollectiveWatchdog : IDisposable
{
    /// <summary>Exit code of a rank stopped by the watchdog or by mpirun's teardown.</summary>
    public const int ExitCode = 3;

    readonly string who;
    readonly Thread thread;
    readonly CancellationTokenSource stop = new();
    long startedTicks;
    string operation = "";

    public CollectiveWatchdog(TimeSpan limit, string who)
    {
        if (limit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(limit), limit, "the rank timeout must be positive");
        Limit = limit;
        this.who = who;
        thread = new Thread(Watch) { IsBackground = true, Name = "collective watchdog" };
        thread.Start();
    }

    /// <summary>Longest wait in one collective before the job is stopped.</summary>
    public TimeSpan Limit { get; }

    /// <summary>Marks <paramref name="name"/> as waiting on the other ranks until the returned scope ends.</summary>
    public Scope Guard(string name)
    {
        Volatile.Write(ref operation, name);
        Volatile.Write(ref startedTicks, Stopwatch.GetTimestamp());
        return new Scope(this);
    }

    /// <summary>Ends the guarded wait begun by <see cref="Guard"/>.</summary>
    public readonly struct Scope(CollectiveWatchdog watchdog) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref watchdog.startedTicks, 0);
    }

    static int failing;

    /// <summary>
    /// Prints <paramref name="message"/> as the rank's one error line and ends the process without unwinding (other threads may
    /// sit inside MPI). Only the first caller prints: a rank stopped and resumed by mpirun can meet its own timeout and
    /// mpirun's SIGTERM at once; the later caller waits for the first to end the process.
    /// </summary>
    public static void Fail(string who, string message)
    {
        if (Interlocked.Exchange(ref failing, 1) == 1) Thread.Sleep(Timeout.Infinite);
        Console.Error.WriteLine($"revnet: error: {who}: {message}");
        Console.Error.Flush();
        ExitImmediately(ExitCode);
    }

    void Watch()
    {
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(Limit.TotalMilliseconds / 10, 10, 1000));
        while (!stop.Token.WaitHandle.WaitOne(poll))
        {
            long started = Volatile.Read(ref startedTicks);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > Limit)
                Fail(who, $"{Volatile.Read(ref operation)} waited more than {Limit.TotalSeconds:0.#} s for the other ranks (a rank hung or died; --rank-timeout sets the limit); stopping the job, last.safetensors holds the last complete checkpoint");
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        thread.Join();
        stop.Dispose();
    }

    [DllImport("libc", EntryPoint = "_exit")]
    static extern void ExitImmediately(int status);
}
