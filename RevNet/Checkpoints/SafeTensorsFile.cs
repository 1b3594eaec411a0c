using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
/// little-endian header length N, N bytes of JSON header, then the tensors' little-endian data
/// back to back. Writes are atomic; reads validate the header before allocating tensor data. Every tensor written
/// carries an XXH3 (64-bit) checksum of its bytes in the metadata (<c>"xxh3.&lt;name&gt;"</c>, 16 hex digits; the file
/// stays a plain safetensors file for PyTorch), and a read checks every checksum the file has, so a changed byte
/// anywhere in a tensor's data is an error naming the file and the tensor.
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>Largest header accepted, as the reference implementation does, so a forged length cannot demand gigabytes.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes float32 tensors and metadata to <paramref name="path"/> atomically (see <see cref="Write(string, IReadOnlyList{SafeTensor}, IReadOnlyDictionary{string, string})"/>).</summary>
    public static void Write(string path, IReadOnlyList<(string Name, int[] Shape, float[] Data)> tensors, IReadOnlyDictionary<string, string> metadata) =>
        Write(path, tensors.Select(t => SafeTensor.F32(t.Name, t.Shape, t.Data)).ToList(), metadata);

    /// <summary>Writes to <paramref name="path"/> atomically (<see cref="AtomicFile"/>): a crash or exception at any moment leaves the previous file intact.</summary>
    public static void Write(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata) =>
        AtomicFile.Write(path, file => Write(file, tensors, metadata));

    /// <summary>Metadata key of a tensor's checksum.</summary>
    public static string ChecksumKey(string tensorName) => "xxh3." + tensorName;

    /// <summary>Writes the safetensors bytes to <paramref name="stream"/>, tensors in list order, each with its checksum.</summary>
    public static void Write(Stream stream, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        EnsureLittleEndianHost();
        var withChecksums = new Dictionary<string, string>(metadata);
        foreach (var tensor in tensors) withChecksums[ChecksumKey(tensor.Name)] = Checksum(tensor);
        var header = SafeTensorsHeader.Serialize(tensors, withChecksums);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var tensor in tensors)
            stream.Write(Bytes(tensor.Data));
    }

    /// <summary>Reads and validates the file at <paramref name="path"/>.</summary>
    public static SafeTensorsContent Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20);
        return Read(file, path);
    }

    /// <summary>
    /// Reads a safetensors image from a seekable stream; <paramref name="source"/> names it in
    /// messages. Any malformation is an <see cref="InvalidDataException"/> naming the source.
    /// </summary>
    public static SafeTensorsContent Read(Stream stream, string source)
    {
        EnsureLittleEndianHost();
        if (!stream.CanSeek)
            throw new ArgumentException("safetensors streams must be seekable (sizes are checked against the length)", nameof(stream));
        long start = stream.Position, length = stream.Length - start;
        if (length < 8)
            throw SafeTensorsHeader.Malformed(source, $"file is {length} bytes, shorter than the 8-byte header length");

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(length - 8))
            throw SafeTensorsHeader.Malformed(source, $"header length {headerLength} exceeds {(headerLength > MaxHeaderBytes ? $"the {MaxHeaderBytes}-byte limit" : $"the {length - 8} bytes after it")}");
        var header = new byte[headerLength];
        stream.ReadExactly(header);

        long dataStart = start + 8 + (long)headerLength, dataLength = length - 8 - (long)headerLength;
        var (entries, metadata) = SafeTensorsHeader.Parse(header, dataLength, source);
        var tensors = new List<SafeTensor>(entries.Count);
        foreach (var entry in entries)
        {
            long elements = (entry.End - entry.Begin) / SafeTensor.ElementSize(entry.DType);
            stream.Position = dataStart + entry.Begin;
            var tensor = entry.DType switch
            {
                SafeTensorDType.F32 => SafeTensor.F32(entry.Name, entry.Shape, new float[elements]),
                SafeTensorDType.I64 => SafeTensor.I64(entry.Name, entry.Shape, new long[elements]),
                _ => throw new InvalidOperationException($"dtype {entry.DType} has no reader"),
            };
            stream.ReadExactly(Bytes(tensor.Data));
            if (metadata.TryGetValue(ChecksumKey(entry.Name), out var expected) && !string.Equals(expected, Checksum(tensor), StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{source}: tensor '{entry.Name}' is corrupt: its bytes do not match the checksum saved with it (xxh3 {expected})");
            tensors.Add(tensor);
        }
        return new SafeTensorsContent(tensors, metadata);
    }

    static string Checksum(SafeTensor tensor) => XxHash3.HashToUInt64(Bytes(tensor.Data)).ToString("x16", CultureInfo.InvariantCulture);

    // The format is little-endian; on such hosts an array's memory is the file's bytes.
    private static Span<byte> Bytes(Array data) => data switch
    {
        float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
        long[] l => MemoryMarshal.AsBytes(l.AsSpan()),
        _ => throw new ArgumentException($"unsupported element array {data.GetType()}"),
    };

    private static void EnsureLittleEndianHost()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors I/O here copies memory as is, which needs a little-endian host");
    }
}
