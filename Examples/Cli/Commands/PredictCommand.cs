using System.CommandLine;
using System.Globalization;
using RevNetIlgpu.RevNet.Inference;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet predict CHECKPOINT IMAGE... [--top K]</c>: classifies image files (PNG, JPEG) with a trained checkpoint, resized
/// and centre-cropped to its input size; one line per image: the path, then the K most likely classes, each as its name
/// and probability, separated by tabs (class names may hold spaces).
/// </summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "a .safetensors checkpoint written by `revnet train`" };
        var images = new Argument<string[]>("images") { Description = "image files (PNG or JPEG)", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top") { Description = "print the K most likely classes", DefaultValueFactory = _ => 1 };
        var device = new DeviceOptions();
        var command = new Command("predict", "classify image files with a trained checkpoint: path, class name, probability") { checkpoint, images, top };
        device.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!;
            var files = parse.GetValue(images)!;
            int k = parse.GetValue(top);
            using var dev = device.Open(parse);
            using var classifier = TrainedClassifier.Load(dev, path);
            var names = classifier.Metadata.ClassNames;
            if (k < 1 || k > names.Count) throw new ArgumentException($"--top must be in 1..{names.Count} (the model's classes), got {k}");
            int imageSize = classifier.Channels * classifier.Metadata.Height * classifier.Metadata.Width;
            var pixels = new float[(long)files.Length * imageSize];
            for (int i = 0; i < files.Length; i++) classifier.ReadImage(files[i]).CopyTo(pixels, (long)i * imageSize);
            var probabilities = TrainedClassifier.Softmax(classifier.Logits(pixels, files.Length), names.Count);
            for (int i = 0; i < files.Length; i++)
            {
                var row = probabilities.AsSpan(i * names.Count, names.Count).ToArray();
                var best = Enumerable.Range(0, names.Count).OrderByDescending(c => row[c]).ThenBy(c => c).Take(k);
                Console.WriteLine(string.Join('\t', best.Select(c => string.Create(CultureInfo.InvariantCulture, $"{names[c]}\t{row[c]:F4}")).Prepend(files[i])));
            }
            return 0;
        });
        return command;
    }
}
