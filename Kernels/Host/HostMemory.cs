using ILGPU;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Spans over ILGPU views whose memory is host memory (buffers of ILGPU's CPU accelerator), so the host kernels
/// work on the very tensors the engine allocates: one allocator, one set of counters, for both kernel paths.
/// </summary>
public static class HostMemory
{
    public static unsafe Span<float> Span(ArrayView<float> view) =>
        view.Length == 0 ? default : new Span<float>((void*)view.LoadEffectiveAddressAsPtr(), checked((int)view.Length));

    public static unsafe Span<int> Span(ArrayView<int> view) =>
        view.Length == 0 ? default : new Span<int>((void*)view.LoadEffectiveAddressAsPtr(), checked((int)view.Length));
}
