namespace RevNetIlgpu.RevNet.Data;

/// <summary>An image file and the class it belongs to.</summary>
public sealed record LabelledFile(string Path, int Label);

/// <summary>
/// Which file of an image folder is which class, and which split it is in, as torchvision's ImageFolder reads it: one
/// sub-folder per class, classes in ordinal order of their names, files with an image extension in ordinal order.
/// DIR/train/&lt;class&gt;/ holds the training images (or DIR/&lt;class&gt;/ when there is no train/), DIR/test/&lt;class&gt;/ the
/// test images; without a test/ folder a validation fraction of each class is held out instead, chosen by a fixed seed.
/// Found before any image is decoded: an empty class folder, a single class or a test class unknown to training is an
/// <see cref="InvalidDataException"/> naming the folder.
/// </summary>
public sealed class ImageFolderLayout
{
    /// <summary>File extensions read as images (any case).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg"];

    ImageFolderLayout(IReadOnlyList<string> classes, IReadOnlyList<LabelledFile> train, IReadOnlyList<LabelledFile> test)
    {
        Classes = classes;
        Train = train;
        Test = test;
    }

    /// <summary>Class names (the training class folders' names), in label order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The training files with their labels, in class then file-name order.</summary>
    public IReadOnlyList<LabelledFile> Train { get; }

    /// <summary>The test files (the test/ folder, or the held-out validation files) with their labels.</summary>
    public IReadOnlyList<LabelledFile> Test { get; }

    /// <summary>Reads the folder structure of <paramref name="directory"/> (no image is opened).</summary>
    public static ImageFolderLayout Scan(string directory, double? validationFraction)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"image folder {directory} not found");
        string trainRoot = Path.Combine(directory, "train"), testRoot = Path.Combine(directory, "test");
        if (!Directory.Exists(trainRoot))
        {
            if (Directory.Exists(testRoot)) throw MalformedFile.Error(directory, "has a test/ folder but no train/ folder beside it");
            trainRoot = directory;
        }
        var classFolders = ClassFolders(trainRoot);
        if (classFolders.Count == 0)
            throw MalformedFile.Error(trainRoot, "has no class folders (expected train/<class>/*.png or *.jpg)");
        if (classFolders.Count == 1)
            throw MalformedFile.Error(trainRoot, $"has only one class folder ({Path.GetFileName(classFolders[0])}); a classifier needs two or more");
        var classes = classFolders.Select(f => Path.GetFileName(f)).ToArray();
        var trainFiles = classFolders.Select(ImagesIn).ToArray();

        if (trainRoot != directory && Directory.Exists(testRoot))
        {
            if (validationFraction is not null)
                throw new ArgumentException($"{directory} has a test/ folder; --val-fraction is for folders without one");
            var test = new List<LabelledFile>();
            var testFolders = ClassFolders(testRoot);
            if (testFolders.Count == 0) throw MalformedFile.Error(testRoot, "has no class folders");
            foreach (var folder in testFolders)
            {
                int label = Array.IndexOf(classes, Path.GetFileName(folder));
                if (label < 0) throw MalformedFile.Error(folder, $"is a class the training folder lacks (classes: {string.Join(", ", classes)})");
                test.AddRange(ImagesIn(folder).Select(f => new LabelledFile(f, label)));
            }
            return new ImageFolderLayout(classes, Labelled(trainFiles), test.OrderBy(f => f.Label).ToArray());
        }
        if (validationFraction is not { } fraction)
            throw new ArgumentException($"{directory} has no test/ folder: add test/<class>/ folders or pass --val-fraction F to hold out part of the training images");
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentException($"--val-fraction must be between 0 and 1, got {fraction}");
        return HoldOut(classes, trainFiles, fraction);
    }

    static List<string> ClassFolders(string root) =>
        Directory.EnumerateDirectories(root)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();

    static string[] ImagesIn(string classFolder)
    {
        var files = Directory.EnumerateFiles(classFolder)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0) throw MalformedFile.Error(classFolder, $"class folder has no images ({string.Join(", ", Extensions)})");
        return files;
    }

    static LabelledFile[] Labelled(string[][] filesPerClass) =>
        filesPerClass.SelectMany((files, label) => files.Select(f => new LabelledFile(f, label))).ToArray();

    /// <summary>round(fraction x n) images of each class, at most all but one, drawn by a fixed seed so every run holds out the same.</summary>
    static ImageFolderLayout HoldOut(string[] classes, string[][] filesPerClass, double fraction)
    {
        var train = new List<LabelledFile>();
        var test = new List<LabelledFile>();
        for (int label = 0; label < classes.Length; label++)
        {
            var files = filesPerClass[label];
            int held = Math.Min((int)Math.Round(fraction * files.Length), files.Length - 1);
            var random = SplitMix64.For(label);
            var order = Enumerable.Range(0, files.Length).ToArray();
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = random.NextInt(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            var heldOut = order.Take(held).ToHashSet();
            for (int i = 0; i < files.Length; i++)
                (heldOut.Contains(i) ? test : train).Add(new LabelledFile(files[i], label));
        }
        if (test.Count == 0) throw new ArgumentException($"--val-fraction {fraction} holds out no image; the classes have {string.Join(", ", filesPerClass.Select(f => f.Length))} images");
        return new ImageFolderLayout(classes, train, test);
    }
}
