using ILGPU;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Spans over ILGPU views whose memory is host memory (buffers of ILGPU's CPU accelerator), so the host kernels
/// work on the very tensors the engine allocates: one allocator, one set of counters, for both kernel paths.
/// </summary>
internal static class HostMemory
{
    public static unsafe Span<T> Span<T>(ArrayView<T> view) where T : unmanaged => new((void*)Address(view), checked((int)view.Length));

    // ArrayView's own address method is internal; its contiguous-view interface exposes the buffer and byte offset.
    static nint Address<T>(ArrayView<T> view) where T : unmanaged
    {
        if (view.Length == 0) return 0;
        var contiguous = (IContiguousArrayView)view;
        return contiguous.Buffer.NativePtr + (nint)contiguous.IndexInBytes;
    }
}
