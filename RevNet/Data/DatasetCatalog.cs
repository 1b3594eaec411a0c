namespace RevNetIlgpu.RevNet.Data;

/// <summary>The datasets a run can name (fashion-mnist, mnist, cifar10, cifar100, or an image folder), loaded from their files.</summary>
public static class DatasetCatalog
{
    /// <summary>
    /// The training or test split of the dataset called <paramref name="name"/>, cut to its first
    /// <paramref name="limit"/> images when that is fewer than it holds.
    /// </summary>
    /// <param name="name">fashion-mnist, mnist, cifar10, cifar100 or folder.</param>
    /// <param name="directory">Where the files are; null: the dataset's default location (Fashion-MNIST and MNIST only).</param>
    /// <param name="folder">How an image folder (<paramref name="name"/> "folder") is read: image size, channels, validation split.</param>
    /// <param name="train">The training split (true) or the test split (false).</param>
    /// <param name="limit">Keep only this many images from the start (null: all).</param>
    public static ImageDataset Load(string name, string? directory, bool train, int? limit = null, ImageFolderOptions? folder = null)
    {
        var dataset = name.ToLowerInvariant() switch
        {
            "fashion-mnist" or "mnist" => FashionMnist.Load(directory ?? FashionMnist.DefaultDirectory, train),
            "cifar10" => Cifar.Load(Required(name, directory), train, classes: 10),
            "cifar100" => Cifar.Load(Required(name, directory), train, classes: 100),
            "folder" => ImageFolder.Load(directory ?? throw new ArgumentException("--dataset folder needs --data DIR (DIR/train/<class>/*.png)"), folder ?? new(), train),
            _ => throw new ArgumentException($"unknown dataset '{name}': expected fashion-mnist, mnist, cifar10, cifar100 or folder"),
        };
        return limit is int n && n < dataset.Count ? dataset.Take(n) : dataset;
    }

    static string Required(string name, string? directory) =>
        directory ?? throw new ArgumentException($"{name} cannot be downloaded here: pass --data DIR with the binary files");
}
