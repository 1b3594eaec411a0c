using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Data;

public class DatasetCatalogTests
{
    [Test]
    public void Load_ByName_CutsToTheLimit_AndIgnoresALimitAboveTheCount()
    {
        using var data = new TinyIdxDataset(trainCount: 20, testCount: 6);
        var whole = DatasetCatalog.Load("mnist", data.Directory, train: true);
        var cut = DatasetCatalog.Load("MNIST", data.Directory, train: true, limit: 7);
        var test = DatasetCatalog.Load("fashion-mnist", data.Directory, train: false, limit: 100);

        Assert.That((whole.Count, cut.Count, test.Count), Is.EqualTo((20, 7, 6)));
        Assert.That(cut.Labels, Is.EqualTo(whole.Labels.Take(7)), "the first images, in file order");
        Assert.That(cut.Images, Is.EqualTo(whole.Images.Take(7 * whole.ImageSize)));
    }

    [Test]
    public void UnknownName_OrCifarWithoutADirectory_IsOneLineNamingWhatToPass()
    {
        var unknown = Assert.Throws<ArgumentException>(() => DatasetCatalog.Load("imagenet", null, train: true))!;
        Assert.That(unknown.Message, Is.EqualTo("unknown dataset 'imagenet': expected fashion-mnist, mnist, cifar10, cifar100 or folder"));
        var cifar = Assert.Throws<ArgumentException>(() => DatasetCatalog.Load("cifar10", null, train: false))!;
        Assert.That(cifar.Message, Is.EqualTo("cifar10 cannot be downloaded here: pass --data DIR with the binary files"));
    }
}
