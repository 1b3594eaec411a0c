using NUnit.Framework;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Checkpoints;

public class ClassifierMetadataTests
{
    [Test]
    public void BuiltInDatasets_HaveTheirOfficialNames_AFolderItsOwn_AnythingElseNumbers()
    {
        var unnamed = new ImageDataset("d", new float[2], [0, 1], 1, 1, 1, 10);
        var named = new ImageDataset("d", new float[2], [0, 1], 1, 1, 1, 2, ["cat", "dog"]);

        Assert.That(ClassifierMetadata.Of("fashion-mnist", unnamed).ClassNames[9], Is.EqualTo("Ankle boot"));
        Assert.That(ClassifierMetadata.Of("cifar10", unnamed).ClassNames[0], Is.EqualTo("airplane"));
        Assert.That(ClassifierMetadata.Of("folder", named).ClassNames, Is.EqualTo(new[] { "cat", "dog" }));
        Assert.That(ClassifierMetadata.Of("other", unnamed).ClassNames, Is.EqualTo(Enumerable.Range(0, 10).Select(i => i.ToString())));
        Assert.That(ClassNames.Cifar100, Has.Count.EqualTo(100).And.Unique);
        Assert.That(ClassNames.Cifar100, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal), "fine_label_names.txt is alphabetical");
    }

    [Test]
    public void Metadata_RoundTrips_NamesWithCommasQuotesAndSpaces()
    {
        var saved = new ClassifierMetadata(24, 20, ["a, b", "say \"hi\"", "ünï code"]);

        var read = ClassifierMetadata.Read(saved.ToMetadata().ToDictionary(), classes: 3, "x.safetensors");

        Assert.That((read.Height, read.Width), Is.EqualTo((24, 20)));
        Assert.That(read.ClassNames, Is.EqualTo(saved.ClassNames));
    }

    [Test]
    public void CheckpointsFromBeforeTheKeys_GetTheBuiltInDatasetsValues_AFolderOneIsAnError()
    {
        var old = ClassifierMetadata.Read(new Dictionary<string, string> { ["dataset"] = "cifar10" }, 10, "old.safetensors");

        Assert.That((old.Height, old.Width, old.ClassNames[9]), Is.EqualTo((32, 32, "truck")));
        var e = Assert.Throws<InvalidDataException>(() => ClassifierMetadata.Read(new Dictionary<string, string> { ["dataset"] = "folder" }, 3, "f.safetensors"));
        Assert.That(e!.Message, Does.StartWith("f.safetensors: "));
        Assert.Throws<InvalidDataException>(() => ClassifierMetadata.Read(new Dictionary<string, string> { ["class_names"] = "[\"a\"]", ["dataset"] = "mnist" }, 2, "n.safetensors"),
            "one name for two classes");
    }

    [Test]
    public void TrainingOnMnist_SavesTheDigitsAsClassNames_AndTheImageSize()
    {
        using var data = new TinyIdxDataset();
        var result = RevnetCli.RunInProcess([.. TinyRun.TrainArguments(data, "names", "--max-steps", "1")]);
        Assert.That(result.ExitCode, Is.Zero, result.StandardError);

        var metadata = Checkpoint.Read(Path.Combine(data.OutputDirectory("names"), "last.safetensors")).Metadata;

        Assert.That(metadata["class_names"], Is.EqualTo("[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]"));
        Assert.That((metadata["image_height"], metadata["image_width"]), Is.EqualTo(("8", "8")));
    }
}
