using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class CifarTests
{
    private string _directory = null!;

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("cifar-tests").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void Load_Cifar10_ReadsFiveTrainingBatchesInOrder_PlanarRgb()
    {
        for (int b = 1; b <= 5; b++)
        {
            byte batch = (byte)b;
            File.WriteAllBytes(Path.Combine(_directory, $"data_batch_{b}.bin"),
                OfficialFormatWriter.CifarRecords(10, [batch, (byte)(9 - b)], (r, p) => (byte)(p % 251 + r + batch)));
        }

        var train = Cifar.Load(_directory, train: true, classes: 10);

        Assert.That((train.Count, train.Channels, train.Height, train.Width, train.ClassCount), Is.EqualTo((10, 3, 32, 32, 10)));
        Assert.That(train.Labels, Is.EqualTo(new[] { 1, 8, 2, 7, 3, 6, 4, 5, 5, 4 }));
        // Image 3 is record 1 of batch 2; pixel p of the record is channel p/1024, row p%1024/32, column p%32.
        int p = 1024 + 5 * 32 + 7;
        Assert.That(train.Image(3)[p], Is.EqualTo((p % 251 + 1 + 2) / 255f));
    }

    [Test]
    public void Load_Cifar100_UsesFineLabels_FromArchiveFolder()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_directory, "cifar-100-binary")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "test.bin"), OfficialFormatWriter.CifarRecords(100, [99, 0, 42], (r, p) => (byte)r));

        var test = Cifar.Load(_directory, train: false, classes: 100);

        Assert.That(test.Labels, Is.EqualTo(new[] { 99, 0, 42 }));
        Assert.That(test.ClassCount, Is.EqualTo(100));
        Assert.That(test.Image(2).ToArray(), Is.All.EqualTo(2 / 255f));
    }

    [Test]
    public void ReadBatch_RejectsLengthNotAMultipleOfTheRecord()
    {
        var bytes = OfficialFormatWriter.CifarRecords(10, [1, 2], (_, _) => 0)[..^1];
        var error = Assert.Throws<InvalidDataException>(() => Cifar.ReadBatch(new MemoryStream(bytes), "cut.bin", 10));
        Assert.That(error!.Message, Does.StartWith("cut.bin:").And.Contain("record size 3073"));
    }

    [Test]
    public void ReadBatch_RejectsLabelOutOfRange()
    {
        var bytes = OfficialFormatWriter.CifarRecords(10, [1, 10], (_, _) => 0);
        var error = Assert.Throws<InvalidDataException>(() => Cifar.ReadBatch(new MemoryStream(bytes), "bad.bin", 10));
        Assert.That(error!.Message, Does.Contain("label 10 of record 1"));
    }

    [Test]
    public void Load_MissingFile_SaysWhichFileAndWhere()
    {
        var error = Assert.Throws<FileNotFoundException>(() => Cifar.Load(_directory, train: false, classes: 10));
        Assert.That(error!.Message, Does.Contain("test_batch.bin").And.Contain(_directory));
    }
}
