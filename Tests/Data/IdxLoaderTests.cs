using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class IdxLoaderTests
{
    private string _directory = null!;

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("idx-tests").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestCase(false)]
    [TestCase(true)]
    public void Load_RoundTripsOfficialFiles_RawOrGzipped(bool gzipped)
    {
        byte[] labels = [3, 0, 9, 1, 4];
        var images = OfficialFormatWriter.IdxImages(labels.Length, 3, 4, i => (byte)(i * 7 % 256));
        string imagesPath = Write("images", images, gzipped);
        string labelsPath = Write("labels", OfficialFormatWriter.IdxLabels(labels), gzipped);

        var dataset = IdxLoader.Load(imagesPath, labelsPath, classCount: 10, "tiny");

        Assert.That((dataset.Count, dataset.Channels, dataset.Height, dataset.Width, dataset.ClassCount), Is.EqualTo((5, 1, 3, 4, 10)));
        Assert.That(dataset.Labels, Is.EqualTo(labels.Select(l => (int)l)));
        var expected = images.Skip(16).Select(b => b / 255f);
        Assert.That(dataset.Images, Is.EqualTo(expected), "pixels are bytes scaled to [0,1] in file order");
    }

    [Test]
    public void Load_RejectsLabelCountThatDisagreesWithImages_NamingBothFiles()
    {
        string imagesPath = Write("images", OfficialFormatWriter.IdxImages(4, 2, 2, _ => 0), gzipped: false);
        string labelsPath = Write("labels", OfficialFormatWriter.IdxLabels([1, 2, 3]), gzipped: false);

        var error = Assert.Throws<InvalidDataException>(() => IdxLoader.Load(imagesPath, labelsPath, 10, "x"));
        Assert.That(error!.Message, Does.Contain(labelsPath).And.Contain(imagesPath));
    }

    [Test]
    public void ReadLabels_RejectsLabelOutOfRange()
    {
        var file = new MemoryStream(OfficialFormatWriter.IdxLabels([1, 10]));
        var error = Assert.Throws<InvalidDataException>(() => IdxLoader.ReadLabels(file, "labels.idx", 10));
        Assert.That(error!.Message, Does.StartWith("labels.idx:").And.Contain("label 10"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ReadImages_RejectsForgedHugeCount_WithoutAllocatingIt(bool gzipped)
    {
        var bytes = OfficialFormatWriter.IdxImages(2, 28, 28, _ => 1);
        bytes[4] = 0x00; bytes[5] = 0x01; // count 65536 + 2: 51M pixels, under the limit, but the data is missing
        var file = new MemoryStream(gzipped ? OfficialFormatWriter.Gzip(bytes) : bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<InvalidDataException>(() => IdxLoader.ReadImages(file, "images.idx"));

        Assert.That(error!.Message, Does.Contain("shorter than declared"));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(4 << 20), "the declared 51 MB must not be allocated up front");
    }

    [Test]
    public void ReadImages_RejectsTrailingBytes()
    {
        var bytes = OfficialFormatWriter.IdxImages(2, 2, 2, _ => 1).Append((byte)0).ToArray();
        var error = Assert.Throws<InvalidDataException>(() => IdxLoader.ReadImages(new MemoryStream(OfficialFormatWriter.Gzip(bytes)), "images.gz"));
        Assert.That(error!.Message, Does.Contain("longer"));
    }

    [Test]
    public void ReadImages_RejectsLabelsMagic()
    {
        var error = Assert.Throws<InvalidDataException>(() => IdxLoader.ReadImages(new MemoryStream(OfficialFormatWriter.IdxLabels([1])), "swapped.idx"));
        Assert.That(error!.Message, Does.Contain("magic number 0x00000801"));
    }

    private string Write(string name, byte[] raw, bool gzipped)
    {
        string path = Path.Combine(_directory, gzipped ? name + ".gz" : name);
        File.WriteAllBytes(path, gzipped ? OfficialFormatWriter.Gzip(raw) : raw);
        return path;
    }
}
