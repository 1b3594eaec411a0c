using System.Runtime.InteropServices;

namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>
/// The small part of Open MPI 4.1's C API (libmpi.so.40) that data-parallel training uses, by P/Invoke. In Open MPI
/// the handles MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, … are addresses of global objects in the library (not integers as
/// in MPICH and MS-MPI), so they are read with <see cref="NativeLibrary.GetExport"/> once the library is loaded.
/// </summary>
static unsafe class MpiLibrary
{
    const string Library = "libmpi.so.40";

    /// <summary>MPI_THREAD_FUNNELED: only the thread that initialised MPI calls it (the training loop's thread).</summary>
    public const int ThreadFunneled = 1;

    /// <summary>Open MPI's MPI_IN_PLACE, ((void *) 1).</summary>
    public static readonly nint InPlace = 1;

    static nint handle;

    public static nint CommWorld { get; private set; }

    public static nint ErrorsReturn { get; private set; }

    /// <summary>Loads libmpi.so.40 and resolves the handles; a clear error when Open MPI is not installed.</summary>
    public static void Load()
    {
        if (handle != 0) return;
        if (!NativeLibrary.TryLoad(Library, typeof(MpiLibrary).Assembly, null, out handle))
            throw new InvalidOperationException($"{Library} (Open MPI 4.x) could not be loaded: install it with `apt-get install openmpi-bin` (scripts/train-mpi.sh does)");
        CommWorld = Export("ompi_mpi_comm_world");
        ErrorsReturn = Export("ompi_mpi_errors_return");
    }

    /// <summary>The MPI datatype handle for a collective's element type.</summary>
    public static nint Datatype<T>() =>
        typeof(T) == typeof(float) ? Export("ompi_mpi_float")
        : typeof(T) == typeof(double) ? Export("ompi_mpi_double")
        : typeof(T) == typeof(long) ? Export("ompi_mpi_int64_t")
        : throw new NotSupportedException($"collectives carry float, double or long, not {typeof(T).Name}");

    /// <summary>The MPI reduction handle for an operation.</summary>
    public static nint Operation(ReduceOperation operation) => operation switch
    {
        ReduceOperation.Sum => Export("ompi_mpi_op_sum"),
        ReduceOperation.Min => Export("ompi_mpi_op_min"),
        ReduceOperation.Max => Export("ompi_mpi_op_max"),
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
    };

    static nint Export(string symbol) => NativeLibrary.GetExport(handle, symbol);

    [DllImport(Library)] public static extern int MPI_Init_thread(nint argc, nint argv, int required, int* provided);

    [DllImport(Library)] public static extern int MPI_Initialized(int* flag);

    [DllImport(Library)] public static extern int MPI_Finalized(int* flag);

    [DllImport(Library)] public static extern int MPI_Finalize();

    [DllImport(Library)] public static extern int MPI_Comm_rank(nint comm, int* rank);

    [DllImport(Library)] public static extern int MPI_Comm_size(nint comm, int* size);

    [DllImport(Library)] public static extern int MPI_Comm_set_errhandler(nint comm, nint errhandler);

    [DllImport(Library)] public static extern int MPI_Allreduce(nint sendBuffer, void* receiveBuffer, int count, nint datatype, nint op, nint comm);

    [DllImport(Library)] public static extern int MPI_Bcast(void* buffer, int count, nint datatype, int root, nint comm);

    [DllImport(Library)] public static extern int MPI_Barrier(nint comm);

    [DllImport(Library)] public static extern int MPI_Abort(nint comm, int errorCode);

    [DllImport(Library)] public static extern int MPI_Error_string(int errorCode, byte* text, int* length);

    /// <summary>Open MPI's MPI_MAX_ERROR_STRING.</summary>
    public const int MaxErrorString = 256;
}
