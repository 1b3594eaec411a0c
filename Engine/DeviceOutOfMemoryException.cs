namespace RevNetIlgpu.Engine;

/// <summary>The device (or the allocator's limit) cannot hold a requested block; the message says how much and what to try.</summary>
public sealed class DeviceOutOfMemoryException(string message, long requestedBytes, long bytesInUse, Exception? inner)
    : Exception(message, inner)
{
    /// <summary>The size of the request that failed, in bytes before rounding.</summary>
    public long RequestedBytes { get; } = requestedBytes;

    /// <summary>Bytes in blocks handed out when the request failed (<see cref="CachingAllocator.BytesInUse"/>).</summary>
    public long BytesInUse { get; } = bytesInUse;
}
