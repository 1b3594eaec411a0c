using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;
using SkiaSharp;

namespace RevNetIlgpu.Tests.Data;

/// <summary>Image folders as torchvision's ImageFolder reads them, and every way a folder can be unusable, named in one line.</summary>
public class ImageFolderTests
{
    string root = null!;

    [SetUp]
    public void CreateRoot() => root = Directory.CreateTempSubdirectory("revnet-folder").FullName;

    [TearDown]
    public void DeleteRoot() => Directory.Delete(root, recursive: true);

    [Test]
    public void MixedFolder_PngAndJpeg_TwoSizes_GreyAndColour_LoadsResizedWithFolderNamesAsClasses()
    {
        GeneratedImages.WriteSplit(root, "train", classes: 3, count: 2, 20, 20, grey: true, SKEncodedImageFormat.Png, seed: 1);
        GeneratedImages.WriteSplit(root, "train", classes: 3, count: 2, 24, 18, grey: false, SKEncodedImageFormat.Jpeg, seed: 2);
        GeneratedImages.WriteSplit(root, "test", classes: 3, count: 1, 20, 20, grey: false, SKEncodedImageFormat.Png, seed: 3);

        var train = ImageFolder.Load(root, new ImageFolderOptions(ImageSize: 16), train: true);
        var test = ImageFolder.Load(root, new ImageFolderOptions(ImageSize: 16), train: false);

        Assert.That((train.Count, train.Channels, train.Height, train.Width), Is.EqualTo((12, 3, 16, 16)), "colour files make it RGB");
        Assert.That(test.Count, Is.EqualTo(3));
        Assert.That(train.ClassNames, Is.EqualTo(new[] { "class0", "class1", "class2" }));
        Assert.That(train.Labels, Is.EqualTo(new[] { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 }));
        Assert.That(test.Labels, Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(train.Images, Is.All.InRange(0f, 1f));
    }

    [Test]
    public void GreyImagesOfOneSize_KeepTheirSize_AndOneChannel()
    {
        GeneratedImages.WriteSplit(root, "train", 2, 3, 9, 7, grey: true, SKEncodedImageFormat.Png, seed: 1);
        GeneratedImages.WriteSplit(root, "test", 2, 1, 9, 7, grey: true, SKEncodedImageFormat.Png, seed: 2);

        var train = ImageFolder.Load(root, new ImageFolderOptions(), train: true);

        Assert.That((train.Channels, train.Height, train.Width), Is.EqualTo((1, 7, 9)));
        Assert.That(ImageFolder.Load(root, new ImageFolderOptions(Channels: 3), train: true).Channels, Is.EqualTo(3), "--channels 3 overrides");
    }

    [Test]
    public void ClassFoldersWithoutTrainFolder_AndValidationFraction_HoldOutTheSameImagesEveryTime()
    {
        GeneratedImages.WriteSplit(root, "", 2, 10, 8, 8, grey: true, SKEncodedImageFormat.Png, seed: 1);
        var options = new ImageFolderOptions(ValidationFraction: 0.2);

        var train = ImageFolderLayout.Scan(root, 0.2).Train.Select(f => f.Path).ToList();
        var test = ImageFolderLayout.Scan(root, 0.2).Test.Select(f => f.Path).ToList();

        Assert.That((train.Count, test.Count), Is.EqualTo((16, 4)), "2 of each class's 10");
        Assert.That(train.Intersect(test), Is.Empty);
        Assert.That(ImageFolderLayout.Scan(root, 0.2).Test.Select(f => f.Path), Is.EqualTo(test), "fixed seed");
        Assert.That(ImageFolder.Load(root, options, train: false).Labels, Is.EqualTo(new[] { 0, 0, 1, 1 }));
    }

    [Test]
    public void ImagesOfDifferentSizes_WithoutImageSize_AskForIt()
    {
        GeneratedImages.WriteSplit(root, "train", 2, 1, 8, 8, grey: true, SKEncodedImageFormat.Png, seed: 1);
        GeneratedImages.WriteSplit(root, "test", 2, 1, 10, 8, grey: true, SKEncodedImageFormat.Png, seed: 2);

        var e = Assert.Throws<ArgumentException>(() => ImageFolder.Load(root, new ImageFolderOptions(), train: true));

        Assert.That(e!.Message, Does.Contain("--image-size"));
    }

    static IEnumerable<TestCaseData> BadFolders()
    {
        TestCaseData Case(string name, Action<string> spoil, string namedPath, string problem) =>
            new TestCaseData(spoil, namedPath, problem).SetName($"Load_{name}_IsOneMessageNamingIt");
        yield return Case("TextFileNamedPng", r => File.WriteAllText(Path.Combine(r, "train", "class1", "notes.png"), "not an image"),
            "train/class1/notes.png", "is not an image");
        yield return Case("EmptyJpeg", r => File.WriteAllBytes(Path.Combine(r, "test", "class0", "empty.jpg"), []),
            "test/class0/empty.jpg", "is empty");
        yield return Case("ClassFolderWithoutImages", r => Directory.CreateDirectory(Path.Combine(r, "train", "class9")),
            "train/class9", "has no images");
        yield return Case("OneClass", r => Directory.Delete(Path.Combine(r, "train", "class1"), recursive: true),
            "train", "only one class folder (class0)");
        yield return Case("TestClassUnknownToTraining", r => GeneratedImages.WriteSplit(r, "test", 3, 1, 8, 8, true, SKEncodedImageFormat.Png, seed: 5),
            "test/class2", "a class the training folder lacks");
        yield return Case("TestFolderWithoutTrainFolder", r => Directory.Move(Path.Combine(r, "train"), Path.Combine(r, "training")),
            "", "no train/ folder");
        yield return Case("NoTestFolderNorValidationFraction", r => Directory.Delete(Path.Combine(r, "test"), recursive: true),
            "", "--val-fraction");
    }

    [TestCaseSource(nameof(BadFolders))]
    public void BadFolder(Action<string> spoil, string namedPath, string problem)
    {
        GeneratedImages.WriteSplit(root, "train", 2, 2, 8, 8, grey: true, SKEncodedImageFormat.Png, seed: 1);
        GeneratedImages.WriteSplit(root, "test", 2, 1, 8, 8, grey: true, SKEncodedImageFormat.Png, seed: 2);
        spoil(root);

        var e = Assert.Catch(() => ImageFolder.Load(root, new ImageFolderOptions(), train: true));

        Assert.That(e, Is.InstanceOf<InvalidDataException>().Or.InstanceOf<ArgumentException>(), "a user error, reported in one line by the CLI");
        Assert.That(e!.Message, Does.Contain(Path.Combine(root, namedPath).TrimEnd('/')).And.Contain(problem));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }
}
