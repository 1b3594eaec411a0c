using System.Buffers.Binary;

namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Loads MNIST-style IDX files (raw or gzipped, detected by the gzip magic bytes): an unsigned-byte
/// image file (magic 0x00000803, dims count/rows/columns) and a label file (magic 0x00000801, dim
/// count). Headers are validated before anything is allocated; every malformed input is a
/// <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class IdxLoader
{
    /// <summary>Magic number of an unsigned-byte, 3-dimensional (images) IDX file.</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte, 1-dimensional (labels) IDX file.</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Largest total pixel count accepted, so a forged header cannot demand gigabytes.</summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>Loads an image file and a label file into one single-channel dataset.</summary>
    public static ImageDataset Load(string imagesPath, string labelsPath, int classCount, string name)
    {
        using var images = CheckedStreamReader.OpenFile(imagesPath);
        using var labels = CheckedStreamReader.OpenFile(labelsPath);
        return Load(images, imagesPath, labels, labelsPath, classCount, name);
    }

    /// <summary>Stream form of <see cref="Load(string, string, int, string)"/>; the sources name the streams in messages.</summary>
    public static ImageDataset Load(Stream images, string imagesSource, Stream labels, string labelsSource, int classCount, string name)
    {
        var idxImages = ReadImages(images, imagesSource);
        var idxLabels = ReadLabels(labels, labelsSource, classCount);
        if (idxLabels.Length != idxImages.Count)
            throw MalformedFile.Error(labelsSource, $"has {idxLabels.Length} labels but {imagesSource} has {idxImages.Count} images");

        var pixels = new float[idxImages.Pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = idxImages.Pixels[i] / 255f;
        return new ImageDataset(name, pixels, idxLabels, 1, idxImages.Rows, idxImages.Columns, classCount);
    }

    /// <summary>Reads an IDX image file (raw or gzipped) from a seekable stream.</summary>
    public static IdxImages ReadImages(Stream stream, string source) =>
        CheckedStreamReader.ReadDecompressed(stream, input => ReadImagesFrom(input, source));

    /// <summary>Reads an IDX label file (raw or gzipped) and checks every label is in [0, classCount).</summary>
    public static int[] ReadLabels(Stream stream, string source, int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        return CheckedStreamReader.ReadDecompressed(stream, input => ReadLabelsFrom(input, source, classCount));
    }

    private static IdxImages ReadImagesFrom(Stream input, string source)
    {
        var dims = ReadDimensions(input, source, ImagesMagic, 3, "images");
        int count = dims[0], rows = dims[1], columns = dims[2];
        if (count == 0 || rows == 0 || columns == 0)
            throw MalformedFile.Error(source, $"declares an empty image set ({count} x {rows} x {columns})");
        // Three int factors can overflow a long; stop multiplying once past the limit.
        long pixelCount = (long)count * rows;
        if (pixelCount <= MaxPixels)
            pixelCount *= columns;
        if (pixelCount > MaxPixels)
            throw MalformedFile.Error(source, $"declares {pixelCount} pixels ({count} x {rows} x {columns}), above the limit of {MaxPixels}");
        var pixels = CheckedStreamReader.ReadDeclared(input, pixelCount, source, "pixel data");
        return new IdxImages(count, rows, columns, pixels);
    }

    private static int[] ReadLabelsFrom(Stream input, string source, int classCount)
    {
        int count = ReadDimensions(input, source, LabelsMagic, 1, "labels")[0];
        if (count == 0)
            throw MalformedFile.Error(source, "declares no labels");
        if (count > MaxPixels)
            throw MalformedFile.Error(source, $"declares {count} labels, above the limit of {MaxPixels}");
        var bytes = CheckedStreamReader.ReadDeclared(input, count, source, "label data");
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (bytes[i] >= classCount)
                throw MalformedFile.Error(source, $"label {bytes[i]} at index {i} is outside [0, {classCount})");
            labels[i] = bytes[i];
        }
        return labels;
    }

    // Reads the magic number and the big-endian dimension sizes that follow it.
    private static int[] ReadDimensions(Stream input, string source, int expectedMagic, int dimensionCount, string kind)
    {
        var magicBytes = CheckedStreamReader.ReadHeader(input, 4, source);
        int magic = BinaryPrimitives.ReadInt32BigEndian(magicBytes);
        if (magic != expectedMagic)
            throw MalformedFile.Error(source, $"magic number 0x{magic:X8} is not 0x{expectedMagic:X8} (IDX unsigned-byte {kind} with {dimensionCount} dimension(s))");
        var header = CheckedStreamReader.ReadHeader(input, 4 * dimensionCount, source);
        var dims = new int[dimensionCount];
        for (int d = 0; d < dimensionCount; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 * d));
            if (dims[d] < 0)
                throw MalformedFile.Error(source, $"dimension {d} has negative size {dims[d]}");
        }
        return dims;
    }
}
