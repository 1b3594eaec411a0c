using System.CommandLine;
using System.Globalization;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Export;
using RevNetIlgpu.RevNet.Inference;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Cli.Commands;

/// <summary>
/// <c>revnet export CHECKPOINT OUT.onnx [--opset 17] [--verify [--data DIR]]</c>: writes the checkpoint's inference graph as
/// ONNX (<see cref="OnnxExporter"/>). With --verify, runs the file in ONNX Runtime on the first 256 test images beside this
/// engine's evaluation forward and ends with <c>export: OUT.onnx max_abs_logit_diff=… top1_agreement=…</c>.
/// </summary>
public static class ExportCommand
{
    /// <summary>Test images --verify compares on.</summary>
    public const int VerifyImages = 256;

    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "a .safetensors checkpoint written by `revnet train`" };
        var output = new Argument<string>("output") { Description = "the .onnx file to write" };
        var opset = new Option<int>("--opset") { Description = $"ONNX operator set ({OnnxExporter.MinOpset}..{OnnxExporter.MaxOpset})", DefaultValueFactory = _ => OnnxExporter.DefaultOpset };
        var verify = new Option<bool>("--verify") { Description = $"run the file in ONNX Runtime on the first {VerifyImages} test images and compare logits with this engine" };
        var data = new Option<string?>("--data") { Description = "--verify: dataset directory (default: the dataset's default location)" };
        var valFraction = new Option<double?>("--val-fraction") { Description = "--verify on an image folder without test/: the --val-fraction it was trained with" };
        var device = new DeviceOptions();
        var command = new Command("export", "write a checkpoint's model as ONNX (--verify: check it in ONNX Runtime)") { checkpoint, output, opset, verify, data, valFraction };
        device.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!, onnxPath = parse.GetValue(output)!;
            using var dev = device.Open(parse);
            using var classifier = TrainedClassifier.Load(dev, path);
            var model = OnnxExporter.Build(classifier, parse.GetValue(opset));
            OnnxExporter.Save(model, onnxPath);
            var (c, h, w) = (classifier.Channels, classifier.Metadata.Height, classifier.Metadata.Width);
            Console.WriteLine($"wrote {onnxPath}: opset {parse.GetValue(opset)}, {model.Graph.Node.Count} nodes, {OnnxExporter.InputName} [batch,{c},{h},{w}] -> " +
                $"{OnnxExporter.LogitsName}, {OnnxExporter.ProbabilitiesName} [batch,{classifier.Metadata.ClassNames.Count}]");
            if (!parse.GetValue(verify)) return 0;

            var test = TestImages(classifier, parse.GetValue(data), parse.GetValue(valFraction));
            if (test.Channels != c || test.Height != h || test.Width != w || test.ClassCount != classifier.Model.Config.Classes)
                throw new InvalidDataException($"{test.Name} has {test.Channels}x{test.Height}x{test.Width} images of {test.ClassCount} classes; {path} takes {c}x{h}x{w} and {classifier.Model.Config.Classes}");
            var engine = classifier.Logits(test.Images, test.Count);
            var onnx = OnnxRuntimeCheck.Logits(onnxPath, test.Images, test.Count, c, h, w);
            var agreement = OnnxRuntimeCheck.Compare(onnx, engine, classifier.Model.Config.Classes);
            Console.WriteLine($"ONNX Runtime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()} (CPU) and this engine ({dev.Name}) on the first {test.Count} images of {test.Name}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"export: {onnxPath} max_abs_logit_diff={agreement.MaxAbsLogitDiff:G3} top1_agreement={agreement.Top1Agreement:0.####}"));
            return 0;
        });
        return command;
    }

    /// <summary>The first test images of the checkpoint's dataset, prepared as for training (an image folder at the checkpoint's input size).</summary>
    static ImageDataset TestImages(TrainedClassifier classifier, string? directory, double? valFraction)
    {
        return DatasetCatalog.Load(classifier.CheckpointMetadata.GetValueOrDefault("dataset", "fashion-mnist"), directory, train: false, VerifyImages,
            classifier.Metadata.FolderOptions(classifier.Channels, valFraction));
    }
}
