namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Loads the CIFAR-10 and CIFAR-100 binary versions. A CIFAR-10 record is 1 label byte then 3072
/// pixel bytes (32x32 red plane, green plane, blue plane); a CIFAR-100 record is a coarse label
/// byte, a fine label byte, then the same 3072 bytes. The fine label is the class for CIFAR-100.
/// </summary>
public static class Cifar
{
    /// <summary>Channels, height and width of a CIFAR image.</summary>
    public const int Channels = 3, Height = 32, Width = 32;

    /// <summary>Bytes of pixels per record: 3 x 32 x 32, planar RGB, which is already CHW order.</summary>
    public const int PixelBytes = Channels * Height * Width;

    /// <summary>Most records accepted from one file (the official files hold at most 50000).</summary>
    public const int MaxRecordsPerFile = 60_000;

    private const int Cifar100CoarseClasses = 20;

    /// <summary>
    /// Loads the training (data_batch_1..5.bin / train.bin) or test (test_batch.bin / test.bin)
    /// split from <paramref name="directory"/>, or from the folder the official archive extracts
    /// to inside it (cifar-10-batches-bin, cifar-100-binary).
    /// </summary>
    /// <param name="directory">The folder holding the .bin files or the archive's folder.</param>
    /// <param name="train">The training split (true) or the test split (false).</param>
    /// <param name="classes">10 for CIFAR-10, 100 for CIFAR-100.</param>
    public static ImageDataset Load(string directory, bool train, int classes)
    {
        var (fileNames, archiveFolder) = classes switch
        {
            10 => (train ? Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray() : ["test_batch.bin"], "cifar-10-batches-bin"),
            100 => (train ? ["train.bin"] : new[] { "test.bin" }, "cifar-100-binary"),
            _ => throw new ArgumentOutOfRangeException(nameof(classes), classes, "CIFAR has 10 or 100 classes"),
        };
        string folder = File.Exists(Path.Combine(directory, fileNames[0])) ? directory : Path.Combine(directory, archiveFolder);
        var batches = new List<(byte[] Records, int Count)>();
        foreach (string fileName in fileNames)
        {
            string path = Path.Combine(folder, fileName);
            if (!File.Exists(path))
                throw new FileNotFoundException($"CIFAR-{classes} file {fileName} not found in {directory} (nor in {archiveFolder}/ inside it)", path);
            using var stream = CheckedStreamReader.OpenFile(path);
            batches.Add(ReadRecords(stream, path, classes));
        }
        return ToDataset(batches, classes, $"cifar-{classes}/{(train ? "train" : "test")}");
    }

    /// <summary>Reads one binary batch file from a seekable stream; <paramref name="source"/> names it in messages.</summary>
    public static ImageDataset ReadBatch(Stream stream, string source, int classes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (classes is not (10 or 100))
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "CIFAR has 10 or 100 classes");
        return ToDataset([ReadRecords(stream, source, classes)], classes, source);
    }

    private static int LabelBytes(int classes) => classes == 10 ? 1 : 2;

    // Validates length and labels of one file before converting anything to floats.
    private static (byte[] Records, int Count) ReadRecords(Stream stream, string source, int classes)
    {
        if (!stream.CanSeek)
            throw new ArgumentException("CIFAR streams must be seekable (the record count comes from the length)", nameof(stream));
        int recordSize = LabelBytes(classes) + PixelBytes;
        long length = stream.Length - stream.Position;
        if (length == 0 || length % recordSize != 0)
            throw MalformedFile.Error(source, $"length {length} is not a positive multiple of the CIFAR-{classes} record size {recordSize}");
        long count = length / recordSize;
        if (count > MaxRecordsPerFile)
            throw MalformedFile.Error(source, $"holds {count} records, above the limit of {MaxRecordsPerFile}");

        var records = CheckedStreamReader.ReadDeclared(stream, length, source, "record data");
        for (int r = 0; r < count; r++)
        {
            int at = r * recordSize;
            if (classes == 100 && records[at] >= Cifar100CoarseClasses)
                throw MalformedFile.Error(source, $"coarse label {records[at]} of record {r} is outside [0, {Cifar100CoarseClasses})");
            int label = records[at + LabelBytes(classes) - 1];
            if (label >= classes)
                throw MalformedFile.Error(source, $"label {label} of record {r} is outside [0, {classes})");
        }
        return (records, (int)count);
    }

    private static ImageDataset ToDataset(IReadOnlyList<(byte[] Records, int Count)> batches, int classes, string name)
    {
        int labelBytes = LabelBytes(classes), recordSize = labelBytes + PixelBytes;
        int total = batches.Sum(b => b.Count);
        var pixels = new float[(long)total * PixelBytes];
        var labels = new int[total];
        int image = 0;
        foreach (var (records, count) in batches)
        {
            for (int r = 0; r < count; r++, image++)
            {
                var record = records.AsSpan(r * recordSize, recordSize);
                labels[image] = record[labelBytes - 1];
                var destination = pixels.AsSpan(image * PixelBytes, PixelBytes);
                for (int p = 0; p < PixelBytes; p++)
                    destination[p] = record[labelBytes + p] / 255f;
            }
        }
        return new ImageDataset(name, pixels, labels, Channels, Height, Width, classes);
    }
}
