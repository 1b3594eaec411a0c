using ILGPU;
using ILGPU.Runtime;

namespace RevNetIlgpu.Engine;

/// <summary>
/// Every device buffer goes through here, as in PyTorch's CUDA caching allocator: requests are rounded up to
/// <see cref="Granularity"/> bytes and served best fit from the free blocks of the segments already held from the
/// device, splitting a larger block and leaving the rest free; a freed block merges with its free neighbours in the
/// same segment, so a freed 8 MiB region can later serve two 4 MiB requests and vice versa. Only when no free block
/// fits is the device asked for a new segment of exactly the request's size. The counters are exact in rounded bytes,
/// and every memory figure the program prints rests on them. On the meta device segments carry no memory but are
/// split, merged and counted identically.
/// </summary>
public sealed class CachingAllocator : IDisposable
{
    /// <summary>Allocation unit in bytes (as PyTorch's CUDA caching allocator rounds small blocks).</summary>
    public const long Granularity = 512;

    readonly Device device;
    readonly long? limitBytes;
    // Free blocks ordered by size, then segment and offset: the first at or above a size is the best fit, and the order is
    // deterministic so that the meta device picks the same blocks as a real one.
    readonly SortedSet<DeviceBlock> free = new(DeviceBlock.BySize);
    readonly List<DeviceSegment> segments = new();
    long nextSegmentId;

    internal CachingAllocator(Device device, long? limitBytes)
    {
        this.device = device;
        this.limitBytes = limitBytes;
    }

    /// <summary>Bytes in blocks handed out and not yet freed.</summary>
    public long BytesInUse { get; private set; }

    /// <summary>Bytes held from the device: in use plus free in held segments.</summary>
    public long BytesReserved { get; private set; }

    /// <summary>Highest <see cref="BytesInUse"/> since creation or the last <see cref="ResetPeak"/>.</summary>
    public long PeakBytesInUse { get; private set; }

    /// <summary>Highest <see cref="BytesReserved"/> since creation or the last <see cref="ResetPeak"/>: what the device must really have.</summary>
    public long PeakBytesReserved { get; private set; }

    /// <summary>Number of segments requested from the device itself (requests no free block could serve).</summary>
    public long DeviceAllocations { get; private set; }

    /// <summary>Number of blocks handed out (hits and misses).</summary>
    public long Requests { get; private set; }

    /// <summary>Blocks handed out and not yet freed.</summary>
    public long BlocksInUse { get; private set; }

    /// <summary>The cap on reserved bytes, if any (the device's memory, or a limit set for planning/tests).</summary>
    public long? LimitBytes => limitBytes;

    /// <summary>The size a request of <paramref name="bytes"/> occupies: rounded up to a multiple of <see cref="Granularity"/>, at least one unit.</summary>
    public static long RoundUp(long bytes) => Math.Max(Granularity, (bytes + Granularity - 1) / Granularity * Granularity);

    /// <summary>Starts new peak measurements from the current bytes in use and reserved.</summary>
    public void ResetPeak()
    {
        PeakBytesInUse = BytesInUse;
        PeakBytesReserved = BytesReserved;
    }

    internal DeviceBlock Allocate(long bytes)
    {
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "allocation size must be non-negative");
        long size = RoundUp(bytes);
        var block = BestFit(size) ?? AllocateSegment(size, bytes);
        free.Remove(block);
        if (block.Bytes > size) free.Add(block.SplitOff(size));
        block.IsFree = false;
        Requests++;
        BlocksInUse++;
        BytesInUse += size;
        PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
        return block;
    }

    internal void Free(DeviceBlock block)
    {
        if (block.IsFree) throw new InvalidOperationException("allocator: block freed twice");
        BytesInUse -= block.Bytes;
        BlocksInUse--;
        block.IsFree = true;
        if (block.Next is { IsFree: true } next)
        {
            free.Remove(next);
            block.Absorb(next);
        }
        if (block.Previous is { IsFree: true } previous)
        {
            free.Remove(previous);
            previous.Absorb(block);
            block = previous;
        }
        free.Add(block);
    }

    /// <summary>Returns every wholly free segment to the device; counters of memory in use are unchanged.</summary>
    public void ReleaseCached()
    {
        for (int i = segments.Count - 1; i >= 0; i--)
        {
            var segment = segments[i];
            if (segment.First is not { IsFree: true, Next: null } whole) continue;
            free.Remove(whole);
            segments.RemoveAt(i);
            BytesReserved -= segment.Bytes;
            segment.Buffer?.Dispose();
        }
    }

    DeviceBlock? BestFit(long size)
    {
        var probe = DeviceBlock.Probe(size);
        foreach (var block in free.GetViewBetween(probe, DeviceBlock.Probe(long.MaxValue)))
            return block;
        return null;
    }

    DeviceBlock AllocateSegment(long size, long requested)
    {
        // No free block fits, so wholly free segments are all too small for this request: hand them back before growing,
        // or the held bytes would climb with every change in the mix of sizes while the bytes in use do not.
        ReleaseCached();
        if (limitBytes is long limit && BytesReserved + size > limit) throw OutOfMemory(requested, size, null);
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
        var segment = new DeviceSegment(nextSegmentId++, size, buffer);
        segments.Add(segment);
        DeviceAllocations++;
        BytesReserved += size;
        PeakBytesReserved = Math.Max(PeakBytesReserved, BytesReserved);
        free.Add(segment.First);
        return segment.First;
    }

    DeviceOutOfMemoryException OutOfMemory(long requested, long size, Exception? inner)
    {
        string available = limitBytes is long limit ? $"{Math.Max(0, limit - BytesReserved):N0}" : "unknown";
        return new DeviceOutOfMemoryException(
            $"out of device memory on {device.Name}: requested {requested:N0} bytes ({size:N0} rounded), " +
            $"{BytesInUse:N0} in use, {BytesReserved:N0} reserved, {available} available. " +
            "Try a smaller --batch, the reconstructing mode (the default; drop --stored), or find the largest batch that fits with `revnet plan` (`revnet memory` gives each mode's peak).",
            requested, BytesInUse, inner);
    }

    /// <summary>Returns wholly free segments to the device (<see cref="ReleaseCached"/>); blocks still in use stay allocated.</summary>
    public void Dispose() => ReleaseCached();
}

/// <summary>One allocation from the device; <see cref="Buffer"/> is null on the meta device.</summary>
internal sealed class DeviceSegment
{
    public DeviceSegment(long id, long bytes, MemoryBuffer1D<byte, Stride1D.Dense>? buffer)
    {
        Id = id;
        Bytes = bytes;
        Buffer = buffer;
        First = new DeviceBlock(this, 0, bytes) { IsFree = true };
    }

    public long Id { get; }

    public long Bytes { get; }

    public MemoryBuffer1D<byte, Stride1D.Dense>? Buffer { get; }

    /// <summary>The block at offset 0; the others follow through <see cref="DeviceBlock.Next"/>.</summary>
    public DeviceBlock First { get; }
}

/// <summary>A rounded range of a segment, handed out or free, linked to its neighbours in address order.</summary>
internal sealed class DeviceBlock
{
    public DeviceBlock(DeviceSegment? segment, long offset, long bytes)
    {
        Segment = segment;
        Offset = offset;
        Bytes = bytes;
    }

    /// <summary>Orders by size, then segment, then offset (best fit, deterministic).</summary>
    public static IComparer<DeviceBlock> BySize { get; } = Comparer<DeviceBlock>.Create((a, b) =>
    {
        int c = a.Bytes.CompareTo(b.Bytes);
        if (c != 0) return c;
        c = (a.Segment?.Id ?? -1).CompareTo(b.Segment?.Id ?? -1);
        return c != 0 ? c : a.Offset.CompareTo(b.Offset);
    });

    public DeviceSegment? Segment { get; }

    public long Offset { get; }

    public long Bytes { get; private set; }

    public bool IsFree { get; set; }

    public DeviceBlock? Previous { get; private set; }

    public DeviceBlock? Next { get; private set; }

    /// <summary>This block's bytes of the segment's device memory (not on the meta device).</summary>
    public ArrayView<byte> View => Segment!.Buffer!.View.SubView(Offset, Bytes);

    /// <summary>A key that sorts before every real block of <paramref name="bytes"/> or more.</summary>
    public static DeviceBlock Probe(long bytes) => new(null, -1, bytes);

    /// <summary>Shrinks this block to <paramref name="bytes"/> and returns the free rest as a new block after it.</summary>
    public DeviceBlock SplitOff(long bytes)
    {
        var rest = new DeviceBlock(Segment, Offset + bytes, Bytes - bytes) { IsFree = true, Previous = this, Next = Next };
        if (Next is not null) Next.Previous = rest;
        Next = rest;
        Bytes = bytes;
        return rest;
    }

    /// <summary>Merges the following block <paramref name="next"/> into this one.</summary>
    public void Absorb(DeviceBlock next)
    {
        Bytes += next.Bytes;
        Next = next.Next;
        if (Next is not null) Next.Previous = this;
    }
}
