namespace RevNetIlgpu.Engine;

/// <summary>The device (or the allocator's limit) cannot hold a requested block; the message says how much and what to try.</summary>
public sealed class DeviceOutOfMemoryException(string message, long requestedBytes, long bytesInUse, Exception? inner)
    : Exception(message, inner)
{
    public long RequestedBytes { get; } = requestedBytes;

    public long BytesInUse { get; } = bytesInUse;
}
