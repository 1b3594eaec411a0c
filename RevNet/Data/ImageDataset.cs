namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Labelled images held on the host: float32 pixels in [0,1] laid out [Count, Channels, Height,
/// Width] in one array, and one class label per image.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>
    /// Wraps <paramref name="images"/> and <paramref name="labels"/> after checking that the sizes agree and every label is
    /// in [0, classCount); <paramref name="classNames"/>, when given, names each class (one name per class).
    /// </summary>
    public ImageDataset(string name, float[] images, int[] labels, int channels, int height, int width, int classCount,
        IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"image shape {channels}x{height}x{width} must be positive");
        if (classCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "must be positive");
        long imageSize = (long)channels * height * width;
        if (images.LongLength != imageSize * labels.Length)
            throw new ArgumentException($"{images.Length} pixels is not {labels.Length} images of {channels}x{height}x{width}");
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentException($"label {labels[i]} of image {i} is outside [0, {classCount})");
        }
        if (classNames is not null && classNames.Count != classCount)
            throw new ArgumentException($"{classNames.Count} class names for {classCount} classes");

        Name = name;
        Images = images;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassCount = classCount;
        ClassNames = classNames;
    }

    /// <summary>A human-readable name, e.g. "fashion-mnist/train".</summary>
    public string Name { get; }

    /// <summary>Pixels, [Count, Channels, Height, Width], row-major.</summary>
    public float[] Images { get; }

    /// <summary>Class of each image, in [0, ClassCount).</summary>
    public int[] Labels { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Channels per image (1 for grey, 3 for RGB).</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Number of classes the labels range over.</summary>
    public int ClassCount { get; }

    /// <summary>The name of each class (e.g. an image folder's class folders), or null when the source names none.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Floats per image: Channels * Height * Width.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>The pixels of image <paramref name="index"/>, [Channels, Height, Width].</summary>
    public ReadOnlySpan<float> Image(int index) => Images.AsSpan(checked(index * ImageSize), ImageSize);

    /// <summary>The first <paramref name="count"/> images, in order (deterministic).</summary>
    public ImageDataset Take(int count)
    {
        if ((uint)count > (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"must be in [0, {Count}]");
        return Select(Enumerable.Range(0, count).ToArray(), $"{Name}[:{count}]");
    }

    /// <summary>
    /// The first <paramref name="perClass"/> images of every class, keeping dataset order
    /// (deterministic). Throws when a class has fewer images than that.
    /// </summary>
    public ImageDataset TakeClassBalanced(int perClass)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perClass);
        var taken = new int[ClassCount];
        var indices = new List<int>(perClass * ClassCount);
        for (int i = 0; i < Count; i++)
        {
            if (taken[Labels[i]] < perClass)
            {
                taken[Labels[i]]++;
                indices.Add(i);
            }
        }
        int shortClass = Array.FindIndex(taken, t => t < perClass);
        if (shortClass >= 0)
            throw new ArgumentException($"class {shortClass} of {Name} has only {taken[shortClass]} images, fewer than {perClass}");
        return Select(indices.ToArray(), $"{Name}[{perClass}/class]");
    }

    private ImageDataset Select(int[] indices, string name)
    {
        var images = new float[(long)indices.Length * ImageSize];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            Image(indices[i]).CopyTo(images.AsSpan(i * ImageSize, ImageSize));
            labels[i] = Labels[indices[i]];
        }
        return new ImageDataset(name, images, labels, Channels, Height, Width, ClassCount, ClassNames);
    }
}
