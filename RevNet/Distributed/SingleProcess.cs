namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>A job of one rank: every collective leaves the values as they are. What `revnet train` uses outside mpirun.</summary>
public sealed class SingleProcess : ICommunicator
{
    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int Size => 1;

    /// <inheritdoc/>
    public void AllReduce<T>(Span<T> values, ReduceOperation operation) where T : unmanaged => ElementTypes.Check<T>();

    /// <inheritdoc/>
    public void Broadcast<T>(Span<T> values, int root) where T : unmanaged
    {
        ElementTypes.Check<T>();
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), root, "a single-process job has only rank 0");
    }

    /// <inheritdoc/>
    public void Barrier()
    {
    }

    /// <summary>Nothing to release.</summary>
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
