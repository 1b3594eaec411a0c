namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// A dataset from an image folder (<see cref="ImageFolderLayout"/>): every image decoded once into memory, resized and
/// centre-cropped to one size (<see cref="ImageFile"/>), labelled by its class folder, with the folder names as class
/// names. Both splits share one shape, chosen from all files' headers before anything is decoded: without an image
/// size, the images' own size, which they must all share; without a channel count, grey when every file is.
/// </summary>
public static class ImageFolder
{
    /// <summary>Largest --image-size accepted.</summary>
    public const int MaxImageSize = 1024;

    /// <summary>The training or test split of the image folder <paramref name="directory"/>.</summary>
    public static ImageDataset Load(string directory, ImageFolderOptions options, bool train)
    {
        var layout = ImageFolderLayout.Scan(directory, options.ValidationFraction);
        var (channels, height, width) = ChooseShape(layout, options);
        var files = train ? layout.Train : layout.Test;
        string name = $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))}/{(train ? "train" : "test")}";
        return Decode(files, name, layout.Classes, channels, height, width);
    }

    /// <summary>Decodes <paramref name="files"/> in parallel into one dataset; a bad file fails the load with its name (the first bad one in list order).</summary>
    public static ImageDataset Decode(IReadOnlyList<LabelledFile> files, string name, IReadOnlyList<string> classes, int channels, int height, int width)
    {
        int imageSize = channels * height * width;
        var pixels = new float[(long)files.Count * imageSize];
        var errors = new InvalidDataException?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try
            {
                ImageFile.Decode(files[i].Path, channels, height, width).CopyTo(pixels, (long)i * imageSize);
            }
            catch (InvalidDataException e)
            {
                errors[i] = e;
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } first) throw first;
        return new ImageDataset(name, pixels, files.Select(f => f.Label).ToArray(), channels, height, width, classes.Count, classes);
    }

    /// <summary>(channels, height, width) for every image of the folder, from the options or the headers of all its files.</summary>
    static (int Channels, int Height, int Width) ChooseShape(ImageFolderLayout layout, ImageFolderOptions options)
    {
        if (options.ImageSize is < 1 or > MaxImageSize) throw new ArgumentException($"--image-size must be in 1..{MaxImageSize}, got {options.ImageSize}");
        if (options.Channels is not (null or 1 or 3)) throw new ArgumentException($"--channels must be 1 (grey) or 3 (RGB), got {options.Channels}");
        var files = layout.Train.Concat(layout.Test).Select(f => f.Path).ToArray();
        var headers = ReadHeaders(files);
        int channels = options.Channels ?? (headers.All(h => h.IsGrey) ? 1 : 3);
        if (options.ImageSize is int size) return (channels, size, size);
        int other = Array.FindIndex(headers, h => h.Width != headers[0].Width || h.Height != headers[0].Height);
        if (other >= 0)
            throw new ArgumentException($"the images differ in size ({files[0]} is {headers[0].Width}x{headers[0].Height}, {files[other]} " +
                $"{headers[other].Width}x{headers[other].Height}): pass --image-size N to resize them to N x N");
        return (channels, headers[0].Height, headers[0].Width);
    }

    static ImageHeader[] ReadHeaders(string[] files)
    {
        var headers = new ImageHeader[files.Length];
        var errors = new InvalidDataException?[files.Length];
        Parallel.For(0, files.Length, i =>
        {
            try
            {
                headers[i] = ImageFile.ReadHeader(files[i]);
            }
            catch (InvalidDataException e)
            {
                errors[i] = e;
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } first) throw first;
        return headers;
    }
}
