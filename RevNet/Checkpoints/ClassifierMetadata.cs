using System.Globalization;
using System.Text.Json;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>
/// What a trained classifier needs to be used outside training, saved in its checkpoint's metadata: the input image size
/// and the name of each class. Checkpoints saved before these keys existed get the built-in datasets' values.
/// </summary>
public sealed record ClassifierMetadata(int Height, int Width, IReadOnlyList<string> ClassNames)
{
    /// <summary>Metadata key of the class names (a JSON array of strings, in label order).</summary>
    public const string ClassNamesKey = "class_names";

    /// <summary>Metadata key of the input image height in pixels.</summary>
    public const string HeightKey = "image_height";

    /// <summary>Metadata key of the input image width in pixels.</summary>
    public const string WidthKey = "image_width";

    /// <summary>The metadata of a model trained on <paramref name="train"/> of <paramref name="dataset"/>.</summary>
    public static ClassifierMetadata Of(string dataset, ImageDataset train) => new(train.Height, train.Width, Data.ClassNames.Of(dataset, train));

    /// <summary>The entries to save: class names as a JSON array of strings (a name may hold any character).</summary>
    public IEnumerable<KeyValuePair<string, string>> ToMetadata() =>
    [
        new(ClassNamesKey, JsonSerializer.Serialize(ClassNames)),
        new(HeightKey, Height.ToString(CultureInfo.InvariantCulture)),
        new(WidthKey, Width.ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>
    /// How to read an image folder for this model: a square size resizes every image to it (the identity for images of that
    /// size, so it also fits a model trained on the images' own size); otherwise the images' own size.
    /// </summary>
    public ImageFolderOptions FolderOptions(int channels, double? validationFraction) => new(Height == Width ? Height : null, channels, validationFraction);

    /// <summary>Reads the entries back, checking the name count against the model's <paramref name="classes"/>.</summary>
    public static ClassifierMetadata Read(IReadOnlyDictionary<string, string> metadata, int classes, string path)
    {
        string dataset = metadata.GetValueOrDefault("dataset", "");
        try
        {
            IReadOnlyList<string> names = metadata.TryGetValue(ClassNamesKey, out var json)
                ? JsonSerializer.Deserialize<string[]>(json) ?? throw new FormatException("class_names is null")
                : Data.ClassNames.ForDataset(dataset, classes);
            if (names.Count != classes) throw new FormatException($"{names.Count} class names for {classes} classes");
            int builtInSize = dataset.StartsWith("cifar", StringComparison.OrdinalIgnoreCase) ? 32 : 28;
            int Size(string key) => metadata.TryGetValue(key, out var text) ? int.Parse(text, CultureInfo.InvariantCulture)
                : dataset is "fashion-mnist" or "mnist" or "cifar10" or "cifar100" ? builtInSize
                : throw new FormatException($"no '{key}'");
            var result = new ClassifierMetadata(Size(HeightKey), Size(WidthKey), names);
            if (result.Height <= 0 || result.Width <= 0) throw new FormatException($"image size {result.Height}x{result.Width}");
            return result;
        }
        catch (Exception e) when (e is FormatException or JsonException or OverflowException)
        {
            throw new InvalidDataException($"{path}: checkpoint metadata has no valid class names or image size ({e.Message})");
        }
    }
}
