namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>How <see cref="ICommunicator.AllReduce{T}"/> combines the ranks' values element by element.</summary>
public enum ReduceOperation
{
    /// <summary>The sum over ranks.</summary>
    Sum,
    /// <summary>The smallest value over ranks.</summary>
    Min,
    /// <summary>The largest value over ranks.</summary>
    Max,
}

/// <summary>
/// The collectives data-parallel training needs, over all ranks of a job. Every rank must call the same
/// collectives in the same order with the same counts; results are written in place. Element types: float,
/// double and long.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's index, 0 ≤ Rank &lt; Size; rank 0 is the one that writes files.</summary>
    int Rank { get; }

    /// <summary>Number of ranks in the job.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> on every rank by the element-wise reduction over all ranks.</summary>
    void AllReduce<T>(Span<T> values, ReduceOperation operation) where T : unmanaged;

    /// <summary>Replaces <paramref name="values"/> on every rank by rank <paramref name="root"/>'s.</summary>
    void Broadcast<T>(Span<T> values, int root) where T : unmanaged;

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();
}
