using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Engine;

/// <summary>
/// Every device buffer goes through here. Requests are rounded up to <see cref="Granularity"/> bytes and
/// served from a cache of freed blocks of the same size before the device is asked; the counters are exact
/// in those rounded bytes, and every memory figure the program prints rests on them.
/// On the meta device blocks carry no memory but are counted identically.
/// </summary>
public sealed class CachingAllocator : IDisposable
{
    /// <summary>Allocation unit in bytes (as PyTorch's CUDA caching allocator rounds small blocks).</summary>
    public const long Granularity = 512;

    readonly Device device;
    readonly long? limitBytes;
    readonly Dictionary<long, Stack<DeviceBlock>> cached = new();

    internal CachingAllocator(Device device, long? limitBytes)
    {
        this.device = device;
        this.limitBytes = limitBytes;
    }

    /// <summary>Bytes in blocks handed out and not yet freed.</summary>
    public long BytesInUse { get; private set; }

    /// <summary>Bytes held from the device: in use plus cached for reuse.</summary>
    public long BytesReserved { get; private set; }

    /// <summary>Highest <see cref="BytesInUse"/> since creation or the last <see cref="ResetPeak"/>.</summary>
    public long PeakBytesInUse { get; private set; }

    /// <summary>Number of blocks requested from the device itself (cache misses).</summary>
    public long DeviceAllocations { get; private set; }

    /// <summary>Number of blocks handed out (hits and misses).</summary>
    public long Requests { get; private set; }

    /// <summary>Blocks handed out and not yet freed.</summary>
    public long BlocksInUse { get; private set; }

    /// <summary>The cap on reserved bytes, if any (the device's memory, or a limit set for planning/tests).</summary>
    public long? LimitBytes => limitBytes;

    public static long RoundUp(long bytes) => Math.Max(Granularity, (bytes + Granularity - 1) / Granularity * Granularity);

    /// <summary>Starts a new peak measurement from the current bytes in use.</summary>
    public void ResetPeak() => PeakBytesInUse = BytesInUse;

    internal DeviceBlock Allocate(long bytes)
    {
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "allocation size must be non-negative");
        long size = RoundUp(bytes);
        if (!cached.TryGetValue(size, out var pool) || !pool.TryPop(out var block))
            block = AllocateFromDevice(size, bytes);
        Requests++;
        BlocksInUse++;
        BytesInUse += size;
        PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
        return block;
    }

    internal void Free(DeviceBlock block)
    {
        BytesInUse -= block.Bytes;
        BlocksInUse--;
        if (!cached.TryGetValue(block.Bytes, out var pool)) cached[block.Bytes] = pool = new Stack<DeviceBlock>();
        pool.Push(block);
    }

    /// <summary>Returns every cached block to the device; counters of memory in use are unchanged.</summary>
    public void ReleaseCached()
    {
        foreach (var pool in cached.Values)
            while (pool.TryPop(out var block))
            {
                BytesReserved -= block.Bytes;
                block.Buffer?.Dispose();
            }
        cached.Clear();
    }

    DeviceBlock AllocateFromDevice(long size, long requested)
    {
        if (limitBytes is long limit && BytesReserved + size > limit)
        {
            ReleaseCached();
            if (BytesReserved + size > limit) throw OutOfMemory(requested, size, null);
        }
        MemoryBuffer1D<byte, Stride1D.Dense>? buffer = null;
        if (device.Accelerator is { } accelerator)
        {
            try
            {
                buffer = accelerator.Allocate1D<byte>(size);
            }
            catch (Exception e) when (e is OutOfMemoryException or AcceleratorException or InvalidOperationException)
            {
                ReleaseCached();
                try
                {
                    buffer = accelerator.Allocate1D<byte>(size);
                }
                catch (Exception again) when (again is OutOfMemoryException or AcceleratorException or InvalidOperationException)
                {
                    throw OutOfMemory(requested, size, again);
                }
            }
        }
        DeviceAllocations++;
        BytesReserved += size;
        return new DeviceBlock(size, buffer);
    }

    DeviceOutOfMemoryException OutOfMemory(long requested, long size, Exception? inner)
    {
        string available = limitBytes is long limit ? $"{Math.Max(0, limit - BytesReserved):N0}" : "unknown";
        return new DeviceOutOfMemoryException(
            $"out of device memory on {device.Name}: requested {requested:N0} bytes ({size:N0} rounded), " +
            $"{BytesInUse:N0} in use, {BytesReserved:N0} reserved, {available} available. " +
            "Try a smaller --batch, the reconstructing mode (the default; drop --stored), or plan with `revnet memory`.",
            requested, BytesInUse, inner);
    }

    public void Dispose() => ReleaseCached();
}

/// <summary>A rounded block of device memory; <see cref="Buffer"/> is null on the meta device.</summary>
internal sealed class DeviceBlock(long bytes, MemoryBuffer1D<byte, Stride1D.Dense>? buffer)
{
    public long Bytes { get; } = bytes;

    public MemoryBuffer1D<byte, Stride1D.Dense>? Buffer { get; } = buffer;
}
