using System.Runtime.InteropServices;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// Per-thread, 64-byte-aligned native float buffers that grow and are reused, so host kernels in a training loop
/// allocate nothing per call (no GC churn) and vector loads never split a cache line at a buffer's start. Each
/// caller names a slot so that buffers it needs at the same time stay distinct; a slot's contents are garbage
/// until written.
/// </summary>
internal static unsafe class ThreadScratch
{
    public const int Slots = 16;

    [ThreadStatic] static Buffer?[]? buffers;

    /// <summary>At least <paramref name="floats"/> floats of this thread's buffer <paramref name="slot"/>, valid until the next call for that slot on this thread.</summary>
    public static float* Get(int slot, long floats)
    {
        var slots = buffers ??= new Buffer?[Slots];
        var buffer = slots[slot] ??= new Buffer();
        return buffer.Reserve(floats);
    }

    /// <summary>One growable allocation; freed by the finalizer when its thread ends.</summary>
    sealed class Buffer
    {
        float* data;
        long capacity;

        public float* Reserve(long floats)
        {
            if (floats <= capacity) return data;
            long previous = capacity;
            NativeMemory.AlignedFree(data);
            data = null; // a failed allocation below must not leave a freed pointer behind
            capacity = 0;
            long grown = Math.Max(floats, 2 * previous);
            data = (float*)NativeMemory.AlignedAlloc((nuint)(grown * sizeof(float)), 64);
            capacity = grown;
            return data;
        }

        ~Buffer() => NativeMemory.AlignedFree(data);
    }
}
