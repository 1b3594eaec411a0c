using RevNetIlgpu.Tests.Data;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>
/// A temporary directory holding the four Fashion-MNIST IDX files in the official format, with a few tiny
/// greyscale images whose brightness pattern depends on the label (so training has something to learn).
/// Deleted on dispose.
/// </summary>
internal sealed class TinyIdxDataset : IDisposable
{
    public const int Side = 8;

    public TinyIdxDataset(int trainCount = 64, int testCount = 16)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("revnet-reliability").FullName;
        Write("train", trainCount, seed: 1);
        Write("t10k", testCount, seed: 2);
    }

    public string Directory { get; }

    /// <summary>A fresh, not yet existing, subdirectory for a run's --out.</summary>
    public string OutputDirectory(string name) => Path.Combine(Directory, name);

    void Write(string prefix, int count, int seed)
    {
        var random = new Random(seed);
        var labels = Enumerable.Range(0, count).Select(_ => (byte)random.Next(10)).ToArray();
        int pixels = Side * Side;
        var images = OfficialFormatWriter.IdxImages(count, Side, Side,
            i => (byte)(i % pixels == labels[i / pixels] * 6 ? 255 : random.Next(64)));
        File.WriteAllBytes(Path.Combine(Directory, $"{prefix}-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(Directory, $"{prefix}-labels-idx1-ubyte"), OfficialFormatWriter.IdxLabels(labels));
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
