namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Where a span's memory lies, as a value that parallel work items can capture (lambdas cannot capture spans). Valid only
/// while that memory cannot move: ILGPU's host buffers never do; a managed array must stay pinned (<c>fixed</c>) around
/// the parallel loop that uses it.
/// </summary>
internal readonly unsafe struct PinnedSpan<T>(T* address, int length) where T : unmanaged
{
    public int Length => length;

    public Span<T> Span => new(address, length);

    /// <summary>Elements [start, start + count), bounds-checked like <see cref="Span{T}.Slice(int, int)"/>.</summary>
    public Span<T> Slice(int start, int count) => Span.Slice(start, count);
}
