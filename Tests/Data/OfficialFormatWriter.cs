using System.Buffers.Binary;
using System.IO.Compression;

namespace RevNetIlgpu.Tests.Data;

/// <summary>Writes small files in the official IDX and CIFAR binary formats for loader tests.</summary>
internal static class OfficialFormatWriter
{
    public static byte[] IdxImages(int count, int rows, int columns, Func<int, byte> pixel)
    {
        var bytes = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        for (int i = 16; i < bytes.Length; i++)
            bytes[i] = pixel(i - 16);
        return bytes;
    }

    public static byte[] IdxLabels(IReadOnlyList<byte> labels)
    {
        var bytes = new byte[8 + labels.Count];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Count);
        for (int i = 0; i < labels.Count; i++)
            bytes[8 + i] = labels[i];
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(raw);
        return output.ToArray();
    }

    /// <summary>CIFAR-10 (one label byte) or CIFAR-100 (coarse then fine label byte) records.</summary>
    public static byte[] CifarRecords(int classes, IReadOnlyList<byte> labels, Func<int, int, byte> pixel)
    {
        int labelBytes = classes == 10 ? 1 : 2, recordSize = labelBytes + 3072;
        var bytes = new byte[labels.Count * recordSize];
        for (int r = 0; r < labels.Count; r++)
        {
            int at = r * recordSize;
            if (classes == 100)
                bytes[at] = (byte)(labels[r] / 5);
            bytes[at + labelBytes - 1] = labels[r];
            for (int p = 0; p < 3072; p++)
                bytes[at + labelBytes + p] = pixel(r, p);
        }
        return bytes;
    }
}
