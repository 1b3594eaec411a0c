namespace RevNetIlgpu.RevNet.Data;

/// <summary>The class names of the built-in datasets, in label order, as their official files define them.</summary>
public static class ClassNames
{
    /// <summary>Fashion-MNIST's ten classes, as its README names them.</summary>
    public static IReadOnlyList<string> FashionMnist { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MNIST's digits "0" to "9".</summary>
    public static IReadOnlyList<string> Mnist { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>batches.meta.txt of the CIFAR-10 binary version.</summary>
    public static IReadOnlyList<string> Cifar10 { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>fine_label_names.txt of the CIFAR-100 binary version (the fine labels are the classes).</summary>
    public static IReadOnlyList<string> Cifar100 { get; } =
    [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    ];

    /// <summary>The names of <paramref name="data"/>'s classes: its own (an image folder's), else <see cref="ForDataset"/>.</summary>
    public static IReadOnlyList<string> Of(string dataset, ImageDataset data) => data.ClassNames ?? ForDataset(dataset, data.ClassCount);

    /// <summary>The built-in <paramref name="dataset"/>'s names when it has <paramref name="classCount"/> classes, else the label numbers.</summary>
    public static IReadOnlyList<string> ForDataset(string dataset, int classCount)
    {
        IReadOnlyList<string>? known = dataset.ToLowerInvariant() switch
        {
            "fashion-mnist" => FashionMnist,
            "mnist" => Mnist,
            "cifar10" => Cifar10,
            "cifar100" => Cifar100,
            _ => null,
        };
        return known is not null && known.Count == classCount
            ? known
            : Enumerable.Range(0, classCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }
}
