using ILGPU;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// Moving tensor memory between the host's managed arrays and a backend's buffers, and clearing it. Not kernels in the
/// sense of <see cref="KernelCalls"/> (they are not counted): the host backend copies spans, the ILGPU backend uses the
/// accelerator's copies (a download waits for queued kernels first).
/// </summary>
public abstract class MemoryKernels(KernelCalls calls) : OpKernels(calls)
{
    /// <summary>Every element of <paramref name="destination"/> = 0.</summary>
    public void Zero<T>(ArrayView<T> destination) where T : unmanaged => ZeroCore(destination);

    /// <summary><paramref name="destination"/> = <paramref name="source"/> (equal lengths).</summary>
    public void Upload<T>(ReadOnlySpan<T> source, ArrayView<T> destination) where T : unmanaged
    {
        ShapeCheck.Length("upload", "destination", destination.Length, source.Length);
        UploadCore(source, destination);
    }

    /// <summary><paramref name="destination"/> = <paramref name="source"/> (equal lengths), after every queued kernel has finished.</summary>
    public void Download<T>(ArrayView<T> source, Span<T> destination) where T : unmanaged
    {
        ShapeCheck.Length("download", "destination", destination.Length, source.Length);
        DownloadCore(source, destination);
    }

    /// <summary>The backend's form of <see cref="Zero{T}"/>.</summary>
    protected abstract void ZeroCore<T>(ArrayView<T> destination) where T : unmanaged;

    /// <summary>The backend's form of <see cref="Upload{T}"/>: lengths already checked.</summary>
    protected abstract void UploadCore<T>(ReadOnlySpan<T> source, ArrayView<T> destination) where T : unmanaged;

    /// <summary>The backend's form of <see cref="Download{T}"/>: lengths already checked.</summary>
    protected abstract void DownloadCore<T>(ArrayView<T> source, Span<T> destination) where T : unmanaged;
}
