using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class FashionMnistTests
{
    [Test]
    public void Load_MissingDirectory_TellsHowToInstall()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-fashion-mnist-here");
        var error = Assert.Throws<DirectoryNotFoundException>(() => FashionMnist.Load(missing, train: true));
        Assert.That(error!.Message, Is.EqualTo($"Fashion-MNIST not found in {missing}; install it with `apt-get install dataset-fashion-mnist` or pass --data DIR"));
    }

    [Test]
    public void Load_RealFiles_HaveTheOfficialShape()
    {
        Assume.That(Directory.Exists(FashionMnist.DefaultDirectory), "real Fashion-MNIST is not installed here");

        var train = FashionMnist.Load(FashionMnist.DefaultDirectory, train: true);
        var test = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false);

        Assert.That((train.Count, test.Count), Is.EqualTo((60000, 10000)));
        Assert.That((train.Channels, train.Height, train.Width, train.ClassCount), Is.EqualTo((1, 28, 28, 10)));
        Assert.That(train.Labels.Distinct().Count(), Is.EqualTo(10), "every class occurs");
        Assert.That(train.Images.Min() >= 0f && train.Images.Max() <= 1f, "pixels scaled to [0,1]");
        TestContext.Out.WriteLine($"train mean pixel {train.Images.Average():F4}");
    }
}
