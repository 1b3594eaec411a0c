using System.Globalization;
using System.Text.RegularExpressions;
using NUnit.Framework;
using RevNetIlgpu.Tests.Data;
using SkiaSharp;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>
/// Your own images in, a deployable model out, through the real <c>revnet</c> program: train on an image folder, predict
/// image files with the checkpoint, export it to ONNX and check it in ONNX Runtime; bad files are one error line.
/// </summary>
public class ImageFolderCliTests
{
    string root = null!;

    [OneTimeSetUp]
    public void WriteFolders()
    {
        root = Directory.CreateTempSubdirectory("revnet-folder-cli").FullName;
        // The issue's floor: 3 classes of 28x28 grey PNGs with train/ and test/.
        GeneratedImages.WriteSplit(Path.Combine(root, "grey"), "train", 3, 8, 28, 28, grey: true, SKEncodedImageFormat.Png, seed: 1);
        GeneratedImages.WriteSplit(Path.Combine(root, "grey"), "test", 3, 3, 28, 28, grey: true, SKEncodedImageFormat.Png, seed: 2);
        // PNG and JPEG, two sizes, grey and colour, no test/ folder.
        GeneratedImages.WriteSplit(Path.Combine(root, "mixed"), "", 2, 5, 20, 20, grey: true, SKEncodedImageFormat.Png, seed: 3);
        GeneratedImages.WriteSplit(Path.Combine(root, "mixed"), "", 2, 5, 30, 24, grey: false, SKEncodedImageFormat.Jpeg, seed: 4);
    }

    [OneTimeTearDown]
    public void DeleteFolders() => Directory.Delete(root, recursive: true);

    [Test]
    public void TrainOnGreyPngFolder_ThenPredict_ThenExportVerify()
    {
        string data = Path.Combine(root, "grey"), output = Path.Combine(root, "run");

        var train = RevnetCli.RunInProcess("train", "--dataset", "folder", "--data", data, "--model", "revnet-tiny", "--max-steps", "6", "--batch", "8",
            "--out", output, "--device", "cpu");
        Assert.That(train.ExitCode, Is.Zero, train.StandardError);
        Assert.That(train.StandardOutput, Does.Contain("RESULT model=revnet-tiny"));

        string checkpoint = Path.Combine(output, "last.safetensors");
        string image = Directory.EnumerateFiles(Path.Combine(data, "test", "class1")).First();
        var predict = RevnetCli.RunInProcess("predict", checkpoint, image, "--top", "2", "--device", "cpu");
        Assert.That(predict.ExitCode, Is.Zero, predict.StandardError);
        var fields = predict.StandardOutput.TrimEnd().Split('\t');
        Assert.That(fields, Has.Length.EqualTo(5), "path, then two (class, probability) pairs");
        Assert.That(fields[0], Is.EqualTo(image));
        Assert.That(new[] { fields[1], fields[3] }, Is.SubsetOf(new[] { "class0", "class1", "class2" }).And.Unique);
        Assert.That(double.Parse(fields[2], CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(double.Parse(fields[4], CultureInfo.InvariantCulture)));

        string onnx = Path.Combine(output, "model.onnx");
        var export = RevnetCli.RunInProcess("export", checkpoint, onnx, "--verify", "--data", data, "--device", "cpu");
        Assert.That(export.ExitCode, Is.Zero, export.StandardError);
        string last = export.StandardOutput.TrimEnd().Split('\n')[^1];
        var match = Regex.Match(last, @"^export: (.+) max_abs_logit_diff=(\S+) top1_agreement=(\S+)$");
        Assert.That(match.Success, last);
        Assert.That(match.Groups[1].Value, Is.EqualTo(onnx));
        Assert.That(double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), Is.LessThanOrEqualTo(1e-4));
        Assert.That(match.Groups[3].Value, Is.EqualTo("1"));
        Assert.That(export.StandardOutput, Does.Contain("on the first 9 images"), "the whole 9-image test folder");
    }

    [Test]
    public void TrainOnMixedFolder_PngAndJpeg_TwoSizes_GreyAndColour_WithValidationFraction()
    {
        var train = RevnetCli.RunInProcess("train", "--dataset", "folder", "--data", Path.Combine(root, "mixed"), "--image-size", "16", "--val-fraction", "0.2",
            "--model", "revnet-tiny", "--max-steps", "3", "--batch", "8", "--out", Path.Combine(root, "mixed-run"), "--device", "cpu");

        Assert.That(train.ExitCode, Is.Zero, train.StandardError);
        Assert.That(train.StandardOutput, Does.Contain("RESULT model=revnet-tiny"));
    }

    [Test]
    public void TextFileNamedPng_IsOneErrorLineNamingIt_ExitCode2()
    {
        string data = Path.Combine(root, "bad");
        GeneratedImages.WriteSplit(data, "train", 2, 2, 8, 8, grey: true, SKEncodedImageFormat.Png, seed: 5);
        GeneratedImages.WriteSplit(data, "test", 2, 1, 8, 8, grey: true, SKEncodedImageFormat.Png, seed: 6);
        string notAnImage = Path.Combine(data, "train", "class0", "readme.png");
        File.WriteAllText(notAnImage, "this is text, not a PNG");

        var result = RevnetCli.RunInProcess("train", "--dataset", "folder", "--data", data, "--model", "revnet-tiny", "--max-steps", "1", "--out",
            Path.Combine(root, "bad-run"), "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.ErrorLines, Has.Count.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.StartWith($"revnet: error: {notAnImage}: is not an image"));
    }

    [Test]
    public void Predict_OnATextFileNamedPng_IsOneErrorLineNamingIt()
    {
        var train = RevnetCli.RunInProcess("train", "--dataset", "folder", "--data", Path.Combine(root, "grey"), "--model", "revnet-tiny", "--max-steps", "1",
            "--batch", "8", "--out", Path.Combine(root, "predict-run"), "--device", "cpu");
        Assert.That(train.ExitCode, Is.Zero, train.StandardError);
        string notAnImage = Path.Combine(root, "photo.png");
        File.WriteAllText(notAnImage, "text");

        var result = RevnetCli.RunInProcess("predict", Path.Combine(root, "predict-run", "last.safetensors"), notAnImage, "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.ErrorLines, Has.Count.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.StartWith($"revnet: error: {notAnImage}: is not an image"));
    }
}
