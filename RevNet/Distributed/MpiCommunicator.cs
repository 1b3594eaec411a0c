using System.Runtime.InteropServices;
using System.Text;

namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>
/// MPI_COMM_WORLD of a job started by mpirun (Open MPI 4.1, P/Invoked). Errors come back as exceptions (the
/// communicator's handler is MPI_ERRORS_RETURN instead of aborting with MPI's multi-line report); every collective
/// is guarded by a <see cref="CollectiveWatchdog"/>; a SIGTERM, which mpirun sends to the survivors when a rank dies
/// or exits with an error, becomes one error line instead of a silent end.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    readonly CollectiveWatchdog watchdog;
    readonly PosixSignalRegistration terminated;
    bool disposed;

    MpiCommunicator(int rank, int size, TimeSpan timeout)
    {
        Rank = rank;
        Size = size;
        watchdog = new CollectiveWatchdog(timeout, Who);
        terminated = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ =>
            CollectiveWatchdog.Fail(Who, "stopped by mpirun: another rank of the job died or failed (its error, if it printed one, is above), or the job was interrupted; last.safetensors holds the last complete checkpoint"));
    }

    /// <summary>True when this process was started by Open MPI's mpirun (or another PMIx launcher).</summary>
    public static bool LaunchedByMpirun =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null || Environment.GetEnvironmentVariable("PMIX_RANK") is not null;

    /// <summary>Initialises MPI and returns the world communicator; collectives that wait longer than <paramref name="timeout"/> stop the job.</summary>
    public static MpiCommunicator Initialize(TimeSpan timeout)
    {
        MpiLibrary.Load();
        int provided, rank, size;
        Check(MpiLibrary.MPI_Init_thread(0, 0, MpiLibrary.ThreadFunneled, &provided), "MPI_Init_thread");
        Check(MpiLibrary.MPI_Comm_set_errhandler(MpiLibrary.CommWorld, MpiLibrary.ErrorsReturn), "MPI_Comm_set_errhandler");
        Check(MpiLibrary.MPI_Comm_rank(MpiLibrary.CommWorld, &rank), "MPI_Comm_rank");
        Check(MpiLibrary.MPI_Comm_size(MpiLibrary.CommWorld, &size), "MPI_Comm_size");
        return new MpiCommunicator(rank, size, timeout);
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    string Who => $"rank {Rank} of {Size}";

    /// <inheritdoc/>
    public void AllReduce<T>(Span<T> values, ReduceOperation operation) where T : unmanaged
    {
        var type = MpiLibrary.Datatype<T>();
        var op = MpiLibrary.Operation(operation);
        using var guard = watchdog.Guard($"all-reduce ({operation}) of {values.Length} {typeof(T).Name} values");
        foreach (var (offset, count) in Chunks(values.Length))
            fixed (T* p = values.Slice(offset, count))
                Check(MpiLibrary.MPI_Allreduce(MpiLibrary.InPlace, p, count, type, op, MpiLibrary.CommWorld), "MPI_Allreduce");
    }

    /// <inheritdoc/>
    public void Broadcast<T>(Span<T> values, int root) where T : unmanaged
    {
        if ((uint)root >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(root), root, $"the job has {Size} ranks");
        var type = MpiLibrary.Datatype<T>();
        using var guard = watchdog.Guard($"broadcast of {values.Length} {typeof(T).Name} values from rank {root}");
        foreach (var (offset, count) in Chunks(values.Length))
            fixed (T* p = values.Slice(offset, count))
                Check(MpiLibrary.MPI_Bcast(p, count, type, root, MpiLibrary.CommWorld), "MPI_Bcast");
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        using var guard = watchdog.Guard("barrier");
        Check(MpiLibrary.MPI_Barrier(MpiLibrary.CommWorld), "MPI_Barrier");
    }

    /// <summary>Ends this rank's MPI (MPI_Finalize waits for the others, so it is guarded too).</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        using (watchdog.Guard("MPI_Finalize"))
            Check(MpiLibrary.MPI_Finalize(), "MPI_Finalize");
        terminated.Dispose();
        watchdog.Dispose();
    }

    /// <summary>MPI counts are ints: larger buffers go in pieces (the ranks cut them identically).</summary>
    static IEnumerable<(int Offset, int Count)> Chunks(int length)
    {
        const int MaxCount = 1 << 30;
        for (int offset = 0; offset < length; offset += MaxCount)
            yield return (offset, Math.Min(MaxCount, length - offset));
    }

    static void Check(int code, string call)
    {
        if (code == 0) return;
        var text = stackalloc byte[MpiLibrary.MaxErrorString];
        int length = 0;
        string reason = MpiLibrary.MPI_Error_string(code, text, &length) == 0 ? Encoding.ASCII.GetString(text, length) : $"error code {code}";
        throw new InvalidOperationException($"{call} failed: {reason}");
    }
}
