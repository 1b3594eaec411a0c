namespace RevNetIlgpu.RevNet.Data;

/// <summary>The datasets a run can name (fashion-mnist, mnist, cifar10, cifar100), loaded from their files.</summary>
public static class DatasetCatalog
{
    /// <summary>
    /// The training or test split of the dataset called <paramref name="name"/>, cut to its first
    /// <paramref name="limit"/> images when that is fewer than it holds.
    /// </summary>
    /// <param name="directory">Where the files are; null: the dataset's default location (Fashion-MNIST and MNIST only).</param>
    public static ImageDataset Load(string name, string? directory, bool train, int? limit = null)
    {
        var dataset = name.ToLowerInvariant() switch
        {
            "fashion-mnist" or "mnist" => FashionMnist.Load(directory ?? FashionMnist.DefaultDirectory, train),
            "cifar10" => Cifar.Load(Required(name, directory), train, classes: 10),
            "cifar100" => Cifar.Load(Required(name, directory), train, classes: 100),
            _ => throw new ArgumentException($"unknown dataset '{name}': expected fashion-mnist, mnist, cifar10 or cifar100"),
        };
        return limit is int n && n < dataset.Count ? dataset.Take(n) : dataset;
    }

    static string Required(string name, string? directory) =>
        directory ?? throw new ArgumentException($"{name} cannot be downloaded here: pass --data DIR with the binary files");
}
