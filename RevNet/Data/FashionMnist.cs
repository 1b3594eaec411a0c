namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Fashion-MNIST from its four IDX files (gzipped or not): 60000 training and 10000 test images of
/// 28x28 greyscale, 10 classes.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where `apt-get install dataset-fashion-mnist` puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>
    /// Loads the training or test split from <paramref name="directory"/>, preferring the .gz file
    /// and falling back to the unpacked one.
    /// </summary>
    public static ImageDataset Load(string directory, bool train)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException(NotFoundMessage(directory));
        string prefix = train ? "train" : "t10k";
        string images = Find(directory, $"{prefix}-images-idx3-ubyte");
        string labels = Find(directory, $"{prefix}-labels-idx1-ubyte");
        return IdxLoader.Load(images, labels, ClassCount, $"fashion-mnist/{(train ? "train" : "test")}");
    }

    private static string Find(string directory, string baseName)
    {
        foreach (string candidate in new[] { baseName + ".gz", baseName })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path))
                return path;
        }
        throw new FileNotFoundException($"{baseName}(.gz) missing. {NotFoundMessage(directory)}", Path.Combine(directory, baseName));
    }

    private static string NotFoundMessage(string directory) =>
        $"Fashion-MNIST not found in {directory}; install it with `apt-get install dataset-fashion-mnist` or pass --data DIR";
}
