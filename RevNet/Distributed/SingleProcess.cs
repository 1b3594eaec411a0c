namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>A job of one rank: every collective leaves the values as they are. What `revnet train` uses outside mpirun.</summary>
public sealed class SingleProcess : ICommunicator
{
    public int Rank => 0;

    public int Size => 1;

    public void AllReduce<T>(Span<T> values, ReduceOperation operation) where T : unmanaged => ElementTypes.Check<T>();

    public void Broadcast<T>(Span<T> values, int root) where T : unmanaged
    {
        ElementTypes.Check<T>();
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), root, "a single-process job has only rank 0");
    }

    public void Barrier()
    {
    }

    public void Dispose()
    {
    }
}

/// <summary>The element types the collectives carry, so a wrong one fails the same way with or without MPI.</summary>
static class ElementTypes
{
    public static void Check<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(long))
            throw new NotSupportedException($"collectives carry float, double or long, not {typeof(T).Name}");
    }
}
