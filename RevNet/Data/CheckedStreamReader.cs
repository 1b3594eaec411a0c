using System.IO.Compression;

namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Reads dataset bytes without trusting declared sizes: a buffer never grows past what the
/// header declared nor far past what the stream really holds, and a stream that is shorter or
/// longer than declared is a <see cref="InvalidDataException"/>.
/// </summary>
internal static class CheckedStreamReader
{
    // Growth starts small so a forged size on a short (e.g. gzip) stream costs little memory.
    private const int InitialChunk = 1 << 16;

    /// <summary>Opens a file for reading; a missing file is a <see cref="FileNotFoundException"/>, not a format error.</summary>
    public static FileStream OpenFile(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);

    /// <summary>
    /// Runs <paramref name="read"/> on <paramref name="stream"/> itself, or on a decompressing view
    /// when it starts with the gzip magic bytes 1F 8B. The stream must be seekable so the magic can
    /// be peeked; it is left open.
    /// </summary>
    public static T ReadDecompressed<T>(Stream stream, Func<Stream, T> read)
    {
        if (!stream.CanSeek)
            throw new ArgumentException("dataset streams must be seekable (gzip detection peeks the first bytes)", nameof(stream));
        long start = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        int peeked = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        if (peeked < 2 || magic[0] != 0x1F || magic[1] != 0x8B)
            return read(stream);
        using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
        return read(gzip);
    }

    /// <summary>Reads a fixed-size header; a stream that ends first is a format error.</summary>
    public static byte[] ReadHeader(Stream stream, int length, string source)
    {
        var header = new byte[length];
        if (Fill(stream, header, source) < length)
            throw MalformedFile.Error(source, $"file ends inside its {length}-byte header");
        return header;
    }

    /// <summary>
    /// Reads exactly <paramref name="declared"/> bytes and checks that nothing follows them.
    /// <paramref name="what"/> names the data in messages ("pixel data").
    /// </summary>
    public static byte[] ReadDeclared(Stream stream, long declared, string source, string what)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(declared);
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining != declared)
                throw SizeMismatch(source, what, declared, remaining);
        }

        var buffer = new byte[Math.Min(declared, InitialChunk)];
        long filled = 0;
        while (true)
        {
            filled += Fill(stream, buffer.AsSpan((int)filled), source);
            if (filled < buffer.Length)
                throw SizeMismatch(source, what, declared, filled);
            if (filled == declared)
                break;
            Array.Resize(ref buffer, (int)Math.Min(declared, 2L * buffer.Length));
        }

        Span<byte> probe = stackalloc byte[1];
        if (Fill(stream, probe, source) != 0)
            throw MalformedFile.Error(source, $"{what} is longer than the declared {declared} bytes");
        return buffer;
    }

    private static InvalidDataException SizeMismatch(string source, string what, long declared, long actual) =>
        MalformedFile.Error(source, actual < declared
            ? $"{what} is shorter than declared: {actual} of {declared} bytes"
            : $"{what} is longer than declared: {actual} bytes, header says {declared}");

    // Reads until the span is full or the stream ends; corrupt gzip data becomes a format error
    // that names the file.
    private static int Fill(Stream stream, Span<byte> destination, string source)
    {
        try
        {
            return stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw MalformedFile.Error(source, $"corrupt compressed data ({e.Message})", e);
        }
    }
}
